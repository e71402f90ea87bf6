"""Turn one shopper message into a `ShopperRequest` the offline model can act on.

The parser only reads words; it knows nothing about the conversation. Deciding what "it" or
"the second one" points at, and which filters a refinement keeps, happens in `decide.py`, which
reads the earlier tool results. The shop's words (categories, genders, colours, brands) are the
ones catalog search understands: `assistant.shopdb.vocabulary`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from assistant.shopdb.vocabulary import (
    CATEGORY_HINTS,
    CATEGORY_WORDS,
    GENDER_WORDS,
    STOPWORDS,
    ShopVocabulary,
)

#: Longest message the parser reads; the rest of a pasted essay is ignored, not crashed on.
MAX_PARSE_CHARS = 1000

#: Price ceiling used for "cheap", "affordable", "budget".
CHEAP_MAX_PRICE = 80.0

# Intents a message can have. Plain strings keep the model's dispatch readable.
GREETING, HELP, THANKS, GOODBYE = "greeting", "help", "thanks", "goodbye"
SEARCH, DETAILS, ADD, UPDATE, REMOVE = "search", "details", "add", "update", "remove"
CLEAR_CART, VIEW_CART, CHECKOUT, NO_CHECKOUT = "clear_cart", "view_cart", "checkout", "no_checkout"
SIZE_ONLY, UNKNOWN = "size_only", "unknown"

_NUMBER_WORDS = {
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
_ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
    "5th": 5,
    "6th": 6,
    "7th": 7,
    "8th": 8,
    "9th": 9,
    "10th": 10,
    "last": -1,
    "top": 1,
}

_SIZE = r"(\d{1,2}(?:\.5|\.0)?)(\s*(?:1/2|½))?"
_MONEY = r"\$?\s*(\d+(?:\.\d{1,2})?)"

# Words of a conversation with the assistant, besides the shop's stop words; whatever is left
# over becomes the free-text query.
_CONVERSATION_WORDS = """
at by from i'm im i'd id i'll ill we you your search look see got give would like love anything
do does did have has can could pls plz footwear kicks one ones that this these those them its
it's be was were what which who how about more other others else great best really very also
just only instead size sizes sized colour color colors colours price prices cost dollars bucks
usd cheap cheaper cheapest expensive affordable budget inexpensive bargain under below over
above less than between up most least max min maximum minimum around roughly approximately
options option available stock sale buy purchase order maybe there here too all well okay ok yes
no not now then again recommend suggest browse list hey hi hello thanks thank into kind type
style let lets let's there's whats what's hmm um uh so but if as way wear wearing pick picks
number item result results rated rating ratings review reviews top another am mine add put take
grab tell details detail info information describe change switch swap update make remove delete
drop cart basket bag checkout check out place empty clear help don't dont yet wait
"""
_STOP_WORDS = STOPWORDS | frozenset(_CONVERSATION_WORDS.split())


def _longest_first(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Each key's phrases longest first, so "trail runners" is read whole, not as "trail"."""
    return {
        key: tuple(sorted(dict.fromkeys((key, *phrases)), key=len, reverse=True))
        for key, phrases in table.items()
    }


_CATEGORY_PHRASES = _longest_first(CATEGORY_WORDS)
_CATEGORY_HINT_PHRASES = {
    key: tuple(sorted(hints, key=len, reverse=True)) for key, hints in CATEGORY_HINTS.items()
}
_GENDER_PHRASES = _longest_first(GENDER_WORDS)

