"""Turn one shopper message into a `ShopperRequest` the offline model can act on.

The parser only reads words; it knows nothing about the conversation. Deciding what "it" or
"the second one" points at, and which filters a refinement keeps, happens in `decide.py` and
`searches.py`, which read the earlier tool results. The shop's words (categories, genders,
colours, brands, and the kinds of shoe and brands it does not sell) are
`assistant.shopdb.vocabulary`; the numbers (prices, quantities, sizes) are read by `amounts.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from assistant.agent.models.offline.amounts import (
    read_prices,
    read_quantity,
    read_size,
    read_size_after_to,
)
from assistant.agent.models.offline.scanner import Scanner, normalise, phrase_pattern
from assistant.shopdb.vocabulary import (
    CATEGORY_HINTS,
    CATEGORY_STAND_INS,
    CATEGORY_WORDS,
    GENDER_WORDS,
    OTHER_BRAND_NAMES,
    STOPWORDS,
    UNSOLD_KIND_WORDS,
    ShopVocabulary,
)

#: Price ceiling used for "cheap", "affordable", "budget".
CHEAP_MAX_PRICE = 80.0

# Intents a message can have. Plain strings keep the model's dispatch readable.
GREETING, HELP, THANKS, GOODBYE, AFFIRM = "greeting", "help", "thanks", "goodbye", "affirm"
SEARCH, DETAILS, ADD, UPDATE, REMOVE = "search", "details", "add", "update", "remove"
CLEAR_CART, VIEW_CART, CHECKOUT, NO_CHECKOUT = "clear_cart", "view_cart", "checkout", "no_checkout"
ORDER_STATUS, START_OVER = "order_status", "start_over"
SIZE_ONLY, QUANTITY_ONLY, UNKNOWN = "size_only", "quantity_only", "unknown"

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
drop cart basket bag checkout check out place empty clear help don't dont yet wait set actually
quantity qty carry sell stock stocked bump increase decrease reduce begin fine
"""
_STOP_WORDS = STOPWORDS | frozenset(_CONVERSATION_WORDS.split())


