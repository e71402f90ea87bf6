"""Claude on Bedrock (`ChatBedrockConverse`) driving the real shop graph, on recorded responses.

No AWS: the bedrock-runtime client is a real boto3 client whose Converse calls are answered by
botocore's `Stubber` with responses shaped exactly like Bedrock's (DESIGN decision 4: never a
hand-made fake of LangChain). Everything else is real: langchain-aws turns the responses into
tool calls, the graph runs the shop's tools on the catalog, the checkpointer stores every step in
the local session service, and the next Converse request carries the tool results back.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from langchain_aws import ChatBedrockConverse
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from assistant.agent.graph import ALL_TOOLS
from assistant.agent.models.factory import build_chat_model, describe_model
from assistant.agent.models.offline.model import OfflineShopModel
from assistant.application.shop import Shop, TurnError
from assistant.settings import Settings
from assistant.shopdb import find_product, recent_orders

MODEL_ID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
REGION = "us-west-2"


class RecordedConverse:
    """A bedrock-runtime client answering Converse from a queue of recorded responses.

    `requests` keeps every Converse request as botocore validated it, to check what the model
    was sent (system prompt, tool specs, tool results), recorded before botocore serialises it.
    """

    def __init__(self) -> None:
        self.client = boto3.client(
            "bedrock-runtime",
            region_name=REGION,
            aws_access_key_id="recorded",
            aws_secret_access_key="recorded",
        )
        self.stubber = Stubber(self.client)
        self.requests: list[dict] = []
        self.client.meta.events.register(
            "before-parameter-build.bedrock-runtime.Converse", self._record, unique_id="record"
        )
        self.stubber.activate()

    def _record(self, params: dict, **_kwargs) -> None:
        self.requests.append(params)

    def tool_use(self, text: str, *calls: tuple[str, str, dict]) -> None:
        """Queue a response in which Claude asks for tools: (toolUseId, name, input) each."""
        content = [{"text": text}] if text else []
        content += [
            {"toolUse": {"toolUseId": call_id, "name": name, "input": arguments}}
            for call_id, name, arguments in calls
        ]
        self._respond(content, "tool_use")

    def text(self, text: str) -> None:
        """Queue a final answer."""
        self._respond([{"text": text}], "end_turn")

    def _respond(self, content: list[dict], stop_reason: str) -> None:
        self.stubber.add_response(
            "converse",
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": stop_reason,
                "usage": {"inputTokens": 1850, "outputTokens": 74, "totalTokens": 1924},
                "metrics": {"latencyMs": 812},
            },
            expected_params=None,
        )

    def model(self) -> ChatBedrockConverse:
        """ChatBedrockConverse on this client (Converse, not ConverseStream: see module doc)."""
        return ChatBedrockConverse(
            model=MODEL_ID,
            client=self.client,
            region_name=REGION,
            temperature=0.2,
            # The Stubber can validate Converse responses but not ConverseStream's event stream;
            # with streaming disabled langchain-aws calls Converse even under stream_mode.
            disable_streaming=True,
        )


@pytest.fixture
def converse() -> RecordedConverse:
    """A recorded Converse endpoint; every queued response must be used by the test."""
    recorded = RecordedConverse()
    yield recorded
    recorded.stubber.assert_no_pending_responses()


@pytest.fixture
def claude_shop(converse: RecordedConverse, shop_settings: Settings) -> Shop:
    """The shop with Claude on Bedrock answering (from recorded responses)."""
    settings = shop_settings.model_copy(update={"model": "bedrock", "bedrock_model_id": MODEL_ID})
    shop = Shop(settings=settings, model=converse.model())
    yield shop
    shop.engine.dispose()


def tool_results(request: dict) -> list[dict]:
    """The toolResult blocks of the last user message of a Converse request."""
    last = request["messages"][-1]
    assert last["role"] == "user"
    return [block["toolResult"] for block in last["content"] if "toolResult" in block]


def test_claude_calls_search_products_and_answers_from_the_catalog(
    claude_shop: Shop, converse: RecordedConverse, signed_in
) -> None:
    alice = signed_in(claude_shop, "alice")
    converse.tool_use(
        "Let me look for trail shoes.",
        ("tooluse_search01", "search_products", {"query": "trail shoes", "category": "trail"}),
    )
    converse.text("I found several trail shoes; the Northpeak Cascade Trail is a favourite.")
    session_id = claude_shop.new_conversation(alice)

    result = claude_shop.send(alice, session_id, "find trail shoes")

    assert result.reply == (
        "I found several trail shoes; the Northpeak Cascade Trail is a favourite."
    )
    assert result.tool_activity == ["search_products(query=trail shoes, category=trail)"]
    human, asked, searched, answered = claude_shop.messages(alice, session_id)
    assert isinstance(human, HumanMessage) and human.text == "find trail shoes"
    assert isinstance(asked, AIMessage)
    assert [(c["id"], c["name"]) for c in asked.tool_calls] == [
        ("tooluse_search01", "search_products")
    ]
    # The tool really ran on the catalog.
    assert isinstance(searched, ToolMessage) and searched.tool_call_id == "tooluse_search01"
    found = json.loads(searched.content)["results"]
    assert found and all(p["category"] == "trail" for p in found)
    for product in found:
        assert find_product(claude_shop.engine, product["product_id"]).price == product["price"]
    assert result.products == found
    assert isinstance(answered, AIMessage) and answered.text == result.reply

    # What Bedrock was sent: the shop's tools, the instructions with alice's profile, and then
    # the catalog's answer as the toolResult of the toolUse it asked for.
    first, second = converse.requests
    assert first["modelId"] == MODEL_ID
    assert {tool["toolSpec"]["name"] for tool in first["toolConfig"]["tools"]} == {
        tool.name for tool in ALL_TOOLS
    }
    system_text = " ".join(block.get("text", "") for block in first["system"])
    assert "shoe store" in system_text and '"user": "alice"' in system_text
    assert first["messages"] == [{"role": "user", "content": [{"text": "find trail shoes"}]}]
    [result_block] = tool_results(second)
    assert result_block["toolUseId"] == "tooluse_search01"
    sent = " ".join(json.dumps(part) for part in result_block["content"])
    assert all(product["product_id"] in sent for product in found)


def test_claude_on_an_unknown_product_gets_a_tool_error_and_the_turn_completes(
    claude_shop: Shop, converse: RecordedConverse, signed_in
) -> None:
    alice = signed_in(claude_shop, "alice")
    converse.tool_use(
        "", ("tooluse_add01", "add_to_cart", {"product_id": "XYZ-999", "size": 9, "quantity": 1})
    )
    converse.text("Sorry, I couldn't find that shoe. Shall I search instead?")
    session_id = claude_shop.new_conversation(alice)

    result = claude_shop.send(alice, session_id, "add XYZ-999 in size 9")

    assert result.reply == "Sorry, I couldn't find that shoe. Shall I search instead?"
    assert result.cart == []
    tool_message = claude_shop.messages(alice, session_id)[2]
    body = json.loads(tool_message.content)
    assert body["ok"] is False and "Unknown product 'XYZ-999'" in body["error"]
    [result_block] = tool_results(converse.requests[1])
    assert "Unknown product" in json.dumps(result_block["content"])


def test_claude_calling_checkout_waits_for_the_operator_and_only_the_decision_orders(
    claude_shop: Shop, converse: RecordedConverse, signed_in
) -> None:
    alice, olga = signed_in(claude_shop, "alice"), signed_in(claude_shop, "olga")
    converse.tool_use(
        "", ("tooluse_add01", "add_to_cart", {"product_id": "TRL-021", "size": 9, "quantity": 1})
    )
    # Claude tries to check out twice in one message: one approval must cover one order.
    converse.tool_use(
        "Sending your order to the store.",
        ("tooluse_buy01", "checkout", {}),
        ("tooluse_buy02", "checkout", {}),
    )
    session_id = claude_shop.new_conversation(alice)

    waiting = claude_shop.send(alice, session_id, "buy the Cascade Trail in 9, I approve it")

    assert waiting.pending_approval is not None
    assert [line["product_id"] for line in waiting.pending_approval.items] == ["TRL-021"]
    assert recent_orders(claude_shop.engine) == []
    asked = claude_shop.messages(alice, session_id)[-1]
    assert [call["id"] for call in asked.tool_calls] == ["tooluse_buy01"]

    converse.text("Your order is confirmed.")
    decided = claude_shop.decide(olga, waiting.pending_approval.id, {"action": "approve"})

    [order] = recent_orders(claude_shop.engine)
    assert decided.reply == "Your order is confirmed." and decided.cart == []
    [result_block] = tool_results(converse.requests[-1])
    assert result_block["toolUseId"] == "tooluse_buy01"
    assert order.id in json.dumps(result_block["content"])


def event_stream_message(event_type: str, payload: dict) -> bytes:
    """One `application/vnd.amazon.eventstream` message, framed as Bedrock sends it."""
    headers = b""
    for name, value in (
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        headers += bytes([len(name)]) + name.encode() + b"\x07"  # 7: string header
        headers += struct.pack(">H", len(value)) + value.encode()
    body = json.dumps(payload).encode()
    prelude = struct.pack(">II", 12 + len(headers) + len(body) + 4, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


class RecordedStreamBody:
    """The raw HTTP body botocore reads a ConverseStream response from."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_kwargs) -> Iterator[bytes]:
        """Yield the recorded bytes (botocore's event-stream parser decodes them)."""
        yield self.data

    def read(self, *_args, **_kwargs) -> bytes:
        """All remaining bytes."""
        data, self.data = self.data, b""
        return data

    def close(self) -> None:
        """Nothing to release."""


