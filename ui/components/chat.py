"""The conversation on screen: past turns read back from the session, the new turn streamed.

Past turns are rendered from `Shop.chat(session_id)`, the state of the session's current branch
as `ChatTurn` views, so what the shopper sees is always what the checkpoints hold (after a reload,
a replay or a fork alike). Tool calls show as one compact line each; of tool results only the
checkout's outcome is shown, which is what the shopper waits for.
"""

from __future__ import annotations

import uuid

import streamlit as st

from assistant.application import ChatTurn, CheckoutOutcome, Principal, Shop, TurnResult
from ui.components.products import product_cards
from ui.errors import readable

SHOPPER_AVATAR = ":material/person:"
_UNSENT = "chat.unsent"  # the message being sent, until the shop has answered it
ASSISTANT_AVATAR = ":material/storefront:"


def conversation(turns: list[ChatTurn]) -> None:
    """Every turn of the conversation; cards for the most recent products shown."""
    with_products = [index for index, turn in enumerate(turns) if turn.products]
    latest_products = with_products[-1] if with_products else None
    for index, turn in enumerate(turns):
        if turn.shopper is not None:
            with st.chat_message("user", avatar=SHOPPER_AVATAR):
                st.markdown(turn.shopper)
        if not turn.replies and not turn.products:
            continue
        with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
            answer(turn, show_products=index == latest_products, key=f"turn-{index}")


def answer(turn: ChatTurn, *, show_products: bool, key: str) -> None:
    """The assistant's side of one turn: tool lines, checkout outcome, reply, product cards."""
    for reply in turn.replies:
        for call in reply.tool_calls:
            st.caption(f":material/build: `{call}`")
        if reply.text:
            st.markdown(reply.text)
        if reply.checkout is not None:
            checkout_outcome(reply.checkout)
    if turn.products and show_products:
        product_cards(turn.products, key=key)
    elif turn.products:
        with st.expander(f"{len(turn.products)} products shown", icon=":material/steps:"):
            product_cards(turn.products, key=key)


def checkout_outcome(outcome: CheckoutOutcome) -> None:
    """The store's decision on a checkout, as the shopper reads it."""
    with st.container(key=f"checkout-outcome-{outcome.status or 'none'}"):
        if outcome.status in ("approved", "edited"):
            note = f" with a {outcome.discount_pct:g}% discount" if outcome.discount_pct else ""
            edited = " (edited by the store)" if outcome.status == "edited" else ""
            told = f"  \nNote from the store: {outcome.reason}" if outcome.reason else ""
            st.success(
                f"Order **{outcome.order_id}** approved{edited}{note}: "
                f"total **${float(outcome.total or 0):,.2f}**.{told}",
                icon=":material/check_circle:",
            )
        elif outcome.status == "cancelled":
            st.info(
                "You cancelled this checkout: nothing was ordered and your cart is as it was.",
                icon=":material/cancel:",
            )
        elif outcome.status == "rejected":
            st.error(
                f"The store declined the order: {outcome.reason or 'no reason given'}.",
                icon=":material/block:",
            )
        elif outcome.error:
            st.warning(outcome.error, icon=":material/warning:")


def message_id_for(session_id: str, text: str) -> str:
    """The id to send `text` with: the same id as a failed send of the same text in the same
    conversation (so sending it again never runs the turn twice), else a new one."""
    unsent = st.session_state.get(_UNSENT)
    if unsent and unsent["session_id"] == session_id and unsent["text"] == text:
        return unsent["id"]
    return str(uuid.uuid4())


def stream_turn(
    shop: Shop, who: Principal, session_id: str, text: str
) -> tuple[TurnResult | None, str | None]:
    """Show the shopper's message and stream the reply; return (result, error message).

    Until the turn succeeds, the message and its id are kept: sending the same text again
    reuses the id, so a turn that was in fact saved is not run a second time.
    """
    message_id = message_id_for(session_id, text)
    st.session_state[_UNSENT] = {"session_id": session_id, "text": text, "id": message_id}
    with st.chat_message("user", avatar=SHOPPER_AVATAR):
        st.markdown(text)
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        activity = st.empty()
        status = None
        outcome: dict = {}

        def tokens():
            nonlocal status
            for event in shop.stream(who, session_id, text, message_id):
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
    st.session_state.pop(_UNSENT, None)
    return outcome.get("result"), None
