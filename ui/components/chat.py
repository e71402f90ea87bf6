"""The conversation on screen: past turns read back from the session, the new turn streamed.

Past turns are rendered from `Shop.chat(session_id)`, the state of the session's current branch
as `ChatTurn` views, so what the shopper sees is always what the checkpoints hold (after a reload,
a replay or a fork alike). Tool calls show as one compact line each; of tool results only the
checkout's outcome is shown, which is what the shopper waits for. A click in the shop (a product
card's "Add to cart", the cart's buttons) is a turn too, shown as one line: "You added …".

The shopper's own words are shown as plain text: never Markdown, so a message cannot fetch a
remote image or dress itself up. With `ShopperControls` (the Shop page) the chat can be changed
in place (chat_edits.py, products.py); without (the History page) it is read-only.
"""

from __future__ import annotations

import uuid

import streamlit as st

from assistant.application import CartClick, ChatTurn, CheckoutOutcome, Principal, Shop, TurnResult
from ui.components.chat_edits import edit_form, is_editing, reply_tools, shopper_tools
from ui.components.controls import ShopperControls
from ui.components.products import product_cards
from ui.errors import readable

SHOPPER_AVATAR = ":material/person:"
_UNSENT = "chat.unsent"  # the message being sent, until the shop has answered it
ASSISTANT_AVATAR = ":material/storefront:"
CLICK_ICONS = {
    "add_to_cart": ":material/add_shopping_cart:",
    "update_cart_item": ":material/exposure:",
    "remove_from_cart": ":material/remove_shopping_cart:",
}


def conversation(turns: list[ChatTurn], *, controls: ShopperControls | None = None) -> None:
    """Every turn of the conversation; cards for the most recent products shown, a line each
    for those of earlier turns (a long chat stays quick to show)."""
    with_products = [index for index, turn in enumerate(turns) if turn.products]
    latest_products = with_products[-1] if with_products else None
    for index, turn in enumerate(turns):
        versions = controls.versions_of(index) if controls else None
        if turn.click is not None:
            cart_click(turn.click, key=f"click-{index}")
            continue
        if turn.shopper is not None:
            with st.chat_message("user", avatar=SHOPPER_AVATAR):
                if controls and versions and is_editing(controls, index):
                    edit_form(controls, index, turn.shopper, versions)
                else:
                    shopper_text(turn.shopper)
                    if controls and versions:
                        shopper_tools(controls, index, versions)
        if not turn.replies and not turn.products:
            continue
        with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
            answer(
                turn,
                show_products=index == latest_products,
                key=f"turn-{index}",
                controls=controls,
            )
            if controls and versions:
                reply_tools(controls, index, versions, latest=index == len(turns) - 1)


def shopper_text(text: str) -> None:
    """The shopper's words as they typed them: plain text, no Markdown, no HTML."""
    st.text(text, width="stretch")


def cart_click(click: CartClick, *, key: str) -> None:
    """A click that changed the cart, as one line ("You added …"), or why it did nothing."""
    with st.container(key=f"chat-{key}"):
        if click.ok:
            st.caption(f"{CLICK_ICONS.get(click.tool, '')} {markdown_escape(click.outcome)}")
        else:
            st.warning(markdown_escape(click.outcome), icon=":material/info:")


def markdown_escape(text: str) -> str:
    """`text` shown as written: the characters Markdown (and `$…$` maths) act on are escaped."""
    return "".join(f"\\{char}" if char in _MARKDOWN_CHARS else char for char in text)


_MARKDOWN_CHARS = set("\\`*_{}[]()<>#+-.!|~$")


def answer(
    turn: ChatTurn, *, show_products: bool, key: str, controls: ShopperControls | None = None
) -> None:
    """The assistant's side of one turn: tool lines, checkout outcome, reply, product cards."""
    for reply in turn.replies:
        if reply.text:  # what the model says first, then the tools it calls
            st.markdown(reply.text)
        for call in reply.tool_calls:
            st.caption(f":material/build: `{call}`")
        if reply.checkout is not None:
            checkout_outcome(reply.checkout)
    if turn.products and show_products:
        product_cards(turn.products, key=key, controls=controls)
    elif turn.products:  # earlier results: a line each (cards only for the latest ones)
        with st.expander(f"{len(turn.products)} products shown", icon=":material/steps:"):
            st.markdown("\n".join(f"- {product_line(product)}" for product in turn.products))


def product_line(product: dict) -> str:
    """One product in a line of Markdown: name, brand, price."""
    name = markdown_escape(str(product.get("name", product.get("product_id", "?"))))
    brand = markdown_escape(str(product.get("brand", "")))
    return f"**{name}** · {brand} · ${float(product.get('price', 0)):,.2f}"


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
        shopper_text(text)
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        activity = st.empty()
        status = None
        outcome: dict = {}

        def tokens():
            nonlocal status
            new_paragraph = False  # the words after a tool ran are another message
            for event in shop.stream(who, session_id, text, message_id):
                if event.kind == "token":
                    yield ("\n\n" if new_paragraph else "") + event.text
                    new_paragraph = False
                elif event.kind == "tool":
                    new_paragraph = True
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