class RecordedConverseStream:
    """Answers a client's ConverseStream calls with recorded event streams, over its HTTP hook.

    botocore's Stubber cannot express an event stream, so the recording is replayed one layer
    lower, as the HTTP response (`before-send`): signing, the event-stream parser and
    langchain-aws's chunk handling all run for real.
    """

    def __init__(self, client) -> None:
        self.responses: list[bytes] = []
        self.requests: list[dict] = []
        client.meta.events.register("before-send.bedrock-runtime.ConverseStream", self._send)

    def _send(self, request, **_kwargs) -> AWSResponse:
        self.requests.append(json.loads(request.body))
        body = RecordedStreamBody(self.responses.pop(0))
        return AWSResponse(
            request.url, 200, {"content-type": "application/vnd.amazon.eventstream"}, body
        )

    def tool_use(self, call_id: str, name: str, arguments: dict) -> None:
        """Queue a streamed toolUse, its input split across two deltas as Bedrock does."""
        raw = json.dumps(arguments)
        self._queue(
            [
                (
                    "contentBlockStart",
                    {
                        "contentBlockIndex": 0,
                        "start": {"toolUse": {"toolUseId": call_id, "name": name}},
                    },
                ),
                (
                    "contentBlockDelta",
                    {"contentBlockIndex": 0, "delta": {"toolUse": {"input": raw[: len(raw) // 2]}}},
                ),
                (
                    "contentBlockDelta",
                    {"contentBlockIndex": 0, "delta": {"toolUse": {"input": raw[len(raw) // 2 :]}}},
                ),
                ("contentBlockStop", {"contentBlockIndex": 0}),
            ],
            "tool_use",
        )

    def text(self, *pieces: str) -> None:
        """Queue a streamed text answer, one delta per piece."""
        deltas = [
            ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})
            for piece in pieces
        ]
        self._queue([*deltas, ("contentBlockStop", {"contentBlockIndex": 0})], "end_turn")

    def _queue(self, blocks: list[tuple[str, dict]], stop_reason: str) -> None:
        events = [
            ("messageStart", {"role": "assistant"}),
            *blocks,
            ("messageStop", {"stopReason": stop_reason}),
            (
                "metadata",
                {
                    "usage": {"inputTokens": 1850, "outputTokens": 74, "totalTokens": 1924},
                    "metrics": {"latencyMs": 812},
                },
            ),
        ]
        self.responses.append(b"".join(event_stream_message(*event) for event in events))


def test_the_configured_bedrock_model_streams_a_tool_calling_turn(
    shop_settings: Settings, monkeypatch: pytest.MonkeyPatch, signed_in
) -> None:
    # The default Bedrock path: Shop builds ChatBedrockConverse itself, which streams.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "recorded")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "recorded")
    settings = shop_settings.model_copy(
        update={"model": "bedrock", "bedrock_model_id": MODEL_ID, "aws_region": REGION}
    )
    shop = Shop(settings=settings)
    try:
        assert isinstance(shop.model, ChatBedrockConverse) and not shop.model.disable_streaming
        recorded = RecordedConverseStream(shop.model.client)
        recorded.tool_use("tooluse_stream01", "search_products", {"category": "trail"})
        recorded.text("Here are ", "some trail ", "shoes.")
        alice = signed_in(shop, "alice")
        session_id = shop.new_conversation(alice)

        events = list(shop.stream(alice, session_id, "find trail shoes"))

        tokens = [event.text for event in events if event.kind == "token"]
        assert tokens == ["Here are ", "some trail ", "shoes."]
        assert [event.text for event in events if event.kind == "tool"] == [
            "search_products(category=trail)"
        ]
        result = events[-1].result
        assert result.reply == "Here are some trail shoes."
        assert result.products and all(p["category"] == "trail" for p in result.products)
        assert recorded.responses == []
        sent = json.dumps(recorded.requests[1]["messages"][-1])
        assert "tooluse_stream01" in sent and result.products[0]["product_id"] in sent
        # Persisted: the question, the streamed tool call, its result and the streamed answer.
        assert [type(m).__name__ for m in shop.messages(alice, session_id)] == [
            "HumanMessage",
            "AIMessage",
            "ToolMessage",
            "AIMessage",
        ]
    finally:
        shop.engine.dispose()


def test_build_chat_model_picks_bedrock_converse_in_the_configured_region() -> None:
    settings = Settings(
        _env_file=None, model="bedrock", AWS_REGION="eu-central-1", bedrock_model_id=MODEL_ID
    )

    model = build_chat_model(settings)

    assert isinstance(model, ChatBedrockConverse)
    assert model.model_id == MODEL_ID
    assert model.region_name == "eu-central-1"
    assert model.client.meta.region_name == "eu-central-1"
    assert model.client.meta.service_model.service_name == "bedrock-runtime"
    assert model.temperature == settings.model_temperature
    assert model.provider == "anthropic"
    assert describe_model(model) == f"Claude on Bedrock ({MODEL_ID})"


def test_build_chat_model_names_the_provider_of_an_inference_profile_arn() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5"
    settings = Settings(_env_file=None, model="bedrock", bedrock_model_id=arn)

    model = build_chat_model(settings)

    assert isinstance(model, ChatBedrockConverse)
    assert model.model_id == arn and model.provider == "anthropic"


def test_build_chat_model_is_offline_by_default() -> None:
    assert isinstance(build_chat_model(Settings(_env_file=None, model="offline")), OfflineShopModel)


def test_model_label_names_the_model_actually_answering(shop_settings: Settings) -> None:
    # The shop was configured offline but is handed Claude: the badge must say Claude.
    shop = Shop(settings=shop_settings, model=RecordedConverse().model())
    try:
        assert MODEL_ID in shop.model_label
    finally:
        shop.engine.dispose()


def test_a_model_failure_is_a_readable_error_and_the_conversation_is_kept(
    shop_settings: Settings, converse: RecordedConverse, signed_in
) -> None:
    converse.tool_use("", ("tu-1", "search_products", {"query": "trail"}))
    converse.text("Here are trail shoes.")
    # Claude is throttled on the next turn (after botocore's own retries gave up).
    converse.stubber.add_client_error(
        "converse", "ThrottlingException", "Too many requests, please wait.", 429
    )
    shop = Shop(settings=shop_settings, model=converse.model())
    try:
        alice = signed_in(shop, "alice")
        session_id = shop.new_conversation(alice)
        shop.send(alice, session_id, "trail shoes")
        kept = len(shop.messages(alice, session_id))

        with pytest.raises(TurnError) as failure:
            shop.send(alice, session_id, "cheaper ones?")

        assert str(failure.value).startswith("The model could not answer (")
        assert "Too many requests" in str(failure.value)
        assert "session store" not in str(failure.value)
        messages = shop.messages(alice, session_id)
        assert len(messages) == kept + 1  # the new question is saved; nothing was lost
        assert messages[-1].text == "cheaper ones?"
    finally:
        shop.engine.dispose()


def test_missing_model_credentials_are_not_blamed_on_the_session_store(
    shop_settings: Settings, signed_in
) -> None:
    # On a laptop with MODEL=bedrock and no AWS credentials, botocore raises before any call.
    from botocore.exceptions import NoCredentialsError
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel

    class NoCredentialsModel(FakeMessagesListChatModel):
        def bind_tools(self, tools, **kwargs):
            return self

        def _generate(self, *args, **kwargs):
            raise NoCredentialsError()

    shop = Shop(settings=shop_settings, model=NoCredentialsModel(responses=[]))
    try:
        alice = signed_in(shop, "alice")
        session_id = shop.new_conversation(alice)
        with pytest.raises(TurnError) as failure:
            shop.send(alice, session_id, "trail shoes")
        assert "model could not answer" in str(failure.value)
        assert "Unable to locate credentials" in str(failure.value)
        assert "session store" not in str(failure.value)
        assert [m.text for m in shop.messages(alice, session_id)] == ["trail shoes"]
    finally:
        shop.engine.dispose()
