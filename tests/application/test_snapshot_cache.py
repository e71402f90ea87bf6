"""A conversation's checkpoints are decoded once per process and topped up (snapshot_cache.py).

What a shopper relies on: the History page, the chat's ‹1/2› switchers and the replay warnings
show exactly what a process that never read the session before would show, after every kind of
change (a turn, a checkout waiting and decided, a replay, a fork, a branch switch, a deletion),
while each read decodes only what is new.
"""

from __future__ import annotations

from assistant.application import Shop


def fresh_view(shop: Shop, who, session_id: str):
    """The same reads from a new Shop on the same databases and store: nothing kept."""
    other = Shop(settings=shop.settings)
    try:
        return other.turns(who, session_id), other.chat_versions(who, session_id)
    finally:
        other.engine.dispose()


def test_every_change_shows_as_a_process_that_reads_it_all_would_show_it(
    shop: Shop, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id = shop.new_conversation(alice)

    def same_as_fresh() -> None:
        kept = shop.turns(alice, session_id), shop.chat_versions(alice, session_id)
        assert kept == fresh_view(shop, alice, session_id)

    shop.send(alice, session_id, "trail shoes in size 9")
    same_as_fresh()
    shop.send(alice, session_id, "add the first one in size 9")
    same_as_fresh()
    waiting = shop.send(alice, session_id, "checkout")  # pending writes: the interrupt
    same_as_fresh()
    assert shop.turns(alice, session_id).turns[-1].status == "waiting"
    shop.decide(olga, waiting.pending_approval.id, {"action": "approve"})
    same_as_fresh()
    history = shop.turns(alice, session_id)
    first = history.turns[0]
    shop.replay(alice, session_id, first.start_checkpoint_id)  # a branch from an old turn
    same_as_fresh()
    shop.fork(alice, session_id, first.start_checkpoint_id, message="road shoes in size 9")
    same_as_fresh()
    back_to = next(turn for turn in shop.turns(alice, session_id).turns if turn.can_switch)
    shop.switch_branch(alice, session_id, back_to.end_checkpoint_id)
    same_as_fresh()


def test_a_read_after_a_turn_decodes_the_new_checkpoints_not_the_whole_conversation(
    shop: Shop, signed_in
) -> None:
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    for prompt in ["trail shoes in size 9", "running shoes", "sneakers under $100"] * 3:
        shop.send(alice, session_id, prompt)
    cache = shop.context.history
    first = shop.turns(alice, session_id)
    decoded = cache.decoded
    assert decoded >= len(first.checkpoints)  # the first read decodes everything

    shop.turns(alice, session_id)
    assert cache.decoded - decoded == 1  # nothing new: only the newest, read again
    shop.send(alice, session_id, "boots in size 10")
    after = shop.turns(alice, session_id)
    new = len(after.checkpoints) - len(first.checkpoints)
    assert new >= 2
    assert cache.decoded - decoded == 1 + new + 1


def test_a_message_the_same_in_many_checkpoints_is_kept_once(shop: Shop, signed_in) -> None:
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    for prompt in ["trail shoes in size 9", "running shoes", "sneakers under $100"]:
        shop.send(alice, session_id, prompt)
    snapshots = shop.context.history_snapshots(session_id)
    first_messages = [s.values["messages"][0] for s in snapshots if s.values.get("messages")]
    assert len(first_messages) > 5
    assert all(message is first_messages[0] for message in first_messages)


def test_a_deleted_conversation_is_not_kept(shop: Shop, signed_in) -> None:
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes in size 9")
    shop.turns(alice, session_id)
    assert shop.context.history._sessions  # kept after the read

    shop.delete(alice, session_id)

    assert session_id not in shop.context.history._sessions
