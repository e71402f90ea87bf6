"""The operator console's decision form and the shopper's side of a decision, run headless with
Streamlit's AppTest against a real local session service (as in test_pages_apptest.py).

One form per checkout: the new total is previewed as quantities and discount change, Approve
charges exactly the total shown (or nothing), Reject needs a reason. The shopper sees one
message per decision, and may cancel a waiting checkout from the waiting banner.
"""

from __future__ import annotations

import pytest
from app_pages import metric, open_app, pending_checkout, texts, who
from streamlit.testing.v1 import AppTest

from assistant.application import line_key

pytestmark = pytest.mark.timeout(180)


def the_line(shop, approval_id: str) -> dict:
    """The one line of a checkout: one pair (its unit price is the catalog's)."""
    [approval] = [a for a in shop.approvals(who(shop, "olga"), None) if a.id == approval_id]
    return approval.items[0]


def money(amount: float) -> str:
    return f"${round(amount, 2):,.2f}"


def decided_rows(app: AppTest) -> list[dict]:
    table = next(t.value for t in app.dataframe if "Outcome" in t.value.columns)
    return table.to_dict("records")


# --- the decision form -------------------------------------------------------------------


def test_the_new_total_is_previewed_as_quantities_and_discount_change(shop) -> None:
    _, approval_id = pending_checkout(shop)
    line = the_line(shop, approval_id)
    price = line["unit_price"]
    app = open_app("olga")
    assert metric(app, "Total") == money(price)
    assert app.button(key=f"approve-{approval_id}").label == f"Approve · {money(price)}"

    app.number_input(key=f"qty-{approval_id}-{line_key(line)}").set_value(2).run()
    assert metric(app, "New total") == money(2 * price)

    app.slider(key=f"discount-{approval_id}").set_value(20).run()
    assert not app.exception
    new_total = money(round(2 * price, 2) * 0.8)
    assert metric(app, "New total") == new_total
    assert app.button(key=f"approve-{approval_id}").label == f"Approve · {new_total}"
    assert f"subtotal {money(2 * price)} − 20% = {new_total}" in texts(app.caption)


def test_approve_charges_the_discounted_total_shown_and_is_recorded_as_an_edit(shop) -> None:
    session_id, approval_id = pending_checkout(shop)
    discounted = round(the_line(shop, approval_id)["unit_price"] * 0.8, 2)
    app = open_app("olga")
    app.slider(key=f"discount-{approval_id}").set_value(20).run()
    app.text_input(key=f"note-{approval_id}").input("Welcome back!").run()

    app.button(key=f"approve-{approval_id}").click().run()

    assert not app.exception
    assert (
        f"Checkout {approval_id} approved with changes (20% off): {money(discounted)} charged"
        in texts(app.success)
    )
    [order] = [o for o in shop.orders(who(shop, "olga")) if o.session_id == session_id]
    assert (order.total, order.discount_pct) == (discounted, 20)
    assert "approved with changes (20% off)" in [row["Outcome"] for row in decided_rows(app)]
    assert approval_id not in texts(app.markdown)  # left the queue


def test_approve_without_changes_is_a_plain_approval(shop) -> None:
    session_id, approval_id = pending_checkout(shop)
    price = the_line(shop, approval_id)["unit_price"]
    app = open_app("olga")
    app.button(key=f"approve-{approval_id}").click().run()
    assert f"Checkout {approval_id} approved: {money(price)} charged" in texts(app.success)
    [order] = [o for o in shop.orders(who(shop, "olga")) if o.session_id == session_id]
    assert (order.total, order.discount_pct) == (price, 0)


def test_an_approval_whose_form_changed_since_the_total_shown_charges_nothing(shop) -> None:
    """The discount moved in the same instant as the click: the total on screen was stale."""
    _, approval_id = pending_checkout(shop)
    price = the_line(shop, approval_id)["unit_price"]
    app = open_app("olga")
    app.slider(key=f"discount-{approval_id}").set_value(30)  # not yet previewed
    app.button(key=f"approve-{approval_id}").click().run()
    assert f"not the {money(price)} shown; nothing was decided" in texts(app.error)
    assert any(a.id == approval_id for a in shop.approvals(who(shop, "olga"), "pending"))
    assert metric(app, "New total") == money(price * 0.7)  # shown now: the next click may


def test_every_line_at_zero_cannot_be_approved(shop) -> None:
    _, approval_id = pending_checkout(shop)
    line = the_line(shop, approval_id)
    app = open_app("olga")
    app.number_input(key=f"qty-{approval_id}-{line_key(line)}").set_value(0).run()
    assert app.button(key=f"approve-{approval_id}").disabled
    assert "approving would order nothing" in texts(app.warning)


