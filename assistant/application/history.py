"""History, replay, fork, copy and branch switching of a conversation, all in one place.

Every step of the graph is a checkpoint in the Bedrock session. Each checkpoint knows its parent
(our checkpointer stores the parent id, which the upstream saver does not), so the checkpoints of
a session form a tree: a replay or a fork starts a new branch from an older checkpoint. The
"current" branch is the one ending at the newest checkpoint, which is what the next turn extends.
The History page shows them by turn (`turn_history.py`); a replay or fork that would send a
checkout to the store again needs the shopper's confirmation first (`replay_effects.py`).
"""

from __future__ import annotations

from langchain_core.messages import HumanMessage, RemoveMessage
from langgraph.graph import END
from langgraph.types import StateSnapshot

from assistant import shopdb
from assistant.application.context import ShopContext
from assistant.application.conversations import create_conversation, open_conversation, set_title
from assistant.application.errors import TurnError, readable_errors
from assistant.application.replay_effects import checkout_warning, confirm
from assistant.application.turn_history import (
    checkpoint_views,
    history_snapshots,
    read_turns,
    turn_history,
)
from assistant.application.turns import check_message, current, final_result, run, writable
from assistant.application.views import (
    CheckoutWarning,
    CheckpointState,
    CheckpointView,
    TurnHistory,
    TurnResult,
    chat_turns,
    jsonable,
)


def timeline(ctx: ShopContext, session_id: str) -> list[CheckpointView]:
    """Every checkpoint of the session, newest first, with parent/child links."""
    return checkpoint_views(history_snapshots(ctx, session_id))


def turns(ctx: ShopContext, session_id: str) -> TurnHistory:
    """The session's history by turn, every branch (turn_history.py)."""
    return read_turns(ctx, session_id)


def edit_message_update(values: dict, new_text: str) -> dict:
    """A state update that replaces the latest shopper message and drops what came after it."""
    messages = values.get("messages", [])
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            edited = HumanMessage(new_text, id=messages[index].id)
            later = [RemoveMessage(id=message.id) for message in messages[index + 1 :]]
            return {"messages": [*later, edited]}
    return {"messages": [HumanMessage(new_text)]}


# --- state at a checkpoint ---------------------------------------------------------------


def state_at(ctx: ShopContext, session_id: str, checkpoint_id: str) -> StateSnapshot:
    """The graph state snapshot at one checkpoint (for developers and tests)."""
    return ctx.snapshot(session_id, checkpoint_id)


def checkpoint_state(ctx: ShopContext, session_id: str, checkpoint_id: str) -> CheckpointState:
    """The state at one checkpoint as the History page shows it: chat, cart, raw values."""
    snapshot = ctx.snapshot(session_id, checkpoint_id)
    values = snapshot.values or {}
    return CheckpointState(
        checkpoint_id=checkpoint_id,
        step=int((snapshot.metadata or {}).get("step", -1)),
        turns=chat_turns(values.get("messages", [])),
        cart=[dict(line) for line in values.get("cart") or []],
        shopper_message=last_shopper_message(values),
        next=list(snapshot.next),
        raw=state_json(snapshot),
    )


