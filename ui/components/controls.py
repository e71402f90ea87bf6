"""What the Shop page lets the shopper do in place: who, in which conversation, and whether now.

The chat, the product cards and the cart get one `ShopperControls`; without it (the History
page) they are read-only. Every click goes through `click`, so a failure is said in the
conversation (composer.py), never as a traceback or a line under the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.application import Principal, Shop, TurnVersions
from ui.components.composer import clear_failure, report_failure
from ui.errors import EXPECTED, log, readable


@dataclass(frozen=True)
class ShopperControls:
    """The shopper's open conversation, and what they may change in it right now."""

    shop: Shop
    who: Principal
    session_id: str
    writable: bool  # False once the conversation has ended, or while a checkout waits
    versions: list[TurnVersions] = field(default_factory=list)  # per chat turn
    shoe_size: float | None = None  # the size pickers start on the shopper's size

    def versions_of(self, index: int) -> TurnVersions | None:
        """Where turn `index` can be edited from, and its versions (None if unknown)."""
        return self.versions[index] if 0 <= index < len(self.versions) else None


def click(controls: ShopperControls, doing: str, call: Callable[..., Any], *args: Any) -> None:
    """A button's callback: `call(who, session_id, *args)` on the Shop; a failure is reported
    in the conversation (the page runs right after a callback, so it shows at once)."""
    clear_failure()
    try:
        call(controls.who, controls.session_id, *args)
    except Exception as error:  # the page must survive anything the backend raises
        if not isinstance(error, EXPECTED):
            log.exception("UI call failed while %s", doing)
        report_failure(controls.session_id, readable(error, doing))
