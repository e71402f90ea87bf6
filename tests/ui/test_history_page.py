"""The History page run headless with Streamlit's AppTest against a real local session service
(as in test_pages_apptest.py): turns in the shop's words, the expert view, selecting a turn by
clicking the tree, replay and fork (with a tick before a checkout goes to the store again),
switching branches without adding one, copying.

AppTest cannot click inside a chart, so a click is given as the chart's selection state, the
value Streamlit hands the page after a click in the browser (the browser test clicks for real).
"""

from __future__ import annotations

import pytest
from app_pages import RUN_TIMEOUT, conversation_with_cart, metric, signed_in, texts, who
from streamlit.testing.v1 import AppTest

from conftest import APP

pytestmark = pytest.mark.timeout(240)

LANGGRAPH_NAMES = ("__start__", "agent", "tools")


def open_history(shop, session_id: str) -> AppTest:
    """alice's History page on a conversation, after one run."""
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    app.session_state["identity.token"] = signed_in(shop, "alice")[1]
    app.query_params["session"] = session_id
    app.run()
    app.switch_page("views/history.py").run()
    assert not app.exception, app.exception
    return app


def story(app: AppTest) -> str:
    """What the page says about the selected turn."""
    return texts(app.get("markdown")) + "\n" + texts(app.caption)


def pick(app: AppTest, turn_id: str) -> AppTest:
    app.selectbox(key="history-turn").set_value(turn_id).run()
    assert not app.exception, app.exception
    return app


def bought(shop) -> str:
    """alice bought the second trail shoe; olga approved it with 10% off."""
    session_id = conversation_with_cart(shop)
    waiting = shop.send(who(shop), session_id, "checkout")
    shop.decide(
        who(shop, "olga"), waiting.pending_approval.id, {"action": "edit", "discount_pct": 10}
    )
    return session_id


def test_history_tells_each_turn_in_the_shops_words(shop) -> None:
    session_id = conversation_with_cart(shop)
    history = shop.turns(who(shop), session_id)
    app = open_history(shop, session_id)

    assert metric(app, "Turns on this branch") == "2" and metric(app, "Branches") == "1"
    assert "Checkpoints" not in [m.label for m in app.metric]  # the expert view's
    assert len(app.get("vega_lite_chart")) == 1  # the branch tree
    picker = app.selectbox(key="history-turn")
    assert picker.value == history.current_turn_id
    assert picker.options == [
        "● Turn 2 · You: “add the second one”",
        "● Turn 1 · You: “trail shoes under $150 in size 8.5”",
    ]
    shown = story(app)
    assert "**You:** add the second one" in shown
    assert "added 1 × Switchback Trail Co. Scree Ultra 5 in size 8.5 to the cart" in shown
    steps = app.dataframe[0].value
    assert list(steps.columns) == ["What happened"]
    assert "your message arrived: “add the second one”" in steps["What happened"].tolist()
    page = shown + " ".join(" ".join(map(str, df.value.to_numpy().ravel())) for df in app.dataframe)
    assert not any(name in page for name in LANGGRAPH_NAMES), page


def test_the_expert_view_shows_langgraphs_nodes_and_checkpoints(shop) -> None:
    session_id = conversation_with_cart(shop)
    history = shop.turns(who(shop), session_id)
    app = open_history(shop, session_id)

    app.toggle(key="history-expert").set_value(True).run()

    assert metric(app, "Checkpoints") == str(len(history.checkpoints))
    steps = app.dataframe[0].value
    assert {"Step", "Source", "Node", "Next", "Checkpoint"} <= set(steps.columns)
    assert "__start__" in steps["Node"].tolist()
    assert history.turns[-1].end_checkpoint_id in steps["Checkpoint"].tolist()
    every = app.dataframe[-1].value
    assert len(every) == len(history.checkpoints) and "input" in every["Source"].tolist()
    assert history.turns[-1].end_checkpoint_id in str(app.json[0].value)
    assert app.button(key="history-step-go")  # replay from a step


def test_clicking_a_turn_in_the_tree_selects_it(shop) -> None:
    session_id = conversation_with_cart(shop)
    history = shop.turns(who(shop), session_id)
    first, second = history.turns
    app = open_history(shop, session_id)

    # What Streamlit hands the page after a click on the first dot.
    app.session_state[f"history-tree-{second.turn_id}"] = {
        "selection": {"turn": [{"turn_id": first.turn_id}]}
    }
    app.run()

    assert not app.exception, app.exception
    assert app.selectbox(key="history-turn").value == first.turn_id
    assert "**You:** trail shoes under $150 in size 8.5" in story(app)
    app.run()  # the click is not applied again on the next run
    assert app.selectbox(key="history-turn").value == first.turn_id
    pick(app, second.turn_id)
    assert "**You:** add the second one" in story(app)


def test_fork_with_an_edited_message_makes_a_second_branch_the_chat_follows(shop) -> None:
    session_id = conversation_with_cart(shop)
    first = shop.turns(who(shop), session_id).turns[0]
    app = pick(open_history(shop, session_id), first.turn_id)

    app.text_area(key=f"fork-message-{first.turn_id}").set_value("running shoes under $120")
    app.button(key=f"FormSubmitter:fork-form-{first.turn_id}-Fork with this message").click()
    app.run()

    assert not app.exception, app.exception
    assert "Forked turn 1 with your edited message" in texts(app.success)
    assert metric(app, "Branches") == "2"
    humans = [m.text for m in shop.messages(who(shop), session_id) if m.type == "human"]
    assert humans == ["running shoes under $120"]
    assert (
        app.selectbox(key="history-turn").value == shop.turns(who(shop), session_id).current_turn_id
    )
    assert "Turn 1 (edited)" in story(app)


