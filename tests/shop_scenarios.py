"""Shop states that tests in several folders start from, made through the `Shop` facade."""

from __future__ import annotations

from assistant.application import Principal, Shop

#: approval lease (seconds) of the `fast_shop` fixture: a decision whose process "died" is
#: taken over this soon, so recovery tests do not wait the default 30 s
LEASE = 0.3


def waiting_checkout(shop: Shop, shopper: Principal) -> tuple[str, str]:
    """A new conversation of `shopper`'s whose checkout waits for the store:
    (session id, approval id)."""
    session_id = shop.new_conversation(shopper)
    shop.send(shopper, session_id, "trail shoes in size 9")
    shop.send(shopper, session_id, "add the first one in size 9")
    return session_id, shop.send(shopper, session_id, "checkout").pending_approval.id