def _longest_first(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Each key's phrases longest first, so "trail runners" is read whole, not as "trail"."""
    return {
        key: tuple(sorted(dict.fromkeys((key, *phrases)), key=len, reverse=True))
        for key, phrases in table.items()
    }


def _phrases_longest_first(table: dict[str, str]) -> dict[str, str]:
    return dict(sorted(table.items(), key=lambda item: -len(item[0])))


_CATEGORY_PHRASES = _longest_first(CATEGORY_WORDS)
_STAND_IN_PHRASES = {
    key: tuple(sorted(words, key=len, reverse=True)) for key, words in CATEGORY_STAND_INS.items()
}
_CATEGORY_HINT_PHRASES = {
    key: tuple(sorted(hints, key=len, reverse=True)) for key, hints in CATEGORY_HINTS.items()
}
_GENDER_PHRASES = _longest_first(GENDER_WORDS)
_UNSOLD_KIND_PHRASES = _phrases_longest_first(
    {phrase: kind for kind, phrases in UNSOLD_KIND_WORDS.items() for phrase in phrases}
)
_OTHER_BRAND_PHRASES = _phrases_longest_first(OTHER_BRAND_NAMES)

#: Filter -> the words that name it, for "forget the price", "drop the colour filter".
_FILTER_WORDS = {
    "gender": r"gender",
    "price": r"(?:price|budget)(?: limit| cap| range)?",
    "color": r"colou?r",
    "brand": r"brand",
    "size": r"size",
}
_DROP = r"\b(?:forget|ignore|drop|remove|lose|clear|skip|never mind|without) (?:the |my |a |any )?"


def _clears(name: str, *phrases: str) -> re.Pattern[str]:
    """ "any price", "whatever price", "forget the price (filter)", plus `phrases`."""
    word = _FILTER_WORDS[name]
    return re.compile(
        "|".join(
            (
                rf"\b(?:any|all|whatever|every|either) {word}s?\b",
                rf"{_DROP}{word}(?: filters?)?\b",
                rf"\b{word} doesn'?t matter\b",
                *phrases,
            )
        )
    )


#: Filter -> the words that drop it from the search: "any gender", "forget the price", ...;
#: "all" (start over, new search) drops every filter, and the search after it starts fresh.
_CLEARS = {
    "all": re.compile(
        r"\b(?:start(?:ing)? (?:over|again|afresh)|new search|from scratch|"
        r"(?:clear|reset|drop|remove|forget) (?:the |all |all the |my |any )?filters|no filters)\b"
    ),
    "gender": _clears("gender", r"\bfor anyone\b", r"\beveryone\b"),
    "price": _clears("price", r"\bno (?:price limit|budget|price cap|max(?:imum)? price)\b"),
    "color": _clears("color"),
    "brand": _clears("brand"),
    "size": _clears("size"),
}

_RE_CHECKOUT = re.compile(
    r"\b(?:check ?out|checkout|place (?:the|my|an|this|our) order|place order|"
    r"complete (?:the|my) (?:order|purchase)|finali[sz]e (?:the|my) order|pay(?: now)?|"
    r"proceed to (?:payment|checkout)|purchase|buy|order (?:it|them|now|these|those))\b"
)
_RE_NO_CHECKOUT = re.compile(
    r"\b(?:don'?t|do not|not yet|no need to|wait|hold on|never mind)\b"
    r".*\b(?:check ?out|checkout|buy|order|pay|purchase)"
)
# "Start over" clears the search's filters, not the cart (see `_CLEARS`).
_RE_CLEAR_CART = re.compile(
    r"\b(?:empty|clear)\b.*\b(?:cart|basket|bag)\b|\b(?:remove|delete|drop) (?:everything|all)\b"
)
_RE_REMOVE = re.compile(
    r"\b(?:remove|delete|drop|take (?!a look)(?:[\w'-]+ ){0,4}?(?:out|off)|get rid of)\b|"
    r"\bout of (?:my |the )?(?:cart|basket|bag)\b"
)
_RE_UPDATE = re.compile(
    r"\b(?:change|switch|swap|update|set|bump|increase|decrease|reduce|"
    r"make (?:it|that|them|those|the \w+)|instead of|"
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


_RE_ORDER_STATUS = re.compile(
    r"\b(?:where(?:'s| is| are)?|status|track(?:ing)?|check(?: on)?|"
    r"what(?:'s| is)? happen(?:ed|ing)|did|has|have|is|was|were|any (?:news|updates?))\b[^.?!]*"
    r"\b(?:my|our|the) (?:orders?|purchases?|checkouts?)\b(?! (?:it|them|now|these|those)\b)"
    r"|\b(?:my|our|the) (?:orders?|purchases?|checkouts?)\b[^.?!]*\b(?:approved|confirmed|"
    r"accepted|rejected|declined|go(?:ne)? through|went through|placed|status|shipped|arrived?)\b"
    r"|\border status\b"
)
# A yes and nothing else ("sure, go ahead") accepts what the assistant just suggested.
_YES = "yes yeah yep yup sure ok okay alright ahead"
_YES_WITH = (
    "please great perfect go do it sounds good let's lets see show me them those that why not"
)
_AFFIRM_CORE = frozenset(_YES.split())
_AFFIRM_WORDS = _AFFIRM_CORE | frozenset(_YES_WITH.split()) | {"thanks", "thank", "you"}


@dataclass(frozen=True)
class Reference:
    """How a message points at a product shown earlier ("the second one", "the blue ones")."""

    ordinal: int | None = None  # 1-based position in the last result list; -1 means the last one
    pronoun: bool = False  # "it", "that one", "them"
    superlative: str | None = None  # "cheapest" | "priciest" | "best_rated"
    words: tuple[str, ...] = ()  # leftover words, matched against product names
    kind_words: tuple[str, ...] = ()  # category words said ("sneaker", "court"), which names hold

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
    stand_in: str | None = None  # "gym": said for shoes the shop files under `category`
    unsold_kind: str | None = None  # "golf shoes": a kind of shoe the shop does not sell
    other_brand: str | None = None  # "Nike": a brand the shop does not sell
    clear: frozenset[str] = frozenset()  # filters to drop: "gender", "price", ... or "all"
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

    @property
    def not_sold(self) -> str | None:
        """The brand or kind of shoe the message asks for that the shop does not sell."""
        return self.other_brand or self.unsold_kind


def _read_reference(scan: Scanner) -> Reference:
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


def _read_category(
    scan: Scanner,
) -> tuple[str | None, str | None, str | None, tuple[str, ...]]:
    """The category a message names, the stand-in word it named it by ("gym"), the kind of shoe
    the shop does not sell that it names instead ("golf shoes"), and the category words said.

    A kind the shop does not sell counts only when no category word is said outside it: "rain
    boots" is a kind the shop does not sell, "casual shoes for golf" are casual shoes.
    """
    tables = (_CATEGORY_PHRASES, _STAND_IN_PHRASES, _CATEGORY_HINT_PHRASES)
    said = [p for phrases in _CATEGORY_PHRASES.values() for p in phrases if scan.find(p)]
    heard = [p for table in tables for phrases in table.values() for p in phrases if scan.find(p)]
    if (unsold := scan.first_of(_UNSOLD_KIND_PHRASES)) is not None:
        probe = Scanner(scan.rest)
        probe.take(phrase_pattern(unsold))
        named = (_CATEGORY_PHRASES, _STAND_IN_PHRASES)
        if not any(probe.find(p) for table in named for ps in table.values() for p in ps):
            scan.take(phrase_pattern(unsold))
            return None, None, _UNSOLD_KIND_PHRASES[unsold], ()
    stand_in = None
    if not said:
        stand_in = next((p for ps in _STAND_IN_PHRASES.values() for p in ps if scan.find(p)), None)
    category = scan.take_choice(*tables)
    kind_words = tuple(dict.fromkeys(word for phrase in heard for word in phrase.split()))
    return category, stand_in, None, kind_words


def _leftover_words(rest: str) -> tuple[str, ...]:
    """Words nobody understood yet: candidates for product names and the free-text query."""
    words = re.findall(r"[a-z][a-z0-9'-]*", rest)
    return tuple(w for w in words if w not in _STOP_WORDS and len(w) > 1)


def _is_affirmation(text: str) -> bool:
    """ "yes", "sure, go ahead", "ok please": a yes and nothing else."""
    words = re.findall(r"[a-z']+", text)
    return bool(words) and set(words) <= _AFFIRM_WORDS and bool(set(words) & _AFFIRM_CORE)


def _parse_one(text: str, vocabulary: ShopVocabulary) -> ShopperRequest:
    """Parse a single clause (no compound splitting)."""
    scan = Scanner(text)
    clear = frozenset(key for key, pattern in _CLEARS.items() if scan.take(pattern))
    min_price, max_price = read_prices(scan)
    cheaper = bool(scan.take(_RE_CHEAPER))
    cheap = bool(scan.take(r"\b(?:cheap|inexpensive|affordable|budget|bargain)\b"))
    quantity = read_quantity(scan)
    size = read_size(scan)
    size_to = read_size_after_to(scan) if size is None else None
    # Brands first: "Switchback Trail Co." must not lose its "trail" to the category.
    brand = scan.take_mapped(vocabulary.brands)
    other_brand = None if brand else scan.take_mapped(_OTHER_BRAND_PHRASES)
    gender = scan.take_choice(_GENDER_PHRASES)
    category, stand_in, unsold_kind, kind_words = _read_category(scan)
    colour = scan.take_mapped(vocabulary.colors)
    reference = _read_reference(scan)
    words = _leftover_words(scan.rest)
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
        more=bool(_RE_MORE.search(text)),
        instead=bool(_RE_INSTEAD.search(text)),
        reference=replace(reference, words=words, kind_words=kind_words),
        stand_in=stand_in,
        unsold_kind=unsold_kind,
        other_brand=other_brand,
        clear=clear,
    )
    intent = _intent(request, size_to=size_to)
    if intent == UPDATE and size is None and size_to is not None:
        # "change the size to 9", "swap to a 9.5": the new size follows "to".
        request = replace(request, size=size_to)
    # Only words the catalog uses go to the search: "comfy" would match nothing and hide all.
    query = " ".join(w for w in words if vocabulary.searchable(w)) if intent == SEARCH else ""
    return replace(request, intent=intent, query=query)


def _intent(request: ShopperRequest, *, size_to: float | None) -> str:
    """What the message wants, from its words and what the parser found in it."""
    text, reference, words = request.text, request.reference, request.reference.words
    category, size, quantity = request.category, request.size, request.quantity
    checkout_said = bool(_RE_CHECKOUT.search(text))
    points_at_product = reference.given or bool(request.brand) or bool(words)
    wants_search = bool(
        request.has_filters
        or request.cheaper
        or request.more
        or request.not_sold
        or request.clear
        or (size is not None and request.instead)
        or (_RE_SEARCH_VERB.search(text) and (_RE_SHOE_NOUN.search(text) or words))
    )
    nothing_else = not words and not request.has_filters and not request.not_sold
    if _RE_ORDER_STATUS.search(text):
        return ORDER_STATUS
    if _RE_NO_CHECKOUT.search(text):
        return NO_CHECKOUT
    if _RE_CLEAR_CART.search(text):
        return CLEAR_CART
    if request.clear:
        # "forget the price", "start over": about the search, even with "remove" or "drop".
        return START_OVER if "all" in request.clear and nothing_else and size is None else SEARCH
    if _RE_REMOVE.search(text):
        return REMOVE
    if _RE_UPDATE.search(text) and (
        quantity is not None or size is not None or size_to or re.search(r"\bsize\b", text)
    ):
        return UPDATE
    if _RE_ADD.search(text) or (
        not category
        and (
            # "buy the second one" adds it; "buy it" / "buy them" is the checkout.
            (checkout_said and (reference.ordinal is not None or reference.superlative))
            or (checkout_said and _RE_DEFINITE.search(text))
            or (_RE_SOFT_ADD.search(text) and (reference.given or _RE_DEFINITE.search(text)))
        )
    ):
        return ADD
    if checkout_said and not (
        category or request.gender or request.min_price or request.max_price or request.cheap
    ):
        return CHECKOUT
    if _RE_VIEW_CART.search(text):
        return VIEW_CART
    if _RE_DETAILS.search(text) and (reference.given or (points_at_product and not category)):
        return DETAILS
    if (reference.ordinal is not None or reference.superlative) and not request.has_filters:
        return DETAILS  # "how much is the second one?", "is the first one waterproof?"
    if reference.pronoun and _RE_QUESTION.search(text) and not request.has_filters:
        return DETAILS  # "what sizes does it come in?"
    if quantity is not None and not reference.given and nothing_else:
        return QUANTITY_ONLY  # "2 pairs", "two of them in size 10", "I want 3"
    if size is not None and nothing_else:
        return SIZE_ONLY
    if wants_search:
        return SEARCH
    if _RE_HELP.search(text):
        return HELP
    if _RE_GREETING.search(text):
        return GREETING
    if _is_affirmation(text):
        return AFFIRM
    if _RE_THANKS.search(text):
        return THANKS
    if _RE_GOODBYE.search(text):
        return GOODBYE
    return UNKNOWN


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


def says_start_over(text: str) -> bool:
    """Does this message drop every search filter ("start over", "new search")?"""
    return bool(_CLEARS["all"].search(normalise(text)))
