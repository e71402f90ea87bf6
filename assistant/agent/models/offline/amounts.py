"""The numbers in a shopper message: prices, quantities (pairs) and shoe sizes.

Prices are read first, then quantities, then sizes, each blanking what it understood, so one
number is never two things. The words around a number decide which it is:

- a quantity counts pairs: "2 pairs", "two of them", "two more", "x2", "qty 3", "make it 2",
  "change the quantity to 2", "set the quantity of the canvas sneaker to 2", "I want 3" (a
  digit after a verb counts only from 1 to 5: "I need 10" is no quantity);
- a size says "size", "a" or "in": "size 10", "make it a 10", "in a 9", "I'll take a 9.5",
  "change the size to 9" (read by `read_size_after_to` once no quantity claimed the "to").
"""

from __future__ import annotations

import re

from assistant.agent.models.offline.scanner import Scanner

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a": 1,
    "a single": 1,
    "a couple of": 2,
    "a couple": 2,
}

SIZE = r"(\d{1,2}(?:\.5|\.0)?)(\s*(?:1/2|½))?"
MONEY = r"\$?\s*(\d+(?:\.\d{1,2})?)"
# "up to 3 pairs", "no more than 2 of them" count pairs, not dollars. The whole number is
# checked, never a shorter piece of it ("over $200 size 10" is not "over $20").
_NOT_PAIRS = r"(?!\d|\.\d)(?!\s*(?:pairs?|of (?:them|those|these|it)\b))"

_WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
# "a" is a number only before "pair": "make it a 10" is a size, not one pair.
_COUNTED = "|".join(w for w in NUMBER_WORDS if not w.startswith("a"))
_NOT_A_COUNT = r"(?!\s*(?:\.\d|%|dollars|bucks|usd|\$|1/2|½))"
_QUANTITY_WORD = re.compile(r"\b(?:qty|quantity|number of pairs|how many pairs)\b")
_TO_COUNT = re.compile(rf"\bto\s+(\d{{1,2}}|{_WORDS})\b{_NOT_A_COUNT}(?!\s*(?:\.5|size))")


def size_value(number: str, half: str | None) -> float | None:
    """Convert a matched size to a float, or None if it is not a plausible shoe size."""
    value = float(number) + (0.5 if half else 0.0)
    if 1 <= value <= 16 and (value * 2).is_integer():
        return value
    return None


def read_prices(scan: Scanner) -> tuple[float | None, float | None]:
    """Read a price range ("between 80 and 150", "under $120", "around 100", "$90")."""
    for pattern in (
        rf"\bbetween\s+{MONEY}\s*(?:and|to|-)\s*{MONEY}",
        rf"\bfrom\s+{MONEY}\s+to\s+{MONEY}",
        rf"\$\s*(\d+(?:\.\d{{1,2}})?)\s*(?:-|to)\s*{MONEY}",
        r"\b(\d+)\s*(?:-|to)\s*(\d+)\s*(?:dollars|bucks|usd)\b",
    ):
        if match := scan.take(pattern):
            low, high = sorted((float(match.group(1)), float(match.group(2))))
            return low, high
    if match := scan.take(
        rf"(?:\b(?:under|below|less than|cheaper than|up to|no more than|not more than|"
        rf"max(?:imum)?(?: of)?|at most|within|budget(?: of| is)?)|<=?)\s*{MONEY}{_NOT_PAIRS}"
    ):
        return None, float(match.group(1))
    if match := scan.take(
        rf"(?:\b(?:over|above|more than|at least|min(?:imum)?(?: of)?|starting (?:at|from))|>=?)"
        rf"\s*{MONEY}{_NOT_PAIRS}"
    ):
        return float(match.group(1)), None
    if match := scan.take(rf"\b(?:around|about|roughly|approximately|~)\s*{MONEY}\b"):
        centre = float(match.group(1))
        return round(centre * 0.8, 2), round(centre * 1.2, 2)
    if match := scan.take(r"\$\s*(\d+(?:\.\d{1,2})?)|\b(\d+(?:\.\d{1,2})?)\s*(?:dollars|bucks)\b"):
        return None, float(match.group(1) or match.group(2))
    return None, None


def _count(token: str) -> int:
    return int(token) if token.isdigit() else NUMBER_WORDS[token]


def read_quantity(scan: Scanner) -> int | None:
    """Read how many pairs the message asks for, or None."""
    # "set the quantity of the canvas sneaker to 2": only "quantity" and "to 2" are blanked, so
    # the shoe's name in between is still there to be read.
    keyword = _QUANTITY_WORD.search(scan.rest)
    if keyword and (target := _TO_COUNT.search(scan.rest, keyword.end())):
        scan.blank(*keyword.span())
        scan.blank(*target.span())
        return _count(target.group(1))
    for pattern in (
        r"\bx\s*(\d{1,2})\b",
        r"\b(\d{1,2})\s*x\b",
        rf"\b(\d{{1,2}}|{_WORDS})\s+(?:pairs?|of (?:them|those|these|it))\b",
        rf"\b(\d{{1,2}}|{_COUNTED})\s+(?:more|extra|additional)(?:\s+pairs?)?\b(?!\s+than)",
        rf"\b(?:qty|quantity)\s*(?:of|:|=)?\s*(\d{{1,2}}|{_WORDS})\b{_NOT_A_COUNT}",
        rf"\bmake (?:it|that|them|those) (\d{{1,2}}|{_COUNTED})\b(?!\s*(?:\.5|1/2))",
        rf"\b(?:take|add|get|grab|want|need|have) ({_COUNTED})\b{_NOT_A_COUNT}",
        # A bare digit after a verb is a count only when small: "I want 3", not "I need 10".
        rf"\b(?:take|add|get|grab|want|need|like|order) ([1-5])\b{_NOT_A_COUNT}",
    ):
        if match := scan.take(pattern):
            return _count(match.group(1))
    return None


def read_size(scan: Scanner) -> float | None:
    """Read a shoe size ("size 10", "10.5", "in a 9", "make it a 9.5", "size 9 1/2")."""
    for pattern in (
        rf"\bsize\s*(?:of\s*|is\s*|:\s*)?{SIZE}",
        rf"\b(?:in|at)\s+(?:an?\s+)?{SIZE}\b(?!\s*(?:pairs?|dollars|bucks|usd|%))",
        rf"\bmake (?:it|that|them|those) an?\s+{SIZE}",
        rf"\b(?:i wear|i'?m)\s+(?:an?\s+)?{SIZE}",
        rf"\b(?:take|want|need|like|get|have)\s+an?\s+{SIZE}\b(?!\s*(?:pairs?|dollars|%))",
        rf"^{SIZE}(?:\s*(?:please|pls|thanks))?$",
    ):
        match = scan.take(pattern)
        if not match:
            continue
        if (value := size_value(*match.group(1, 2))) is not None:
            return value
        if pattern.startswith(r"\bsize"):
            # The shopper said "size 30" outright: pass it on so the shop answers that it does
            # not exist, rather than quietly choosing another size.
            return float(match.group(1)) + (0.5 if match.group(2) else 0.0)
    return None


def read_size_after_to(scan: Scanner) -> float | None:
    """The size in "change the size to 9", "swap to a 9.5" (after the quantity was read)."""
    match = re.search(rf"\bto\s+(?:an?\s+)?{SIZE}\b(?!\s*(?:pairs?|dollars|\$))", scan.rest)
    return size_value(*match.group(1, 2)) if match else None