def test_reject_without_a_reason_is_refused_readably_and_nothing_changes(shop) -> None:
    _, approval_id = pending_checkout(shop)
    app = open_app("olga")
    app.button(key=f"reject-{approval_id}").click().run()
    assert "a rejection needs a reason the shopper can read" in texts(app.error)
    assert any(a.id == approval_id for a in shop.approvals(who(shop, "olga"), "pending"))


def test_reject_with_a_reason_tells_the_shopper_why(shop) -> None:
    session_id, approval_id = pending_checkout(shop)
    app = open_app("olga")
    app.text_input(key=f"note-{approval_id}").input("Out of laces this week").run()
    app.button(key=f"reject-{approval_id}").click().run()
    assert f"Checkout {approval_id} rejected" in texts(app.success)
    shopper = open_app("alice", session_id)
    assert "Out of laces this week" in texts(shopper.error)


# --- what the shopper sees ---------------------------------------------------------------


def last_answer_text(app: AppTest) -> str:
    """Every piece of text in the last assistant message of the chat."""
    answer = [m for m in app.chat_message if m.name == "assistant"][-1]
    parts = [answer.markdown, answer.success, answer.info, answer.error, answer.warning]
    return "\n".join(texts(part) for part in parts)


def test_the_shopper_sees_the_decision_once_with_the_stores_note(shop) -> None:
    session_id, approval_id = pending_checkout(shop)
    shop.decide(
        who(shop, "olga"),
        approval_id,
        {"action": "edit", "discount_pct": 20, "reason": "Welcome back!"},
    )
    total = money(the_line(shop, approval_id)["unit_price"] * 0.8)
    app = open_app("alice", session_id)
    answer = last_answer_text(app)
    assert answer.count(total) == 1, answer
    assert answer.count("Welcome back!") == 1, answer
    assert len(app.success) == 1
    # The model's relay is still in the conversation, for the model and for replay.
    assert total.rstrip("0").rstrip(".") in shop.current(who(shop, "alice"), session_id).reply


def test_the_shopper_cancels_from_the_waiting_banner(shop) -> None:
    session_id, approval_id = pending_checkout(shop)
    app = open_app("alice", session_id)
    assert "Waiting for store approval" in texts(app.markdown)

    app.button(key="approval-cancel").click().run()

    assert not app.exception
    assert "You cancelled this checkout" in texts(app.info)
    assert "Waiting for store approval" not in texts(app.markdown)
    assert not app.chat_input(key="shop-chat-input").proto.disabled
    assert "Cart (1)" in texts(app.subheader)  # the cart stays
    console = open_app("olga")
    assert f"approval-{approval_id}" not in [c.key for c in console.get("flex_container")]
    [row] = [r for r in decided_rows(console) if r["Checkout"] == approval_id]
    assert (row["Outcome"], row["By"]) == ("cancelled by the shopper", "alice")


def test_a_cancel_after_the_store_decided_says_it_came_too_late(shop) -> None:
    session_id, approval_id = pending_checkout(shop)
    app = open_app("alice", session_id)
    shop.decide(who(shop, "olga"), approval_id, {"action": "approve"})  # meanwhile
    app.button(key="approval-cancel").click().run()
    assert not app.exception
    assert f"Too late to cancel: Approval {approval_id} was already approved by olga" in texts(
        app.warning
    )
    assert "approved" in texts(app.success)


# --- decided checkouts -------------------------------------------------------------------


def test_decided_checkouts_read_as_words_and_money(shop) -> None:
    olga = who(shop, "olga")
    _, approved = pending_checkout(shop)
    shop.decide(olga, approved, {"action": "edit", "discount_pct": 20})
    _, rejected = pending_checkout(shop)
    shop.decide(olga, rejected, {"action": "reject", "reason": "Out of stock soon"})
    cancelled_session, cancelled = pending_checkout(shop)
    shop.cancel_checkout(who(shop, "alice"), cancelled_session)

    rows = {row["Checkout"]: row for row in decided_rows(open_app("olga"))}

    assert all("None" not in str(value) for row in rows.values() for value in row.values())
    assert rows[approved]["Outcome"] == "approved with changes (20% off)"
    charged = next(a.total for a in shop.approvals(olga, None) if a.id == approved)
    assert rows[approved]["Total"] == f"${charged:,.2f}"
    assert rows[approved]["Note or reason"] == "—"
    assert rows[approved]["Order"].startswith("ord-")
    assert (rows[rejected]["Outcome"], rows[rejected]["Note or reason"]) == (
        "rejected",
        "Out of stock soon",
    )
    asked = next(a.total for a in shop.approvals(olga, None) if a.id == rejected)
    assert rows[rejected]["Total"] == f"${asked:,.2f}, not charged"
    assert rows[cancelled]["Outcome"] == "cancelled by the shopper"
    assert (rows[approved]["By"], rows[cancelled]["By"]) == ("olga", "alice")
    assert all(len(row["When (UTC)"]) == len("2026-11-30 14:02") for row in rows.values())
