"""Copying a conversation into a new one (`copy_thread`), and forks that edit the cart."""

from __future__ import annotations

import pytest

from assistant.application.shop import Principal, Shop, TurnError


def _search_and_add(shop: Shop, alice: Principal) -> str:
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes under $150")
    shop.send(alice, session_id, "add the second one in size 9")
    return session_id


def test_copy_has_the_whole_history_and_continues_on_its_own(shop: Shop, signed_in) -> None:
    alice = signed_in(shop, "alice")
    source = _search_and_add(shop, alice)
    source_history = shop.history(alice, source)

    copy = shop.fork_conversation(alice, source)

    assert copy != source
    assert [view.checkpoint_id for view in shop.history(alice, copy)] == [
        view.checkpoint_id for view in source_history
    ]
    assert shop.current(alice, copy).cart == shop.current(alice, source).cart
    assert copy in {conversation.session_id for conversation in shop.conversations(alice)}
    shop.send(alice, copy, "make it 2 pairs")
    assert shop.current(alice, copy).cart[0]["quantity"] == 2
    assert shop.current(alice, source).cart[0]["quantity"] == 1  # the original did not move


def test_copy_from_an_earlier_checkpoint_continues_from_there(shop: Shop, signed_in) -> None:
    alice = signed_in(shop, "alice")
    source = _search_and_add(shop, alice)
    end_of_first_turn = next(
        view
        for view in reversed(shop.history(alice, source))
        if not view.next and view.message_count > 1
    )
    assert end_of_first_turn.cart_items == 0

    copy = shop.fork_conversation(alice, source, end_of_first_turn.checkpoint_id)

    assert shop.current(alice, copy).cart == []
    assert shop.current(alice, source).cart != []


def test_copy_refuses_a_checkpoint_in_the_middle_of_a_turn(shop: Shop, signed_in) -> None:
    alice = signed_in(shop, "alice")
    source = _search_and_add(shop, alice)
    mid_turn = next(view for view in shop.history(alice, source) if view.next)
    before = len(shop.conversations(alice))
    with pytest.raises(TurnError, match="end of a turn"):
        shop.fork_conversation(alice, source, mid_turn.checkpoint_id)
    assert len(shop.conversations(alice)) == before


def test_someone_elses_conversation_cannot_be_copied(shop: Shop, signed_in) -> None:
    alice, bob = signed_in(shop, "alice"), signed_in(shop, "bob")
    source = _search_and_add(shop, alice)
    with pytest.raises(TurnError, match="No conversation"):
        shop.fork_conversation(bob, source)


def test_cart_fork_validates_the_edited_lines(shop: Shop, signed_in) -> None:
    alice = signed_in(shop, "alice")
    session_id = _search_and_add(shop, alice)
    latest = shop.history(alice, session_id)[0]
    line = dict(shop.current(alice, session_id).cart[0])

    with pytest.raises(TurnError, match="0 \\(remove\\) to 10"):
        shop.fork(alice, session_id, latest.checkpoint_id, cart=[{**line, "quantity": 99}])
    with pytest.raises(TurnError, match="malformed"):
        shop.fork(alice, session_id, latest.checkpoint_id, cart=[{"quantity": 1}])

    result = shop.fork(alice, session_id, latest.checkpoint_id, cart=[{**line, "quantity": 3}])
    assert result.cart[0]["quantity"] == 3
    emptied = shop.fork(alice, session_id, latest.checkpoint_id, cart=[{**line, "quantity": 0}])
    assert emptied.cart == []


def test_a_copied_checkout_of_a_cart_already_bought_is_marked_as_a_repeat(
    shop: Shop, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    source = _search_and_add(shop, alice)
    before_checkout = shop.history(alice, source)[0].checkpoint_id
    waiting = shop.send(alice, source, "checkout")
    assert waiting.pending_approval.repeat_of_order is None  # a first purchase
    shop.decide(olga, waiting.pending_approval.id, {"action": "approve"})
    [order] = shop.orders(alice)

    copy = shop.fork_conversation(alice, source, before_checkout)
    again = shop.send(alice, copy, "checkout")

    assert again.pending_approval.repeat_of_order == order.id
    assert shop.approvals(olga)[0].repeat_of_order == order.id
    # A different cart in the copy is a new purchase, not a repeat.
    other = shop.fork_conversation(alice, source, before_checkout)
    shop.send(alice, other, "make it 2 pairs")
    assert shop.send(alice, other, "checkout").pending_approval.repeat_of_order is None
