"""How the offline model turns a message into a search call, and what it tells the shopper.

Filters carried over from the previous search follow one rule:

- **Refine.** A message that names no category other than the last search's and no new words to
  search for ("in blue", "under $100", "Northpeak ones", "size 9", "cheaper", "show me more",
  "sandals instead") changes what it names and keeps every other filter of the last search.
- **Start fresh.** A message that names a different category or new words to search for
  ("show me sandals", "something waterproof") keeps nothing from the last search. The shopper
  profile's gender is the one default a fresh search takes.
- **Always shown.** The reply to a search names every filter the message itself did not say
  (kept from the last search, or taken from the profile) and how to drop it: "any gender",
  "any price", "any colour", "any brand", "any size"; "start over" or "new search" drops them
  all, and the next search after it starts fresh.

Words for shoes the shop files under another category ("gym", "training": running shoes) are
searched as that category and the reply says so. Brands and kinds of shoe the shop does not sell
("Nike", "golf shoes") are never searched: the reply says the shop has none and suggests the
closest it has, which a plain "yes" accepts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from assistant.agent.models.offline.conversation import Conversation, ToolExchange
from assistant.agent.models.offline.parse import CHEAP_MAX_PRICE, ShopperRequest
from assistant.agent.models.offline.replies import describe_search, money, size_text
from assistant.shopdb.search import SearchFilters
from assistant.shopdb.vocabulary import (
    CATEGORIES,
    CATEGORY_NOUNS,
    CLOSEST_CATEGORY,
    GENDER_ADJECTIVES,
    OTHER_BRANDS,
    ShopVocabulary,
)

#: Result lists grow by this many on "show me more", up to MAX_LIMIT.
PAGE_SIZE, MAX_LIMIT = 5, 10
#: The filters a reply talks about, in the order it names them; "price" is min and max price.
FILTERS = ("category", "gender", "color", "brand", "size", "price", "query")
#: What the shopper says to drop each filter (the others go with "start over").
CLEARERS = {
    "gender": "any gender",
    "color": "any colour",
    "brand": "any brand",
    "size": "any size",
    "price": "any price",
}
_KEYS = {"price": ("min_price", "max_price")}


@dataclass(frozen=True)
class SearchPlan:
    """A search call's arguments, and where the filters the message did not say came from."""

    args: dict[str, Any]
    kept: tuple[str, ...] = ()  # filters (names of FILTERS) kept from the last search
    from_profile: tuple[str, ...] = ()  # filters the shopper profile supplied


def plan_search(
    request: ShopperRequest, conversation: Conversation, previous: ToolExchange | None
) -> SearchPlan:
    """The search_products call for `request`, refining `previous` or starting fresh."""
    previous_args = dict(previous.args) if previous else {}
    refines = previous is not None and (
        request.instead
        or request.cheaper
        or request.more
        or (not request.query and request.category in (None, previous_args.get("category")))
    )
    inherited = search_filters(previous_args).model_dump(exclude_defaults=True) if refines else {}
    args: dict[str, Any] = dict(inherited)
    if previous is not None and not conversation.shown_products():
        # The last search found nothing: its free text is what to drop, not to keep.
        args.pop("query", None)
    if refines and "limit" in previous_args and not request.more:
        args["limit"] = previous_args["limit"]
    said: set[str] = set()
    for key, value in (
        ("category", request.category),
        ("brand", request.brand),
        ("color", request.colour),
        ("gender", request.gender),
        ("size", request.size),
        ("query", request.query or None),
    ):
        if value is not None:
            args[key] = value
            said.add(key)
    if request.min_price is not None or request.max_price is not None:
        args.pop("min_price", None)
        args.pop("max_price", None)
        if request.min_price is not None:
            args["min_price"] = request.min_price
        if request.max_price is not None:
            args["max_price"] = request.max_price
        said.add("price")
    elif request.cheap:
        args["max_price"] = min(args.get("max_price", CHEAP_MAX_PRICE), CHEAP_MAX_PRICE)
        said.add("price")
    if request.cheaper:
        args["max_price"] = cheaper_ceiling(conversation, args.get("max_price"))
        args.pop("min_price", None)
        said.add("price")
    if request.more:
        args["limit"] = min(int(previous_args.get("limit", PAGE_SIZE)) + PAGE_SIZE, MAX_LIMIT)
    # Unisex shoes fit everyone: "unisex" drops the gender filter like "any gender" does.
    cleared = request.clear | ({"gender"} if request.gender == "unisex" else set())
    for name in cleared:
        for key in _KEYS.get(name, (name,)):
            args.pop(key, None)
    from_profile: tuple[str, ...] = ()
    if not refines and "gender" not in args and "gender" not in cleared:
        # The profile's gender is only a default for a fresh search; words always win.
        gender = conversation.profile().get("gender")
        if gender in ("women", "men", "kids"):
            args["gender"] = gender
            from_profile = ("gender",)
    limit = args.pop("limit", None)
    filters = SearchFilters(**args).model_dump(exclude_defaults=True)
    kept = tuple(
        name
        for name in FILTERS
        if name not in said
        and _value(filters, name) is not None
        and _value(filters, name) == _value(inherited, name)
    )
    return SearchPlan(
        args=filters if limit is None else {**filters, "limit": limit},
        kept=kept,
        from_profile=from_profile,
    )


