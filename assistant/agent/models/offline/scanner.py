"""Reading one shopper message phrase by phrase, so that no word is read twice.

Each phrase the parser understands is blanked out of the text it reads next: the 120 in
"under $120" is a price, so it can no longer be taken for a size or a quantity, and the "boots"
of "hiking boots" cannot end up in the free-text query.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Longest message the parser reads; the rest of a pasted essay is ignored, not crashed on.
MAX_PARSE_CHARS = 1000


def normalise(text: str) -> str:
    """Lower-case, straighten quotes, collapse spaces, and cut to `MAX_PARSE_CHARS`."""
    text = text[:MAX_PARSE_CHARS].lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    text = text.replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=4096)
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive pattern for a vocabulary phrase."""
    return re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", re.IGNORECASE)


class Scanner:
    """Holds the message text and blanks out each phrase once it has been understood."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.rest = text

    def blank(self, start: int, end: int) -> None:
        """Blank out `rest[start:end]`, keeping every other character where it was."""
        self.rest = self.rest[:start] + " " * (end - start) + self.rest[end:]

    def take(self, pattern: re.Pattern[str] | str) -> re.Match[str] | None:
        """Find `pattern` in what is left, blank it out, and return the match."""
        match = re.search(pattern, self.rest)
        if match is not None:
            self.blank(*match.span())
        return match

    def take_choice(self, *tables: dict[str, tuple[str, ...]]) -> str | None:
        """Return the first key of the first table one of whose phrases appears in the text.

        A later table is read only when no phrase of an earlier one appears. Every phrase of
        the winning key, in every table, is blanked, so "hiking boots" leaves no "boots" behind
        to end up in the free-text query.
        """
        for table in tables:
            winner = next(
                (key for key, phrases in table.items() if any(self.find(p) for p in phrases)),
                None,
            )
            if winner is not None:
                for phrase in (phrase for table in tables for phrase in table.get(winner, ())):
                    while self.take(phrase_pattern(phrase)):
                        pass
                return winner
        return None

    def find(self, phrase: str) -> bool:
        """Is `phrase` in what is left of the text (whole words only)?"""
        return phrase_pattern(phrase).search(self.rest) is not None

    def first_of(self, table: dict[str, str]) -> str | None:
        """The first phrase of `table` that appears in what is left (nothing is blanked)."""
        return next((phrase for phrase in table if self.find(phrase)), None)

    def take_mapped(self, table: dict[str, str]) -> str | None:
        """Return the value of the first phrase of `table` that appears in the text."""
        for phrase, value in table.items():
            if self.take(phrase_pattern(phrase)):
                return value
        return None
