"""One turn of a conversation: the shopper's message in, the assistant's reply and cart out.

Bad input is answered with a clear message and loses nothing: the message is checked before
anything is written, and the graph's checkpoints keep the conversation up to the last step that
succeeded. A turn that ends on the checkout interrupt records the pending checkout in the
approvals queue, where every process (the operator's web page, another terminal) sees it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.types import Command, Interrupt

from assistant import shopdb
from assistant.agent.actions import ShopAction, action_message
from assistant.agent.checkout import pending_checkout
from assistant.application.context import ShopContext
from assistant.application.conversations import open_conversation, set_title
from assistant.application.errors import TurnError, readable_errors
from assistant.application.replay_effects import reused_order
from assistant.application.views import (
    ApprovalView,
    TurnEvent,
    TurnResult,
    final_reply,
    last_products,
    stream_events,
    turn_messages,
)

MAX_MESSAGE_CHARS = 4000


def check_message(message: Any) -> str:
    """The shopper's message as clean text, or TurnError saying what is wrong with it."""
    if not isinstance(message, str):
        raise TurnError("Messages must be text.")
    text = message.strip()
    if not text:
        raise TurnError("Your message is empty. Try: 'running shoes under $120'.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise TurnError(
            f"Your message is too long ({len(text)} characters; the limit is "
            f"{MAX_MESSAGE_CHARS}). Please shorten it."
        )
    return text


def stream_turn(
    ctx: ShopContext,
    username: str,
    session_id: str,
    message: Any,
    message_id: str | None = None,
    *,
    action: ShopAction | None = None,
) -> Iterator[TurnEvent]:
    """Run one turn, yielding reply tokens and tool activity as they happen, then the result.

    `message_id` makes sending safe to repeat: a client that did not hear back (a crash, a lost
    connection) sends the same message with the same id again, and the turn is carried on
    where it stopped, or, if it had completed, its result is returned without running anything.
    With `action`, the message is a click in the shop (`cart_actions.py`): the graph runs that
    exact cart tool call instead of asking the model (agent/actions.py).

    Raises TurnError (before anything is written) for bad input, an ended or foreign
    conversation, or a checkout still waiting for the store.
    """
    text = check_message(message)
    conversation = open_conversation(ctx, session_id, user=username)
    if conversation.status != "ACTIVE":
        raise TurnError("This conversation has ended; start a new one to keep shopping.")
    if message_id is not None and _already_sent(ctx, session_id, message_id):
        if stopped_turn(ctx, session_id) is not None:
            yield from run(ctx, session_id, None)
        else:
            yield TurnEvent("done", result=current(ctx, session_id))
        return
    pending = pending_approval(ctx, session_id)
    if pending is not None:
        raise TurnError(
            f"Your order is waiting for store approval ({pending.id}); "
            "you can keep chatting once the store has decided."
        )
    if stopped_turn(ctx, session_id) == text:
        # The same message again after a turn stopped part-way: carry on from the last saved
        # step instead of adding the message twice (which would repeat what already ran).
        yield from run(ctx, session_id, None)
        return
    shopper_message = (
        action_message(action, text, message_id or str(uuid.uuid4()))
        if action is not None
        else HumanMessage(text, id=message_id)
    )
    graph_input = {
        "messages": [shopper_message],
        "user": conversation.user,
        "tenant": conversation.tenant,
    }
    set_title(ctx, session_id, conversation.user, text)
    yield from run(ctx, session_id, graph_input)


def run(
    ctx: ShopContext, session_id: str, graph_input: Any, config: dict | None = None
) -> Iterator[TurnEvent]:
    """Run the graph from `config` (the newest checkpoint by default) and stream the turn."""
    config = ctx.with_engine(config) if config else ctx.config_for(session_id)
    tools: list[str] = []
    try:
        with readable_errors(ctx.settings):
            chunks = ctx.graph.stream(
                graph_input,
                config,
                stream_mode=["messages", "updates"],
                durability=ctx.settings.durability,
            )
            for event in stream_events(chunks):
                if event.kind == "tool":
                    tools.append(event.text)
                yield event
    except TurnError as error:
        raise TurnError(f"{error} {what_was_saved(ctx, session_id)}") from error
    with readable_errors(ctx.settings):
        result = current(ctx, session_id)
    result.tool_activity = tools
    yield TurnEvent("done", result=result)


def stopped_turn(ctx: ShopContext, session_id: str) -> str | None:
    """The shopper message of a turn that stopped part-way (steps left to run), else None."""
    snapshot = ctx.snapshot(session_id)
    if not snapshot.next or snapshot.interrupts:
        return None
    messages = (snapshot.values or {}).get("messages", [])
    return next((m.text for m in reversed(messages) if isinstance(m, HumanMessage)), None)