def cheaper_ceiling(conversation: Conversation, current_max: float | None) -> float:
    """A price ceiling for "cheaper": below the average price of the shoes just shown.

    Below the average rather than below the cheapest, so a short list still leaves its
    cheaper half (and whatever else costs less) instead of nothing at all.
    """
    prices = []
    for product in conversation.shown_products():
        try:
            prices.append(float(product["price"]))
        except (KeyError, TypeError, ValueError):
            continue
    if prices:
        ceiling = float(math.floor(sum(prices) / len(prices)))
    elif current_max:
        ceiling = float(math.floor(float(current_max) * 0.8))
    else:
        ceiling = CHEAP_MAX_PRICE
    return min(ceiling, float(current_max)) if current_max else ceiling


def search_filters(args: dict[str, Any]) -> SearchFilters:
    """The `SearchFilters` among an earlier search call's `args`, leaving out bad values.

    Another model may have written that call; one bad value must not stop the shopper from
    refining the search. Arguments that are no filter (`limit`) are ignored.
    """
    try:
        return SearchFilters.model_validate(args)
    except ValidationError as error:
        bad = {str(problem["loc"][0]) for problem in error.errors() if problem["loc"]}
        return SearchFilters.model_validate({k: v for k, v in args.items() if k not in bad})


def _value(filters: dict[str, Any], name: str) -> Any:
    if name == "price":
        low, high = filters.get("min_price"), filters.get("max_price")
        return None if low is None and high is None else (low, high)
    return filters.get(name)


# --- what the reply says about a search ----------------------------------------------------


def filters_note(plan: SearchPlan) -> str:
    """Name the filters the message did not say, and how to drop them ("" if there are none).

    'Kept from your last search: trail shoes, under $150; from your profile: women's. Say
    "any price", "any gender" or "start over" to widen.'
    """
    if not plan.kept and not plan.from_profile:
        return ""
    parts = []
    if plan.kept:
        parts.append("kept from your last search: " + _labels(plan.args, plan.kept))
    if plan.from_profile:
        parts.append("from your profile: " + _labels(plan.args, plan.from_profile))
    clearers = [CLEARERS[name] for name in (*plan.kept, *plan.from_profile) if name in CLEARERS]
    said = "; ".join(parts)
    return f"{said[0].upper()}{said[1:]}. Say {_either([*clearers, 'start over'])} to widen."


def _labels(args: dict[str, Any], names: tuple[str, ...]) -> str:
    return ", ".join(_label(args, name) for name in names)


def _label(args: dict[str, Any], name: str) -> str:
    """How a reply names one filter: "trail shoes", "women's", "size 9", "under $150"."""
    if name == "category":
        return CATEGORY_NOUNS.get(str(args["category"]), str(args["category"]))
    if name == "gender":
        return GENDER_ADJECTIVES.get(str(args["gender"]), str(args["gender"]))
    if name == "size":
        return f"size {size_text(args['size'])}"
    if name == "query":
        return f'"{args["query"]}"'
    if name == "price":
        low, high = args.get("min_price"), args.get("max_price")
        if low is not None and high is not None:
            return f"between {money(low)} and {money(high)}"
        return f"under {money(high)}" if high is not None else f"over {money(low)}"
    return str(args[name])


def _either(phrases: list[str]) -> str:
    quoted = [f'"{phrase}"' for phrase in phrases]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def stand_in_lead(request: ShopperRequest) -> str:
    """Say that a word like "gym" was searched as the category the shop files it under."""
    if not request.stand_in or not request.category:
        return ""
    noun = CATEGORY_NOUNS.get(request.category, request.category)
    return f'The shop has no "{request.stand_in}" category, so I searched {noun}, the closest.'


def not_sold_reply(request: ShopperRequest, vocabulary: ShopVocabulary) -> str:
    """Say the shop does not sell a brand or kind of shoe, and suggest the closest it has.

    The suggestion is a message the shopper can send ("show me running shoes"); "yes" sends it.
    """
    if request.other_brand:
        head = f"Sorry, we don't carry {request.other_brand}."
        category = request.category or OTHER_BRANDS.get(request.other_brand, "casual")
    else:
        head = f"Sorry, we don't sell {request.unsold_kind}."
        category = CLOSEST_CATEGORY.get(str(request.unsold_kind), "casual")
    said = {
        "category": category,
        "brand": request.brand,
        "color": request.colour,
        "gender": request.gender,
        "size": request.size,
        "min_price": request.min_price,
        "max_price": request.max_price,
    }
    suggestion = "show me " + describe_search({k: v for k, v in said.items() if v is not None})
    brands = vocabulary.category_brands.get(category, ())
    makers = f", from {_and(list(brands))}" if brands else ""
    closest = f"The closest we have are our {CATEGORY_NOUNS[category]}{makers}"
    return f'{head} {closest}. Say "{suggestion}" (or just "yes") to see them.'


def unknown_words_reply(request: ShopperRequest) -> str:
    """Say that nothing in the shop goes by the words of a message that named nothing else."""
    said = " ".join(request.reference.words)
    nouns = [CATEGORY_NOUNS[category] for category in CATEGORIES]
    shoes = [noun.removesuffix(" shoes") for noun in nouns if noun.endswith(" shoes")]
    others = [noun for noun in nouns if not noun.endswith(" shoes")]
    sold = f"{_and(shoes)} shoes" + (f", and {_and(others)}" if others else "")
    return (
        f'Sorry, nothing in the shop goes by "{said}". We sell {sold}: try "show me running '
        f'shoes", or name a brand, colour or price.'
    )


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