def test_fork_with_an_edited_cart_replaces_the_cart(shop) -> None:
    session_id = conversation_with_cart(shop)
    added = shop.turns(who(shop), session_id).turns[1]
    app = open_history(shop, session_id)

    app.session_state[f"fork-cart-{added.turn_id}"] = {"edited_rows": {0: {"quantity": 3}}}
    app.button(key=f"FormSubmitter:fork-cart-form-{added.turn_id}-Fork with this cart").click()
    app.run()

    assert not app.exception, app.exception
    assert [line["quantity"] for line in shop.current(who(shop), session_id).cart] == [3]
    assert "Cart edited after turn 2" in story(app)


def test_fork_without_any_edit_is_refused_readably(shop) -> None:
    session_id = conversation_with_cart(shop)
    added = shop.turns(who(shop), session_id).turns[1]
    app = open_history(shop, session_id)
    app.button(key=f"FormSubmitter:fork-form-{added.turn_id}-Fork with this message").click()
    app.run()
    assert "needs an edited message" in texts(app.error)
    assert metric(app, "Branches") == "1"


def test_replaying_a_turn_starts_a_branch(shop) -> None:
    session_id = conversation_with_cart(shop)
    first = shop.turns(who(shop), session_id).turns[0]
    app = pick(open_history(shop, session_id), first.turn_id)
    assert not app.warning  # nothing here goes to the store
    app.button(key="history-replay").click().run()
    assert not app.exception, app.exception
    assert "Replayed turn 1" in texts(app.success)
    assert metric(app, "Branches") == "2" and "Turn 1 (replayed)" in story(app)


def test_replaying_a_checkout_says_what_happens_and_waits_for_a_tick(shop) -> None:
    session_id = bought(shop)
    checkout = shop.turns(who(shop), session_id).turns[2]
    [order] = shop.orders(who(shop))
    app = open_history(shop, session_id)
    assert app.selectbox(key="history-turn").value == checkout.turn_id

    warned = texts(app.warning)
    assert "goes to the store again" in warned
    assert f"order {order.id} (${order.total:.2f}) is reused" in warned
    assert app.button(key="history-replay").disabled  # not before the tick
    before = len(shop.history(who(shop), session_id))
    app.checkbox(key=f"replay-confirm-{checkout.turn_id}").check().run()
    app.button(key="history-replay").click().run()

    assert not app.exception, app.exception
    assert len(shop.history(who(shop), session_id)) > before
    waiting = shop.current(who(shop), session_id)
    assert waiting.pending_approval.replay_of_order == order.id
    assert order.id in waiting.reply and f"${order.total:.2f}" in waiting.reply
    assert "waiting for the store's decision" in texts(app.info)
    assert "history-replay" not in [button.key for button in app.button]  # until it decides


def test_switching_back_to_a_branch_keeps_the_branch_count(shop) -> None:
    session_id = conversation_with_cart(shop)
    history = shop.turns(who(shop), session_id)
    shop.fork(who(shop), session_id, history.turns[0].start_checkpoint_id, message="running shoes")
    app = pick(open_history(shop, session_id), history.turns[1].turn_id)
    assert metric(app, "Branches") == "2"

    app.button(key="branch-go").click().run()

    assert not app.exception, app.exception
    assert "Switched to the branch ending at turn 2" in texts(app.success)
    assert metric(app, "Branches") == "2"
    humans = [m.text for m in shop.messages(who(shop), session_id) if m.type == "human"]
    assert humans == ["trail shoes under $150 in size 8.5", "add the second one"]
    assert "**Turn 2** · on the current branch" in story(app)


def test_copy_into_a_new_conversation_opens_the_copy(shop) -> None:
    session_id = conversation_with_cart(shop)
    before = {c.session_id for c in shop.conversations(who(shop))}
    app = open_history(shop, session_id)
    app.button(key="history-copy").click().run()
    assert not app.exception, app.exception
    assert "Copied into a new conversation" in texts(app.success)
    [copy] = [c.session_id for c in shop.conversations(who(shop)) if c.session_id not in before]
    assert shop.current(who(shop), copy).cart == shop.current(who(shop), session_id).cart
    assert metric(app, "Branches") == "1"


def test_a_long_conversation_shows_its_last_exchanges_and_all_of_them_on_request(shop) -> None:
    alice = who(shop)
    session_id = shop.new_conversation(alice)
    prompts = ["trail shoes in size 9", "running shoes under $150", "sneakers in size 8"]
    for index in range(10):
        shop.send(alice, session_id, f"{prompts[index % 3]} ({index})")

    app = open_history(shop, session_id)

    assert "The last 8 of 10 exchanges up to this turn." in texts(app.caption)
    assert len([m for m in app.chat_message if m.name == "user"]) == 8
    assert "(0)" not in texts(app.text) and "(9)" in texts(app.text)
    # Only the latest results are cards with pictures; earlier ones are a line each.
    assert 1 <= len(app.get("image")) <= 6
    assert any("products shown" in expander.label for expander in app.expander)

    app.toggle(key="history-all-turns").set_value(True).run()
    assert not app.exception, app.exception
    assert len([m for m in app.chat_message if m.name == "user"]) == 10
    assert "(0)" in texts(app.text)