def last_shopper_message(values: dict) -> str:
    """The latest shopper message in a checkpoint's state ("" when there is none)."""
    for message in reversed(values.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def state_json(snapshot: StateSnapshot) -> dict:
    """A state snapshot as plain JSON: values (messages dumped), next, metadata, config."""
    return jsonable(
        {
            "values": snapshot.values or {},
            "next": list(snapshot.next or ()),
            "metadata": snapshot.metadata or {},
            "config": snapshot.config or {},
            "parent_config": snapshot.parent_config or {},
            "created_at": snapshot.created_at,
            "interrupts": [{"id": item.id, "value": item.value} for item in snapshot.interrupts],
        }
    )


# --- replay, fork, copy, switch ----------------------------------------------------------


def replay_warning(ctx: ShopContext, session_id: str, checkpoint_id: str) -> CheckoutWarning | None:
    """What a replay, or a fork with an edited message, from `checkpoint_id` would send to the
    store again, or None when it re-runs no checkout (replay_effects.py)."""
    return checkout_warning(ctx, session_id, checkpoint_id)


def replay(
    ctx: ShopContext,
    username: str,
    session_id: str,
    checkpoint_id: str,
    *,
    confirmed: bool = False,
) -> TurnResult:
    """Re-run the steps after a checkpoint; the result starts a new branch.

    Raises ConfirmationNeeded (a TurnError, before anything is written) when the re-run would
    send a checkout to the store again, unless `confirmed`.
    """
    writable(ctx, username, session_id)
    confirm(ctx, session_id, checkpoint_id, confirmed=confirmed)
    return final_result(run(ctx, session_id, None, ctx.config_for(session_id, checkpoint_id)))


def fork(
    ctx: ShopContext,
    username: str,
    session_id: str,
    checkpoint_id: str,
    *,
    message: str | None = None,
    cart: list[dict] | None = None,
    confirmed: bool = False,
) -> TurnResult:
    """Branch off a checkpoint with an edited shopper message and/or cart, and continue.

    With a message, the latest shopper message at that checkpoint is replaced (later messages
    are dropped) and the agent answers it. With only a cart, the cart is replaced and the
    branch waits for the shopper's next message. A message or cart equal to the checkpoint's
    own counts as unchanged. An edited message whose turn had gone to checkout needs
    `confirmed` (ConfirmationNeeded otherwise), as a replay does.
    """
    writable(ctx, username, session_id)
    snapshot = ctx.snapshot(session_id, checkpoint_id)
    values = snapshot.values
    if not values:
        raise TurnError("That checkpoint has no state to fork from.")
    if message is not None and message.strip() == last_shopper_message(values):
        message = None
    if cart is not None and checked_cart(cart) == checked_cart(values.get("cart") or []):
        cart = None
    update: dict = {}
    if message is not None:
        update.update(edit_message_update(values, check_message(message)))
    if cart is not None:
        last = (values.get("messages") or [None])[-1]
        if message is None and getattr(last, "tool_calls", None):
            # The branch would resume by running those tool calls on the edited cart.
            raise TurnError(
                "To fork with an edited cart, pick a checkpoint where no tool call is "
                "waiting for its result (a shopper message or an assistant reply)."
            )
        update["cart"] = checked_cart(cart)
    if not update:
        raise TurnError("A fork needs an edited message or an edited cart.")
    if message is not None:
        confirm(ctx, session_id, checkpoint_id, confirmed=confirmed)
    with readable_errors(ctx.settings):
        if message is not None:
            # As if the tools had just run: the agent answers the edited message next.
            forked = ctx.graph.update_state(snapshot.config, update, as_node="tools")
            return final_result(run(ctx, session_id, None, forked))
        ctx.graph.update_state(snapshot.config, update, as_node="agent")
    return current(ctx, session_id)


def copy_conversation(
    ctx: ShopContext, username: str, session_id: str, checkpoint_id: str | None = None
) -> str:
    """Copy a conversation into a new one (a new Bedrock session) and return its id.

    Every checkpoint is copied (`copy_thread`), so the new conversation has the whole history;
    with `checkpoint_id`, it continues from that checkpoint, which must end a turn.
    """
    source = open_conversation(ctx, session_id, user=username)
    if checkpoint_id is not None and ctx.snapshot(session_id, checkpoint_id).next:
        raise TurnError(
            "To copy into a new conversation, pick a checkpoint at the end of a turn "
            "(one where nothing runs next)."
        )
    if checkpoint_id is None and ctx.snapshot(session_id).interrupts:
        raise TurnError("A checkout is waiting for store approval; wait for the decision.")
    with readable_errors(ctx.settings):
        target = create_conversation(ctx, user=source.user, tenant=source.tenant).session_id
        ctx.checkpointer.copy_thread(session_id, target)
        if checkpoint_id is not None:
            continue_from(ctx, ctx.config_for(target, checkpoint_id))
    shopdb.mark_copy(ctx.engine, target, session_id)
    set_title(ctx, target, username, f"{source.title} (copy)")
    return target


def switch_branch(
    ctx: ShopContext, username: str, session_id: str, checkpoint_id: str
) -> TurnResult:
    """Make the branch ending at `checkpoint_id` current again; the next turn extends it.

    "Current" is the branch of the newest checkpoint, so switching writes one: a copy of the
    branch's end, as its child (`continue_from`). The tree keeps the same branches (the copy
    only makes that branch end later) and the history by turn folds the copy into the branch's
    last turn. Only the finished end of a branch can be switched to: continuing from the
    middle of one would start a new branch, which is what fork and copy are for.
    """
    writable(ctx, username, session_id)
    history = turn_history(history_snapshots(ctx, session_id))
    turn = next(
        (t for t in history.turns if checkpoint_id in [s.checkpoint_id for s in t.steps]), None
    )
    if turn is not None and turn.is_tip and turn.status == "stopped":
        raise TurnError(
            "That branch stopped in the middle of a turn; replay its last turn to finish it."
        )
    steps = [s.checkpoint_id for s in turn.steps] if turn is not None else []
    later = turn.steps[steps.index(checkpoint_id) :] if turn is not None else []
    # The end of a branch, or an earlier switch to it (copies of the end, nothing ran after).
    if turn is None or not turn.is_tip or any(step.next for step in later):
        raise TurnError(
            "Only the end of a branch can be switched to; to carry on from the middle of one, "
            "fork from there or copy it into a new conversation."
        )
    if turn.is_current:
        return current(ctx, session_id)
    with readable_errors(ctx.settings):
        continue_from(ctx, ctx.config_for(session_id, turn.end_checkpoint_id))
    return current(ctx, session_id)


def continue_from(ctx: ShopContext, config: dict) -> dict:
    """Write a copy of a finished checkpoint as its own child: the newest checkpoint, so the
    next turn continues from it, without starting a branch beside it.

    LangGraph's `update_state(config, None, as_node="__copy__")` (what "re-run from here" in
    LangGraph Studio sends) stores the copy under the checkpoint's *parent*, a sibling, which
    the tree shows as one more branch. `as_node=END` with no values stores it under the
    checkpoint itself and, at the end of a turn where no task is pending, changes nothing.
    """
    return ctx.graph.update_state(config, None, as_node=END)


def checked_cart(cart: list[dict]) -> list[dict]:
    """An edited cart as the state keeps it; TurnError when a line makes no sense.

    Lines with quantity 0 are dropped. Prices are kept as shown: an order is always priced from
    the catalog, never from the cart.
    """
    checked = []
    for line in cart:
        try:
            quantity = int(line["quantity"])
            clean = {
                "product_id": str(line["product_id"]),
                "name": str(line.get("name") or line["product_id"]),
                "size": float(line["size"]),
                "quantity": quantity,
                "unit_price": float(line.get("unit_price") or 0),
            }
        except (KeyError, TypeError, ValueError) as error:
            raise TurnError(f"A cart line is incomplete or malformed: {line!r}.") from error
        if not 0 <= quantity <= 10:
            raise TurnError(f"Quantities go from 0 (remove) to 10; got {quantity}.")
        if quantity:
            checked.append(clean)
    return checked
