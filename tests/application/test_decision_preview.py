"""The operator's preview of a decision is the order's total, and an approval charges what the
operator was shown or nothing at all."""

from __future__ import annotations

import pytest
from shop_scenarios import waiting_checkout

from assistant import shopdb
from assistant.application import ApprovalError, Shop, approval_decision, line_key


def test_nothing_changed_is_an_approval_and_any_change_is_an_edit() -> None:
    items = [{"product_id": "TRL-001", "size": 9.0, "quantity": 1, "unit_price": 120.0}]
    key = line_key(items[0])
    assert approval_decision(items, {key: 1}, 0, "  ") == {"action": "approve", "reason": None}
    discounted = approval_decision(items, {key: 1}, 20, "Enjoy")
    assert discounted == {
        "action": "edit",
        "quantities": {key: 1},
        "discount_pct": 20,
        "reason": "Enjoy",
    }
    assert approval_decision(items, {key: 2}, 0)["action"] == "edit"


def test_the_preview_is_what_the_order_then_charges(shop: Shop, signed_in) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    _, approval_id = waiting_checkout(shop, alice)
    [approval] = shop.approvals(olga, "pending")
    line = approval.items[0]
    decision = approval_decision(approval.items, {line_key(line): 3}, 15, "Three for you")

    preview = shop.preview_decision(olga, approval_id, decision)
    shop.decide(olga, approval_id, decision, expected_total=preview.total)

    [order] = shop.orders(olga)
    assert (order.total, order.subtotal, order.discount_pct) == (
        preview.total,
        preview.subtotal,
        15,
    )
    assert [(ln.product_id, ln.quantity) for ln in order.lines] == [(line["product_id"], 3)]
    [decided] = [a for a in shop.approvals(olga, None) if a.id == approval_id]
    assert decided.total == preview.total
    assert decided.outcome == "approved with changes (15% off)"  # recorded as an edit
    assert decided.decided_by == "olga" and decided.decided_at


def test_an_approval_that_would_charge_other_than_shown_is_refused_and_nothing_happens(
    shop: Shop, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    _, approval_id = waiting_checkout(shop, alice)
    [approval] = shop.approvals(olga, "pending")
    shown = shop.preview_decision(olga, approval_id, {"action": "approve"}).total
    discounted = approval_decision(approval.items, {}, 20)

    with pytest.raises(ApprovalError, match=r"not the .* shown; nothing was decided"):
        shop.decide(olga, approval_id, discounted, expected_total=shown)

    assert shopdb.get_approval(shop.engine, approval_id).status == "pending"
    assert shop.orders(olga) == []


def test_every_line_set_to_zero_previews_no_order(shop: Shop, signed_in) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    _, approval_id = waiting_checkout(shop, alice)
    [approval] = shop.approvals(olga, "pending")
    nothing = approval_decision(approval.items, {line_key(approval.items[0]): 0}, 0)
    preview = shop.preview_decision(olga, approval_id, nothing)
    assert not preview.places_order and preview.total == 0


def test_a_rejection_without_a_reason_is_refused_in_words(shop: Shop, signed_in) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    _, approval_id = waiting_checkout(shop, alice)
    with pytest.raises(ApprovalError) as refused:
        shop.decide(olga, approval_id, {"action": "reject", "reason": "  "})
    assert str(refused.value) == (
        "Invalid decision: a rejection needs a reason the shopper can read."
    )