_RE_CHECKOUT = re.compile(
    r"\b(?:check ?out|checkout|place (?:the|my|an|this|our) order|place order|"
    r"complete (?:the|my) (?:order|purchase)|finali[sz]e (?:the|my) order|pay(?: now)?|"
    r"proceed to (?:payment|checkout)|purchase|buy|order (?:it|them|now|these|those))\b"
)
_RE_NO_CHECKOUT = re.compile(
    r"\b(?:don'?t|do not|not yet|no need to|wait|hold on|never mind)\b"
    r".*\b(?:check ?out|checkout|buy|order|pay|purchase)"
)
_RE_CLEAR_CART = re.compile(
    r"\b(?:empty|clear)\b.*\b(?:cart|basket|bag)\b|\b(?:remove|delete|drop) (?:everything|all)\b|"
    r"\bstart over\b"
)
_RE_REMOVE = re.compile(r"\b(?:remove|delete|drop|take (?:out|off)|get rid of)\b")
_RE_UPDATE = re.compile(
    r"\b(?:change|switch|swap|update|make (?:it|that|them|those|the \w+)|instead of|"
    r"actually)\b"
)
_RE_ADD = re.compile(
    r"\b(?:add|put|i'?ll take|i will take|take(?! a look)|grab|i'?ll have|get me|i'?ll get|"
    r"(?:can|could|may) i (?:get|have|order))\b"
)
# "I want the second one" adds; "I want trail shoes" searches: soft verbs need a reference.
_RE_SOFT_ADD = re.compile(r"\b(?:i want|i'?d like|i need|give me)\b")
_RE_VIEW_CART = re.compile(r"\b(?:cart|basket|bag)\b")
_RE_DETAILS = re.compile(
    r"\b(?:details?|more (?:info|information)|tell me (?:more )?about|more about|describe|"
    r"info (?:on|about)|specs?|look at|take a look|what about|how about|reviews? (?:of|for))\b"
)
_RE_SEARCH_VERB = re.compile(
    r"\b(?:show|find|search|look(?:ing)? for|need|want|looking|have|got|any|recommend|"
    r"suggest|browse|list|shopping for|options)\b"
)
_RE_SHOE_NOUN = re.compile(r"\b(?:shoes?|pairs?|footwear|kicks|trainers)\b")
_RE_MORE = re.compile(
    r"\b(?:show (?:me )?more|more (?:options|results|shoes|of (?:those|them|these))|"
    r"other options|anything else|what else|others|next (?:ones|page)|see more)\b"
)
_RE_CHEAPER = re.compile(
    r"\b(?:cheaper|less expensive|lower price|lower priced|more affordable|less pricey)\b"
)
_RE_INSTEAD = re.compile(r"\b(?:instead|rather|what about|how about|only)\b")
_RE_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|howdy|yo|good (?:morning|afternoon|evening)|greetings)\b"
)
_RE_HELP = re.compile(
    r"\b(?:help|what can you do|how does (?:this|it) work|what do you (?:do|sell|have)|"
    r"who are you|what are you)\b"
)
_RE_THANKS = re.compile(r"\b(?:thanks|thank you|thx|cheers|ty|appreciate it)\b")
_RE_GOODBYE = re.compile(r"\b(?:bye|goodbye|see you|see ya|that'?s all)\b")
# "that"/"this" only count on their own ("add that in size 9"), not in "shoes that breathe".
_RE_PRONOUN = re.compile(
    r"\b(?:it|them|those|these|the same(?: one)?|another|one more|(?:that|this)(?: one| pair)?"
    r"(?=\s*(?:$|[,.!?]|in\b|size\b|x\b|\d|too\b|please\b|to\b|instead\b|for me\b)))"
)
_RE_QUESTION = re.compile(r"^(?:what|which|how|is|are|does|do|can)\b|\?$")
_RE_DEFINITE = re.compile(r"\bthe (?:[\w'-]+ ){1,3}(?:one|ones|pair|pairs)\b")
_RE_COMPOUND = re.compile(
    r"^(?P<first>.+?)[\s,]+(?:and|then)\s+(?:then\s+)?(?P<second>(?:add|put|grab)\b.*)$"
)


@dataclass(frozen=True)
class Reference:
    """How a message points at a product shown earlier ("the second one", "the blue ones")."""

    ordinal: int | None = None  # 1-based position in the last result list; -1 means the last one
    pronoun: bool = False  # "it", "that one", "them"
    superlative: str | None = None  # "cheapest" | "priciest" | "best_rated"
    words: tuple[str, ...] = ()  # leftover words, matched against product names

    @property
    def given(self) -> bool:
        """True when the message points at something (ordinal, pronoun or superlative)."""
        return self.ordinal is not None or self.pronoun or self.superlative is not None