def what_was_saved(ctx: ShopContext, session_id: str) -> str:
    """One sentence on what a failed turn left saved, read back from the session store."""
    try:
        snapshot = ctx.snapshot(session_id)
    except TurnError:
        return "What was saved before the failure is kept; try again in a moment."
    step = (snapshot.metadata or {}).get("step", "?")
    if snapshot.interrupts:
        return f"Saved up to step {step}: your checkout is waiting for store approval."
    if snapshot.next:
        return (
            f"Saved up to step {step}; nothing after it counts. Send the same message again to "
            "carry on from there (what already ran is not repeated)."
        )
    return f"The turn itself completed and was saved (step {step})."


def _already_sent(ctx: ShopContext, session_id: str, message_id: str) -> bool:
    """True when a shopper message with this id is in the conversation's current branch."""
    messages = (ctx.snapshot(session_id).values or {}).get("messages", [])
    return any(isinstance(m, HumanMessage) and m.id == message_id for m in messages)


def final_result(events: Iterator[TurnEvent]) -> TurnResult:
    """Run a streamed turn to its end and return its result."""
    result = None
    for event in events:
        if event.kind == "done":
            result = event.result
    if result is None:  # a stream always ends with "done"; this guards a broken generator
        raise TurnError("The turn ended without a result.")
    return result


def resume(ctx: ShopContext, session_id: str, interrupt_id: str, value: dict) -> TurnResult:
    """Resume the paused checkout of a session with an operator's decision."""
    return final_result(run(ctx, session_id, Command(resume={interrupt_id: value})))


def current(ctx: ShopContext, session_id: str) -> TurnResult:
    """The conversation as it stands: last reply, cart, products, pending approval."""
    snapshot = ctx.snapshot(session_id)
    values = snapshot.values or {}
    messages = values.get("messages", [])
    pending = None
    reply = final_reply(messages)
    if snapshot.interrupts:
        pending = record_pending(ctx, session_id, snapshot.interrupts[0])
        reply = (
            f"Your order (${pending.total:.2f}) is waiting for store approval "
            f"({pending.id}). I'll let you know as soon as the store decides."
        )
        earlier = pending.replay_of_order and shopdb.get_order(ctx.engine, pending.replay_of_order)
        if earlier:  # a replay or fork: approving finds that order, so say which it is
            reply = (
                f"Your checkout is waiting for store approval ({pending.id}) again. This cart "
                f"was already bought here as order {earlier.id} (${earlier.total:.2f}): if the "
                "store approves, that order stands and nothing is charged twice."
            )
    return TurnResult(
        session_id=session_id,
        reply=reply,
        cart=list(values.get("cart") or []),
        pending_approval=pending,
        products=last_products(turn_messages(messages)),
    )


def pending_approval(ctx: ShopContext, session_id: str) -> ApprovalView | None:
    """The checkout of this session waiting for the store, if any."""
    snapshot = ctx.snapshot(session_id)
    if not snapshot.interrupts:
        return None
    return record_pending(ctx, session_id, snapshot.interrupts[0])


def record_pending(ctx: ShopContext, session_id: str, interrupt: Interrupt) -> ApprovalView:
    """The approval record of a checkout interrupt (created the first time it is seen)."""
    recorded = shopdb.approval_for_interrupt(ctx.engine, session_id, interrupt.id)
    if recorded is not None:  # the usual case: every poll of a waiting checkout lands here
        return ApprovalView.of(recorded)
    summary = pending_checkout(interrupt.value)
    approval = shopdb.create_pending(
        ctx.engine,
        session_id=session_id,
        interrupt_id=interrupt.id,
        repeat_of_order=repeated_order(ctx, session_id, summary["items"]),
        replay_of_order=reused_order(ctx, session_id, summary["items"]),
        **summary,
    )
    return ApprovalView.of(approval)


def repeated_order(ctx: ShopContext, session_id: str, items: list[dict]) -> str | None:
    """The order that already bought exactly this cart in a conversation this one was copied
    from, if any: replaying a copied checkout must not look like a new purchase to the store."""
    for ancestor in shopdb.copy_ancestors(ctx.engine, session_id):
        for order in shopdb.orders_of_session(ctx.engine, ancestor):
            if order.status == "placed" and shopdb.same_cart(order, items):
                return order.id
    return None


def writable(ctx: ShopContext, username: str, session_id: str) -> None:
    """Refuse (TurnError) to change a conversation that has ended or waits for the store."""
    if open_conversation(ctx, session_id, user=username).status != "ACTIVE":
        raise TurnError("This conversation has ended; its history is read-only.")
    if pending_approval(ctx, session_id) is not None:
        raise TurnError("A checkout is waiting for store approval; wait for the decision.")
