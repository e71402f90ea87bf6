"""The history by turn and its tree, from real conversations through the real graph.

A shopper's turn is a dozen LangGraph checkpoints (an input checkpoint, then one per node
that ran); the History page shows turns in the shop's words and keeps node names for the expert
view. Every turn it offers can be acted on, turn numbers count the messages on each branch,
and switching to a branch never adds one.
"""

from __future__ import annotations

import pytest

from assistant.application import TurnHistory, TurnView
from assistant.application.shop import Shop, TurnError

LANGGRAPH_WORDS = ("__start__", "agent", "tools", "loop", "input", "checkpoint")


def turns_of(shop: Shop, who, session_id: str) -> TurnHistory:
    return shop.turns(who, session_id)


def by_title(history: TurnHistory, title: str) -> TurnView:
    [turn] = [turn for turn in history.turns if turn.title == title]
    return turn


@pytest.fixture
def three_turns(shop: Shop, signed_in) -> str:
    """alice: a search for men's running shoes, adding the cheapest, asking for her cart."""
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    for text in (
        "I need men's running shoes in size 10 under $120",
        "put the cheapest one in my cart",
        "what's in my cart?",
    ):
        shop.send(alice, session_id, text)
    return session_id


def test_a_conversation_reads_turn_by_turn_in_the_shops_words(
    shop: Shop, signed_in, three_turns: str
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    waiting = shop.send(alice, three_turns, "ok let's buy it")
    assert turns_of(shop, alice, three_turns).turns[-1].status == "waiting"
    assert "waiting for the store's decision" in turns_of(shop, alice, three_turns).turns[-1].did
    shop.decide(olga, waiting.pending_approval.id, {"action": "reject", "reason": "recalled"})
    shop.send(alice, three_turns, "thanks anyway")

    history = turns_of(shop, alice, three_turns)

    assert len(history.checkpoints) > 4 * len(history.turns)  # the steps are folded inside
    assert sum(len(turn.steps) for turn in history.turns) == len(history.checkpoints)
    assert [turn.title for turn in history.turns] == [f"Turn {n}" for n in range(1, 6)]
    assert [turn.shopper for turn in history.turns] == [
        "I need men's running shoes in size 10 under $120",
        "put the cheapest one in my cart",
        "what's in my cart?",
        "ok let's buy it",
        "thanks anyway",
    ]
    searched, added, shown, bought, thanked = (turn.did for turn in history.turns)
    assert searched == ["searched men running shoes, size 10, under $120: 3 found"]
    assert added == ["added 1 × Stridewell Zephyr Glide in size 10 to the cart"]
    assert shown == ["showed the cart ($74.95)"]
    assert bought == [
        "asked the store to approve the order ($74.95)",
        "the store declined the order: recalled",
    ]
    assert thanked == [] and history.turns[-1].reply  # only a reply
    for turn in history.turns:
        assert turn.status == "done" and turn.on_current_branch and turn.lane == 0
        words = " ".join([*turn.did, *(step.what for step in turn.steps)]).lower()
        assert not any(word in words.split() for word in LANGGRAPH_WORDS), words
    assert history.branches == 1 and history.current_turn_id == history.turns[-1].turn_id
    assert history.turns[3].went_to_checkout and not history.turns[2].went_to_checkout
    # Replaying the declined checkout asks the store again, and nothing would be reused.
    warning = shop.replay_warning(alice, three_turns, history.turns[3].start_checkpoint_id)
    assert warning.reused_order is None and "the store declined: recalled" in warning.text
    assert "if the store approves, a new order is" in warning.text
    assert shop.replay_warning(alice, three_turns, history.turns[2].start_checkpoint_id) is None


def test_every_turn_offered_can_be_replayed_copied_and_forked_from(
    shop: Shop, signed_in, three_turns: str
) -> None:
    alice = signed_in(shop, "alice")
    history = turns_of(shop, alice, three_turns)
    for turn in history.turns:
        start = shop.checkpoint(alice, three_turns, turn.start_checkpoint_id)
        assert start.next == ["agent"] and start.shopper_message == turn.shopper
        assert shop.checkpoint(alice, three_turns, turn.end_checkpoint_id).next == []
        # The checkpoint after the shopper's last turn ended and before the next message
        # (same last message, nothing to copy from) is never the one offered.
        assert turn.can_continue_from

    # Each kind of action, from the turns that offer it.
    first, second, third = history.turns
    copy = shop.fork_conversation(alice, three_turns, second.end_checkpoint_id)
    assert len(shop.current(alice, copy).cart) == 1
    copied = turns_of(shop, alice, copy)  # the whole history, continuing after turn 2
    assert [turn.title for turn in copied.branch(copied.current_turn_id)] == [
        "Turn 1",
        "Turn 2",
        "Continued after turn 2",
    ]
    assert copied.branches == 2
    shop.replay(alice, three_turns, third.start_checkpoint_id)
    [line] = shop.checkpoint(alice, three_turns, second.end_checkpoint_id).cart
    shop.fork(alice, three_turns, second.end_checkpoint_id, cart=[{**line, "quantity": 2}])
    shop.fork(alice, three_turns, first.start_checkpoint_id, message="trail shoes in size 9")
    after = turns_of(shop, alice, three_turns)
    assert {turn.title for turn in after.turns} == {
        "Turn 1",
        "Turn 2",
        "Turn 3",
        "Turn 3 (replayed)",
        "Cart edited after turn 2",
        "Turn 1 (edited)",
    }
    assert by_title(after, "Cart edited after turn 2").cart_total == 2 * line["unit_price"]
    for turn in after.turns:
        assert turn.can_continue_from and (turn.can_replay or turn.kind == "cart")


def test_turn_numbers_count_the_messages_of_each_branch_and_lanes_stay_put(
    shop: Shop, signed_in, three_turns: str
) -> None:
    alice = signed_in(shop, "alice")
    before = turns_of(shop, alice, three_turns)
    second = before.turns[1]

    shop.fork(alice, three_turns, second.start_checkpoint_id, message="add the first one")
    shop.send(alice, three_turns, "show me the cart")

    history = turns_of(shop, alice, three_turns)
    edited, sequel = by_title(history, "Turn 2 (edited)"), history.turns[-1]
    assert sequel.title == "Turn 3" and sequel.parent_turn_id == edited.turn_id
    assert edited.parent_turn_id == before.turns[0].turn_id  # another version of turn 2
    assert (edited.lane, sequel.lane) == (1, 1) and edited.x == 2 and sequel.x == 3
    # The first branch keeps its lane, and the current one is the new branch.
    assert [turn.lane for turn in history.turns[:3]] == [0, 0, 0]
    assert [t.title for t in history.branch(sequel.turn_id)] == [
        "Turn 1",
        "Turn 2 (edited)",
        "Turn 3",
    ]
    assert {t.turn_id for t in history.turns if t.on_current_branch} == {
        history.turns[0].turn_id,
        edited.turn_id,
        sequel.turn_id,
    }
    assert history.branches == 2
    assert [t.is_tip for t in history.turns] == [False, False, True, False, True]


def test_switching_to_a_branch_never_adds_one_and_the_next_turn_extends_it(
    shop: Shop, signed_in, three_turns: str
) -> None:
    alice = signed_in(shop, "alice")
    first_branch_end = turns_of(shop, alice, three_turns).turns[-1]
    shop.fork(
        alice,
        three_turns,
        turns_of(shop, alice, three_turns).turns[1].start_checkpoint_id,
        message="add the most expensive one",
    )
    forked = turns_of(shop, alice, three_turns)
    assert forked.branches == 2 and by_title(forked, "Turn 3").can_switch

    for _ in range(3):  # back and forth: still two branches
        shop.switch_branch(alice, three_turns, first_branch_end.end_checkpoint_id)
        back = turns_of(shop, alice, three_turns)
        assert back.branches == 2 and back.current_turn_id == first_branch_end.turn_id
        other = by_title(back, "Turn 2 (edited)")
        assert other.can_switch and not by_title(back, "Turn 3").can_switch
        shop.switch_branch(alice, three_turns, other.end_checkpoint_id)
        assert turns_of(shop, alice, three_turns).branches == 2
    leaves = [c for c in shop.history(alice, three_turns) if not c.children]
    assert len(leaves) == 2  # the checkpoint tree itself has no more branches either

    shop.switch_branch(alice, three_turns, first_branch_end.end_checkpoint_id)
    shop.send(alice, three_turns, "show me hiking boots")
    history = turns_of(shop, alice, three_turns)
    assert history.branches == 2
    latest = history.turns[-1]
    assert latest.title == "Turn 4" and latest.parent_turn_id == first_branch_end.turn_id
    switched = by_title(history, "Turn 3")
    assert [step.what for step in switched.steps].count("switched back to this branch") == 4


def test_switching_to_the_middle_of_a_branch_or_a_stopped_turn_is_refused(
    shop: Shop, signed_in, three_turns: str
) -> None:
    alice = signed_in(shop, "alice")
    history = turns_of(shop, alice, three_turns)
    with pytest.raises(TurnError, match="Only the end of a branch"):
        shop.switch_branch(alice, three_turns, history.turns[1].end_checkpoint_id)
    with pytest.raises(TurnError, match="Only the end of a branch"):
        shop.switch_branch(alice, three_turns, history.turns[2].start_checkpoint_id)
    assert len(shop.history(alice, three_turns)) == len(history.checkpoints)
