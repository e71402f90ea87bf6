"""The small pure pieces of the pages: sizes, ratings, decision keys, error messages."""

from __future__ import annotations

from types import SimpleNamespace

from assistant.application import AlreadyDecided, TurnError
from ui.components.decisions import line_key
from ui.components.products import sizes_text, stars
from ui.errors import readable


def test_sizes_are_shown_as_ranges_of_consecutive_half_sizes() -> None:
    assert sizes_text([5, 5.5, 6, 8, 9, 9.5]) == "5–6, 8, 9–9.5"
    assert sizes_text([10.5]) == "10.5"
    assert sizes_text([7, 6, 6.5]) == "6–7"
    assert sizes_text([]) == "sold out"


def test_rating_is_shown_as_five_stars_and_the_number() -> None:
    assert stars(4.3) == "★★★★☆ 4.3"
    assert stars(0) == "☆☆☆☆☆ 0.0"


def test_decision_line_keys_match_the_checkout_tool() -> None:
    from assistant.agent.checkout import line_key as checkout_line_key

    line = {"product_id": "TRL-003", "size": 8.5, "quantity": 1, "name": "x", "unit_price": 1.0}
    assert line_key(line) == checkout_line_key(line) == "TRL-003|8.5"
    assert line_key({**line, "size": 9.0}) == "TRL-003|9"


def test_errors_meant_for_people_are_shown_as_written_and_others_say_what_failed() -> None:
    assert readable(TurnError("This conversation has ended."), "x") == (
        "This conversation has ended."
    )
    decided = SimpleNamespace(id="apr-1", status="approved", decided_by="olga")
    assert readable(AlreadyDecided(decided), "x") == "Approval apr-1 was already approved by olga."
    message = readable(KeyError("cart"), "loading the cart")
    assert message.startswith("Something went wrong while loading the cart: KeyError")


def test_connection_failures_point_at_the_session_service() -> None:
    from botocore.exceptions import EndpointConnectionError

    error = EndpointConnectionError(endpoint_url="http://127.0.0.1:1/sessions/")
    message = readable(error, "loading the conversation")
    assert "session store" in message and "shoe-assistant up" in message
