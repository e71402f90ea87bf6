"""The conversation on screen: past turns read back from the session, the new turn streamed.

Past turns are rendered from `Shop.messages(session_id)`, the state of the session's current
branch, so what the shopper sees is always what the checkpoints hold (after a reload, a replay or
a fork alike). Tool calls show as one compact line each; tool results are not shown, except the
checkout's outcome, which is what the shopper waits for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import streamlit as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from assistant.shop import Shop
from assistant.turns import TurnResult, describe_tool_call, last_products
from ui.components.products import product_cards
from ui.errors import readable

SHOPPER_AVATAR = ":material/person:"
ASSISTANT_AVATAR = ":material/storefront:"


@dataclass
class Turn:
    """One shopper message and everything the assistant did about it."""

    question: HumanMessage | None
    answers: list[BaseMessage] = field(default_factory=list)

    @property
    def products(self) -> list[dict]:
        """Products the turn's last search (or detail lookup) returned."""
        return last_products([m for m in (self.question, *self.answers) if m is not None])


def split_turns(messages: list[BaseMessage]) -> list[Turn]:
    """Group the messages into turns, each starting at a shopper message."""
    turns: list[Turn] = []
    for message in messages:
        if isinstance(message, HumanMessage):
            turns.append(Turn(message))
        elif turns:
            turns[-1].answers.append(message)
        else:
            turns.append(Turn(None, [message]))
    return turns


def conversation(messages: list[BaseMessage]) -> None:
    """Every turn of the conversation; cards for the most recent products shown."""
    turns = split_turns(messages)
    with_products = [index for index, turn in enumerate(turns) if turn.products]
    latest_products = with_products[-1] if with_products else None
    for index, turn in enumerate(turns):
        if turn.question is not None:
            with st.chat_message("user", avatar=SHOPPER_AVATAR):
                st.markdown(turn.question.text)
        if not turn.answers:
            continue
        with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
            answer(turn, show_products=index == latest_products, key=f"turn-{index}")


def answer(turn: Turn, *, show_products: bool, key: str) -> None:
    """The assistant's side of one turn: tool lines, checkout outcome, reply, product cards."""
    for message in turn.answers:
        if isinstance(message, AIMessage):
            for call in message.tool_calls or []:
                st.caption(f":material/build: `{describe_tool_call(call)}`")
            if message.text:
                st.markdown(message.text)
        elif isinstance(message, ToolMessage) and message.name == "checkout":
            checkout_outcome(message)
    products = turn.products
    if products and show_products:
        product_cards(products, key=key)
    elif products:
        with st.expander(f"{len(products)} products shown", icon=":material/steps:"):
            product_cards(products, key=key)


def checkout_outcome(message: ToolMessage) -> None:
    """The store's decision on a checkout, as the shopper reads it."""
    try:
        body = json.loads(message.content)
    except (TypeError, ValueError):
        return
    status = body.get("status")
    with st.container(key=f"checkout-outcome-{status or 'none'}"):
        if status in ("approved", "edited"):
            discount = body.get("discount_pct") or 0
            note = f" with a {discount:g}% discount" if discount else ""
            edited = " (edited by the store)" if status == "edited" else ""
            st.success(
                f"Order **{body.get('order_id')}** approved{edited}{note}: "
                f"total **${float(body.get('total', 0)):,.2f}**.",
                icon=":material/check_circle:",
            )
        elif status == "rejected":
            st.error(
                f"The store declined the order: {body.get('reason') or 'no reason given'}.",
                icon=":material/block:",
            )
        elif body.get("error"):
            st.warning(body["error"], icon=":material/warning:")


def stream_turn(
    shop: Shop, username: str, session_id: str, text: str
) -> tuple[TurnResult | None, str | None]:
    """Show the shopper's message and stream the reply; return (result, error message)."""
    with st.chat_message("user", avatar=SHOPPER_AVATAR):
        st.markdown(text)
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        activity = st.empty()
        status = None
        outcome: dict = {}

        def tokens():
            nonlocal status
            for event in shop.stream(username, session_id, text):
                if event.kind == "token":
                    yield event.text
                elif event.kind == "tool":
                    if status is None:
                        status = activity.status("Working…", expanded=False)
                    status.update(label=f"Running `{event.text}`")
                    status.markdown(f":material/build: `{event.text}`")
                elif event.kind == "done":
                    outcome["result"] = event.result

        try:
            st.write_stream(tokens())
        except Exception as error:  # shown by the page after its rerun; nothing is lost
            if status is not None:
                status.update(label="Stopped", state="error")
            return None, readable(error, "answering your message")
        if status is not None:
            result = outcome.get("result")
            count = len(result.tool_activity) if result else 0
            status.update(label=f"Used {count} tool{'s' if count != 1 else ''}", state="complete")
    return outcome.get("result"), None