@dataclass(frozen=True)
class ShopperRequest:
    """What one shopper message asks for, before it is resolved against the conversation."""

    intent: str
    text: str = ""
    category: str | None = None
    brand: str | None = None
    colour: str | None = None
    gender: str | None = None
    size: float | None = None
    min_price: float | None = None
    max_price: float | None = None
    quantity: int | None = None
    query: str = ""
    cheap: bool = False
    cheaper: bool = False
    more: bool = False
    instead: bool = False
    reference: Reference = field(default_factory=Reference)
    then: ShopperRequest | None = None  # the "and add the first in size 9" half of a compound

    @property
    def has_filters(self) -> bool:
        """True when the message names something a search can filter on."""
        return any(
            value is not None
            for value in (
                self.category,
                self.brand,
                self.colour,
                self.gender,
                self.min_price,
                self.max_price,
            )
        ) or bool(self.cheap or self.query)


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


class _Scanner:
    """Holds the message text and blanks out each phrase once it has been understood.

    Blanking keeps one word from being read twice, e.g. the 120 in "under $120" is a price and
    so can no longer be taken for a size or a quantity.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.rest = text

    def take(self, pattern: re.Pattern[str] | str) -> re.Match[str] | None:
        """Find `pattern` in what is left, blank it out, and return the match."""
        match = re.search(pattern, self.rest)
        if match is not None:
            start, end = match.span()
            self.rest = self.rest[:start] + " " * (end - start) + self.rest[end:]
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

    def take_mapped(self, table: dict[str, str]) -> str | None:
        """Return the value of the first phrase of `table` that appears in the text."""
        for phrase, value in table.items():
            if self.take(phrase_pattern(phrase)):
                return value
        return None


def _size_value(number: str, half: str | None) -> float | None:
    """Convert a matched size to a float, or None if it is not a plausible shoe size."""
    value = float(number) + (0.5 if half else 0.0)
    if 1 <= value <= 16 and (value * 2).is_integer():
        return value
    return None


def _read_prices(scan: _Scanner) -> tuple[float | None, float | None]:
    """Read a price range ("between 80 and 150", "under $120", "around 100", "$90")."""
    for pattern in (
        rf"\bbetween\s+{_MONEY}\s*(?:and|to|-)\s*{_MONEY}",
        rf"\bfrom\s+{_MONEY}\s+to\s+{_MONEY}",
        rf"\$\s*(\d+(?:\.\d{{1,2}})?)\s*(?:-|to)\s*{_MONEY}",
        r"\b(\d+)\s*(?:-|to)\s*(\d+)\s*(?:dollars|bucks|usd)\b",
    ):
        if match := scan.take(pattern):
            low, high = sorted((float(match.group(1)), float(match.group(2))))
            return low, high
    if match := scan.take(
        rf"(?:\b(?:under|below|less than|cheaper than|up to|no more than|not more than|"
        rf"max(?:imum)?(?: of)?|at most|within|budget(?: of| is)?)|<=?)\s*{_MONEY}"
    ):
        return None, float(match.group(1))
    if match := scan.take(
        rf"(?:\b(?:over|above|more than|at least|min(?:imum)?(?: of)?|starting (?:at|from))|>=?)"
        rf"\s*{_MONEY}(?!\s*(?:pairs?|sizes?))"
    ):
        return float(match.group(1)), None
    if match := scan.take(rf"\b(?:around|about|roughly|approximately|~)\s*{_MONEY}\b"):
        centre = float(match.group(1))
        return round(centre * 0.8, 2), round(centre * 1.2, 2)
    if match := scan.take(r"\$\s*(\d+(?:\.\d{1,2})?)|\b(\d+(?:\.\d{1,2})?)\s*(?:dollars|bucks)\b"):
        return None, float(match.group(1) or match.group(2))
    return None, None


def _read_quantity(scan: _Scanner) -> int | None:
    """Read a quantity ("x2", "2 pairs", "two pairs", "qty 3", "make it 2")."""
    words = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    # "a" is a number only before "pair": "make it a 10" is a size, not one pair.
    counted = "|".join(w for w in _NUMBER_WORDS if not w.startswith("a"))
    for pattern in (
        r"\bx\s*(\d{1,2})\b",
        r"\b(\d{1,2})\s*x\b",
        rf"\b(\d{{1,2}}|{words})\s+(?:pairs?|of (?:them|those|these|it))\b",
        rf"\b(?:qty|quantity)\s*(?:of|to|:|=)?\s*(\d{{1,2}}|{words})\b",
        rf"\bmake (?:it|that|them|those) (\d{{1,2}}|{counted})\b(?!\s*(?:\.5|1/2))",
        rf"\b(?:take|add|get|grab|want|need|have) ({counted})\b(?!\s*(?:\.\d|%|dollars))",
    ):
        if match := scan.take(pattern):
            token = match.group(1)
            return int(token) if token.isdigit() else _NUMBER_WORDS[token]
    return None


def _read_size(scan: _Scanner) -> float | None:
    """Read a shoe size ("size 10", "10.5", "in a 9", "make it a 9.5", "size 9 1/2")."""
    for pattern in (
        rf"\bsize\s*(?:of\s*|is\s*|:\s*)?{_SIZE}",
        rf"\b(?:in|at)\s+(?:an?\s+)?{_SIZE}\b(?!\s*(?:pairs?|dollars|bucks|usd|%))",
        rf"\bmake (?:it|that|them|those) an?\s+{_SIZE}",
        rf"\b(?:i wear|i'?m)\s+(?:an?\s+)?{_SIZE}",
        rf"^{_SIZE}(?:\s*(?:please|pls|thanks))?$",
    ):
        match = scan.take(pattern)
        if not match:
            continue
        if (value := _size_value(*match.group(1, 2))) is not None:
            return value
        if pattern.startswith(r"\bsize"):
            # The shopper said "size 30" outright: pass it on so the shop answers that it does
            # not exist, rather than quietly choosing another size.
            return float(match.group(1)) + (0.5 if match.group(2) else 0.0)
    return None


def _read_reference(scan: _Scanner) -> Reference:
    """Read how the message points at an earlier product."""
    superlative = None
    for name, pattern in (
        ("cheapest", r"\b(?:cheapest|least expensive|lowest price[d]?|most affordable)\b"),
        ("priciest", r"\b(?:most expensive|priciest|highest price[d]?)\b"),
        ("best_rated", r"\b(?:best|highest|top)[ -]?rated\b|\bbest (?:one|ones|reviewed)\b"),
    ):
        if scan.take(pattern):
            superlative = name
            break
    ordinal = None
    ordinal_words = "|".join(_ORDINAL_WORDS)
    if match := scan.take(rf"\b({ordinal_words})\b(?:\s+(?:one|ones|pair|shoe|option|item))?"):
        ordinal = _ORDINAL_WORDS[match.group(1)]
    elif match := scan.take(
        r"(?:#|\bnumber\s*|\bno\.\s*|\boption\s*|\bitem\s*|\bresult\s*)(\d{1,2})\b"
    ):
        ordinal = int(match.group(1))
    pronoun = bool(_RE_PRONOUN.search(scan.rest))
    return Reference(ordinal=ordinal, pronoun=pronoun, superlative=superlative)


def _leftover_words(rest: str) -> tuple[str, ...]:
    """Words nobody understood yet: candidates for product names and the free-text query."""
    words = re.findall(r"[a-z][a-z0-9'-]*", rest)
    return tuple(w for w in words if w not in _STOP_WORDS and len(w) > 1)


def _parse_one(text: str, vocabulary: ShopVocabulary) -> ShopperRequest:
    """Parse a single clause (no compound splitting)."""
    scan = _Scanner(text)
    checkout_said = bool(_RE_CHECKOUT.search(text))
    min_price, max_price = _read_prices(scan)
    cheaper = bool(scan.take(_RE_CHEAPER))
    cheap = bool(scan.take(r"\b(?:cheap|inexpensive|affordable|budget|bargain)\b"))
    quantity = _read_quantity(scan)
    size = _read_size(scan)
    more = bool(_RE_MORE.search(text))
    instead = bool(_RE_INSTEAD.search(text))
    # Brands first: "Switchback Trail Co." must not lose its "trail" to the category.
    brand = scan.take_mapped(vocabulary.brands)
    gender = scan.take_choice(_GENDER_PHRASES)
    category = scan.take_choice(_CATEGORY_PHRASES, _CATEGORY_HINT_PHRASES)
    colour = scan.take_mapped(vocabulary.colors)
    reference = _read_reference(scan)
    words = _leftover_words(scan.rest)
    reference = replace(reference, words=words)

    request = ShopperRequest(
        intent=UNKNOWN,
        text=text,
        category=category,
        brand=brand,
        colour=colour,
        gender=gender,
        size=size,
        min_price=min_price,
        max_price=max_price,
        quantity=quantity,
        cheap=cheap,
        cheaper=cheaper,
        more=more,
        instead=instead,
        reference=reference,
    )
    size_to = re.search(rf"\bto\s+(?:an?\s+)?{_SIZE}\b(?!\s*(?:pairs?|dollars|\$))", text)
    points_at_product = reference.given or bool(brand) or bool(words)
    wants_search = bool(
        request.has_filters
        or cheaper
        or more
        or (size is not None and instead)
        or (_RE_SEARCH_VERB.search(text) and (_RE_SHOE_NOUN.search(text) or words))
    )

    if _RE_NO_CHECKOUT.search(text):
        intent = NO_CHECKOUT
    elif _RE_CLEAR_CART.search(text):
        intent = CLEAR_CART
    elif _RE_REMOVE.search(text):
        intent = REMOVE
    elif _RE_UPDATE.search(text) and (
        quantity is not None or size is not None or size_to or re.search(r"\bsize\b", text)
    ):
        intent = UPDATE
        if size is None and size_to:
            # "change the size to 9", "swap to a 9.5": the new size follows "to".
            request = replace(request, size=_size_value(*size_to.group(1, 2)))
    elif _RE_ADD.search(text) or (
        not category
        and (
            # "buy the second one" adds it; "buy it" / "buy them" is the checkout.
            (checkout_said and (reference.ordinal is not None or reference.superlative))
            or (checkout_said and _RE_DEFINITE.search(text))
            or (_RE_SOFT_ADD.search(text) and (reference.given or _RE_DEFINITE.search(text)))
        )
    ):
        intent = ADD
    elif checkout_said and not (category or gender or min_price or max_price or cheap):
        intent = CHECKOUT
    elif _RE_VIEW_CART.search(text):
        intent = VIEW_CART
    elif _RE_DETAILS.search(text) and (reference.given or (points_at_product and not category)):
        intent = DETAILS
    elif (reference.ordinal is not None or reference.superlative) and not request.has_filters:
        intent = DETAILS  # "how much is the second one?", "is the first one waterproof?"
    elif reference.pronoun and _RE_QUESTION.search(text) and not request.has_filters:
        intent = DETAILS  # "what sizes does it come in?"
    elif size is not None and not words and not request.has_filters:
        intent = SIZE_ONLY
    elif wants_search:
        intent = SEARCH
    elif _RE_HELP.search(text):
        intent = HELP
    elif _RE_GREETING.search(text):
        intent = GREETING
    elif _RE_THANKS.search(text):
        intent = THANKS
    elif _RE_GOODBYE.search(text):
        intent = GOODBYE
    else:
        intent = UNKNOWN

    # Only words the catalog uses go to the search: "comfy" would match nothing and hide all.
    query = " ".join(w for w in words if vocabulary.searchable(w)) if intent == SEARCH else ""
    return replace(request, intent=intent, query=query)


def parse_request(text: str, vocabulary: ShopVocabulary) -> ShopperRequest:
    """Parse a shopper message into a `ShopperRequest`.

    A compound "find red running shoes and add the first in size 9" gives a search whose
    `then` holds the add. Never raises; text that means nothing to the shop gives intent
    `unknown`.
    """
    text = normalise(text)
    if not text:
        return ShopperRequest(intent=UNKNOWN)
    if match := _RE_COMPOUND.match(text):
        first = _parse_one(match.group("first"), vocabulary)
        second = _parse_one(match.group("second"), vocabulary)
        if first.intent == SEARCH and second.intent == ADD:
            return replace(first, text=text, then=second)
    return _parse_one(text, vocabulary)
