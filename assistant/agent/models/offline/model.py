"""`OfflineShopModel`: a deterministic, rule-based, tool-calling LangChain chat model.

It lets the whole shop run and be tested with no model weights and no network (DESIGN decision
4). It speaks the ordinary chat-model interface, so the graph, streaming and the checkpointer
cannot tell it from Claude on Bedrock:

    >>> from langchain_core.messages import HumanMessage
    >>> from assistant.agent.models.offline.model import OfflineShopModel
    >>> model = OfflineShopModel().bind_tools(shop_tools)          # doctest: +SKIP
    >>> model.invoke([HumanMessage("red running shoes under $120")]).tool_calls  # doctest: +SKIP
    [{'name': 'search_products', 'args': {'category': 'running', 'color': 'red',
      'max_price': 120.0}, 'id': 'call_…', 'type': 'tool_call'}]

The rules live in `decide.py` (what to do) and `parse.py` (what a message says); the shop's words
come from `assistant.shopdb.vocabulary`, the same catalog search reads.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from assistant.agent.models.offline.conversation import message_text
from assistant.agent.models.offline.decide import Decision, decide
from assistant.agent.models.offline.replies import lead_in
from assistant.shopdb.vocabulary import load_vocabulary

MODEL_NAME = "offline-shop-model"


def conversation_fingerprint(messages: Sequence[BaseMessage]) -> str:
    """A stable digest of what the conversation says (types, text, tool calls, tool results).

    Message ids are left out on purpose: LangGraph gives each message a random id, and a replay
    or fork of the same conversation must still give the same tool-call ids.
    """
    digest = hashlib.sha256()
    for message in messages:
        calls = [
            [call["name"], call.get("args"), call.get("id")]
            for call in getattr(message, "tool_calls", None) or []
        ]
        record = [
            message.type,
            message_text(message),
            calls,
            getattr(message, "tool_call_id", None),
        ]
        digest.update(json.dumps(record, sort_keys=True, default=str).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def tool_names_of(tools: Sequence[dict[str, Any]] | None) -> list[str] | None:
    """Names of tools in OpenAI tool format (what `bind_tools` stores), None if none bound."""
    if tools is None:
        return None
    names = []
    for tool in tools:
        function = tool.get("function", tool) if isinstance(tool, dict) else {}
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names


class OfflineShopModel(BaseChatModel):
    """Deterministic rule-based chat model for the shoe shop; calls only the tools bound to it.

    Example:
        ```python
        from assistant.agent.models.offline.model import OfflineShopModel
        from assistant.agent.tools import SHOP_TOOLS

        model = OfflineShopModel().bind_tools(SHOP_TOOLS)
        reply = model.invoke([("human", "women's trail shoes under $150")])
        reply.tool_calls[0]["name"]  # "search_products"
        ```

    Same conversation in, same message out (tool-call ids included), so replays and forks of a
    checkpoint behave exactly like the original run.
    """

    model_name: str = MODEL_NAME
    """Name shown in the UI and in response metadata."""

    catalog_path: Path | None = None
    """Catalog data file to read brands and colours from; None means the shop's own
    (`assistant.shopdb.vocabulary.DEFAULT_CATALOG_PATH`)."""

    @property
    def _llm_type(self) -> str:
        return "offline-shop"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools; the model will only ever call tools among these (by name).

        Returns a RunnableBinding whose `kwargs["tools"]` lists the tools in OpenAI format, as
        every LangChain chat model does, so LangGraph's `create_react_agent` and `ToolNode` see
        the usual shape. `tool_choice` is accepted for compatibility and otherwise ignored: the
        rules decide whether a tool is needed.
        """
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return super().bind(tools=formatted, **kwargs)

    def respond(
        self, messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]] | None = None
    ) -> AIMessage:
        """The AIMessage the model answers `messages` with, given the bound `tools`."""
        decision = self._decide(messages, tools)
        fingerprint = conversation_fingerprint(messages)
        return AIMessage(
            content=decision.text or lead_in(decision.tool_calls),
            tool_calls=[
                {
                    "name": name,
                    "args": args,
                    "id": f"call_{_call_id(fingerprint, index, name)}",
                    "type": "tool_call",
                }
                for index, (name, args) in enumerate(decision.tool_calls)
            ],
            response_metadata={"model_name": self.model_name, "model_provider": "offline"},
        )

    def _decide(
        self, messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]] | None
    ) -> Decision:
        try:
            return decide(messages, tool_names_of(tools), load_vocabulary(self.catalog_path))
        except Exception:
            # A rule-based model must never take the conversation down with it: whatever
            # slipped through the rules becomes a plain apology the shopper can act on.
            return Decision(
                "Sorry, I got confused by that. Could you rephrase it? For example "
                '"show me running shoes" or "what\'s in my cart?".'
            )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self.respond(messages, kwargs.get("tools"))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """Stream the reply word by word, then one chunk per tool call.

        The chunks add up to exactly the message `_generate` returns.
        """
        message = self.respond(messages, kwargs.get("tools"))
        text = message.content if isinstance(message.content, str) else ""
        pieces = [piece for piece in re.split(r"(?<=\s)(?=\S)", text) if piece]
        for piece in pieces:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
        for index, call in enumerate(message.tool_calls):
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    tool_call_chunks=[
                        {
                            "name": call["name"],
                            "args": json.dumps(call["args"]),
                            "id": call["id"],
                            "index": index,
                            "type": "tool_call_chunk",
                        }
                    ],
                )
            )
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="", response_metadata=message.response_metadata, chunk_position="last"
            )
        )


def _call_id(fingerprint: str, index: int, name: str) -> str:
    """A tool-call id derived from the conversation, so a replay gives the same id."""
    return hashlib.sha256(f"{fingerprint}:{index}:{name}".encode()).hexdigest()[:24]
