"""Product search and product details.

Structured filters (category, gender, price, size in stock) run in SQL; the free-text part is
scored in Python over the few hundred candidates, which keeps the ranking readable and identical
on SQLite and PostgreSQL:

* each query word scores the best field it matches: name or brand 4, category (or one of its
  everyday words: "dress" means formal, "hike" means hiking) 3, colour 3, gender 2,
  description 1;
* products matching no query word are dropped; words matching no product at all are ignored;
* ties are broken by rating (best first), then price (cheapest first).

    >>> page = search_products(engine, query="waterproof", category="hiking", size=10.5)
    >>> [p.product_id for p in page.results]
"""

import re
from collections.abc import Iterable

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, select

from assistant.catalog.db import session_scope
from assistant.catalog.models import (
    CATEGORIES,
    Product,
    ProductDetails,
    ProductSummary,
    StockLevel,
    size_label,
)

MAX_PAGE = 20

# Words shoppers use for a category. Each maps to the catalog's category name.
CATEGORY_WORDS: dict[str, str] = {
    **{category: category for category in CATEGORIES},
    "run": "running", "runner": "running", "runners": "running", "jog": "running",
    "jogging": "running", "road": "running",
    "trails": "trail", "trail-running": "trail", "offroad": "trail", "mountain": "trail",
    "hike": "hiking", "hiker": "hiking", "hikers": "hiking", "boot": "hiking", "boots": "hiking",
    "trek": "hiking", "trekking": "hiking", "backpacking": "hiking",
    "sneaker": "casual", "sneakers": "casual", "everyday": "casual", "lifestyle": "casual",
    "basketball": "basketball", "hoops": "basketball", "court": "basketball",
    "dress": "formal", "office": "formal", "wedding": "formal", "oxford": "formal",
    "oxfords": "formal", "smart": "formal",
    "sandal": "sandals", "slide": "sandals", "slides": "sandals", "flip-flop": "sandals",
    "flip-flops": "sandals", "beach": "sandals",
}  # fmt: skip

GENDER_WORDS: dict[str, str] = {
    "women": "women", "woman": "women", "womens": "women", "women's": "women",
    "female": "women", "ladies": "women", "lady": "women", "girl": "kids", "girls": "kids",
    "men": "men", "man": "men", "mens": "men", "men's": "men", "male": "men",
    "kids": "kids", "kid": "kids", "kids'": "kids", "children": "kids", "child": "kids",
    "boy": "kids", "boys": "kids", "youth": "kids",
    "unisex": "unisex",
}  # fmt: skip

COLOR_WORDS: dict[str, str] = {
    "gray": "grey", "charcoal": "grey", "silver": "grey", "navy blue": "navy",
    "dark blue": "navy", "light blue": "blue", "maroon": "burgundy", "wine": "burgundy",
    "khaki": "tan", "camel": "tan", "cream": "beige", "off-white": "white", "ivory": "white",
    "violet": "purple", "lilac": "purple", "rose": "pink", "mint": "green", "forest": "green",
    "chocolate": "brown", "mustard": "yellow", "gold": "yellow", "turquoise": "teal",
}  # fmt: skip

# Words that say nothing about which shoe is meant.
STOPWORDS = frozenset(
    (
        "a", "an", "and", "any", "are", "for", "i", "in", "is", "it", "me", "my", "of", "on", "or",
        "pair", "pairs", "please", "some", "show", "shoe", "shoes", "something", "the", "to",
        "want", "with", "looking", "need", "find", "get", "new", "good", "nice",
    )
)  # fmt: skip

WEIGHT_NAME = 4
WEIGHT_CATEGORY = 3
WEIGHT_COLOR = 3
WEIGHT_GENDER = 2
WEIGHT_DESCRIPTION = 1


class InvalidSearch(ValueError):
    """A filter value the catalog does not know; the message lists what it does know."""


class SearchPage(BaseModel):
    """One page of search results and how many products matched in all."""

    results: list[ProductSummary]
    total_matches: int
    filters: dict[str, str | float] = Field(description="The filters applied, normalised.")
    relaxations: dict[str, int] = Field(
        default_factory=dict,
        description="When nothing matched: filter name -> matches if that filter is dropped.",
    )


def normalize_category(value: str | None) -> str | None:
    """The catalog category for `value` ("Hiking boots" -> "hiking"); None stays None.

    Raises InvalidSearch naming the categories when `value` is none of them.
    """
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    for candidate in (text, text.rstrip("s"), *_words(text)):
        if candidate in CATEGORY_WORDS:
            return CATEGORY_WORDS[candidate]
    raise InvalidSearch(f"Unknown category {value!r}; categories are: {', '.join(CATEGORIES)}.")


def normalize_gender(value: str | None) -> str | None:
    """ "women", "men", "kids" or "unisex" for `value` ("Women's" -> "women"); None stays None.

    Raises InvalidSearch when `value` is not a gender the catalog uses.
    """
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    if text in GENDER_WORDS:
        return GENDER_WORDS[text]
    raise InvalidSearch(f"Unknown gender {value!r}; use women, men or kids (unisex fits all).")


def normalize_color(value: str | None, known: Iterable[str]) -> str | None:
    """The catalog colour for `value` ("gray" -> "grey"), checked against `known` colours.

    Raises InvalidSearch listing the colours in stock when `value` is not one of them.
    """
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    text = COLOR_WORDS.get(text, text)
    known_colors = sorted(set(known))
    if text in known_colors:
        return text
    raise InvalidSearch(f"No shoes come in {value!r}; colours are: {', '.join(known_colors)}.")


def search_products(
    bind: Session | Engine,
    *,
    query: str = "",
    category: str | None = None,
    brand: str | None = None,
    color: str | None = None,
    size: float | None = None,
    gender: str | None = None,
    min_price: float | None = None,
    max_price: float | None = None,
    limit: int = 5,
    offset: int = 0,
) -> SearchPage:
    """Find shoes matching the query text and filters, best match first.

    `gender` "women"/"men"/"kids" also matches unisex shoes. `size` keeps shoes with that size in
    stock. `limit` is capped at 20. When nothing matches, `relaxations` says how many shoes each
    filter, dropped alone, would let through, so the caller can suggest what to loosen.

    Raises InvalidSearch for an unknown category, gender or colour, or a price range whose
    minimum is above its maximum.
    """
    filters = _normalised_filters(
        bind, query, category, brand, color, size, gender, min_price, max_price
    )
    limit = max(1, min(int(limit), MAX_PAGE))
    with session_scope(bind) as session:
        ranked = _ranked(session, filters)
        relaxations: dict[str, int] = {}
        if not ranked:
            for name in filters:
                without = {key: value for key, value in filters.items() if key != name}
                count = len(_ranked(session, without))
                if count:
                    relaxations[name] = count
        page = ranked[offset : offset + limit]
        stock = _sizes_in_stock(session, [product.product_id for product in page])
        results = [_summary(product, stock.get(product.product_id, [])) for product in page]
    return SearchPage(
        results=results, total_matches=len(ranked), filters=filters, relaxations=relaxations
    )


def find_product(bind: Session | Engine, reference: str) -> Product | None:
    """The product with id `reference` ("run-001" works), or whose name or brand + name is it.

    Models sometimes pass a product's name where its id is expected; a unique name is accepted.
    Returns None when nothing (or more than one product) matches.
    """
    text = (reference or "").strip()
    if not text:
        return None
    with session_scope(bind) as session:
        product = session.get(Product, text.upper())
        if product is not None:
            return product
        wanted = _squash(text)
        named = [
            product
            for product in session.exec(select(Product)).all()
            if wanted in (_squash(product.name), _squash(product.display_name))
        ]
        return named[0] if len(named) == 1 else None


def stock_by_size(bind: Session | Engine, product_id: str) -> dict[float, int]:
    """Pairs in stock per size for one product, every size it is made in (0 when sold out)."""
    with session_scope(bind) as session:
        rows = session.exec(
            select(StockLevel).where(StockLevel.product_id == product_id).order_by(StockLevel.size)
        ).all()
        return {row.size: row.quantity for row in rows}


def get_product_details(bind: Session | Engine, product_id: str) -> ProductDetails | None:
    """A product with its description, picture file and stock per size; None if unknown."""
    with session_scope(bind) as session:
        product = find_product(session, product_id)
        if product is None:
            return None
        stock = stock_by_size(session, product.product_id)
        in_stock = [size for size, quantity in stock.items() if quantity > 0]
        return ProductDetails(
            **_summary(product, in_stock).model_dump(),
            description=product.description,
            stock={size_label(size): quantity for size, quantity in stock.items()},
            image=f"{product.product_id}.png",
        )


def known_colors(bind: Session | Engine) -> set[str]:
    """Every colour some product comes in."""
    with session_scope(bind) as session:
        return {color for colors in session.exec(select(Product.colors)).all() for color in colors}


def known_brands(bind: Session | Engine) -> list[str]:
    """Every brand in the catalog, sorted."""
    with session_scope(bind) as session:
        return sorted(set(session.exec(select(Product.brand)).all()))


# --- internals ---------------------------------------------------------------------------


def _normalised_filters(
    bind: Session | Engine,
    query: str,
    category: str | None,
    brand: str | None,
    color: str | None,
    size: float | None,
    gender: str | None,
    min_price: float | None,
    max_price: float | None,
) -> dict[str, str | float]:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise InvalidSearch(f"min_price {min_price:g} is above max_price {max_price:g}.")
    if size is not None and not 0 < float(size) <= 20:
        raise InvalidSearch(f"Size {size:g} is not a US shoe size; sizes run from 1 to 15.")
    filters: dict[str, str | float | None] = {
        "query": (query or "").strip() or None,
        "category": normalize_category(category),
        "brand": (brand or "").strip() or None,
        "color": normalize_color(color, known_colors(bind)) if color else None,
        "size": float(size) if size is not None else None,
        "gender": normalize_gender(gender),
        "min_price": float(min_price) if min_price is not None else None,
        "max_price": float(max_price) if max_price is not None else None,
    }
    return {key: value for key, value in filters.items() if value is not None}


def _ranked(session: Session, filters: dict[str, str | float]) -> list[Product]:
    statement = select(Product)
    if "category" in filters:
        statement = statement.where(Product.category == filters["category"])
    if "gender" in filters:
        genders = [filters["gender"]]
        if filters["gender"] != "unisex":
            genders.append("unisex")
        statement = statement.where(Product.gender.in_(genders))
    if "min_price" in filters:
        statement = statement.where(Product.price >= filters["min_price"])
    if "max_price" in filters:
        statement = statement.where(Product.price <= filters["max_price"])
    if "size" in filters:
        statement = statement.where(
            Product.product_id.in_(
                select(StockLevel.product_id).where(
                    StockLevel.size == filters["size"], StockLevel.quantity > 0
                )
            )
        )
    candidates = list(session.exec(statement).all())
    if "brand" in filters:
        wanted = _squash(str(filters["brand"]))
        candidates = [product for product in candidates if wanted in _squash(product.brand)]
    if "color" in filters:
        candidates = [product for product in candidates if filters["color"] in product.colors]

    words = _query_words(str(filters.get("query", "")))
    scored = [(_score(product, words), product) for product in candidates]
    if words:
        # Words that match nothing ("comfy") must not empty the result; if no word matches
        # anything, the query as a whole matched nothing.
        useful = [word for word in words if any(_score(p, [word]) for p in candidates)]
        scored = [(_score(product, useful), product) for product in candidates]
        scored = [(score, product) for score, product in scored if score > 0]
    scored.sort(key=lambda item: (-item[0], -item[1].rating, item[1].price, item[1].product_id))
    return [product for _, product in scored]


def _score(product: Product, words: list[str]) -> int:
    name_words = set(_words(product.name)) | set(_words(product.brand))
    description_words = set(_words(product.description))
    total = 0
    for word in words:
        best = 0
        if _matches(word, name_words):
            best = WEIGHT_NAME
        elif CATEGORY_WORDS.get(word) == product.category or word == product.category:
            best = WEIGHT_CATEGORY
        elif COLOR_WORDS.get(word, word) in product.colors:
            best = WEIGHT_COLOR
        elif word in GENDER_WORDS and product.gender in (GENDER_WORDS[word], "unisex"):
            best = WEIGHT_GENDER if product.gender != "unisex" else WEIGHT_GENDER - 1
        elif _matches(word, description_words):
            best = WEIGHT_DESCRIPTION
        total += best
    return total


def _matches(word: str, vocabulary: set[str]) -> bool:
    stem = _stem(word)
    return any(_stem(candidate) == stem for candidate in vocabulary)


def _stem(word: str) -> str:
    # Enough stemming for a shoe shop: plurals ("boots", "laces") and "-proof"/"-ing" stay.
    if len(word) > 3 and word.endswith("es") and word[:-2].endswith(("sh", "ch", "x")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _query_words(query: str) -> list[str]:
    words = [word for word in _words(query) if word not in STOPWORDS]
    # Bare numbers are sizes or prices; the caller passes those as filters.
    return [word for word in words if not re.fullmatch(r"[\d.]+", word)]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:['-][a-z0-9]+)*'?", text.lower())


def _squash(text: str) -> str:
    """Lowercase letters and digits only: "Cobble and Vine" and "cobble & vine" compare equal."""
    return re.sub(r"[^a-z0-9]", "", text.lower().replace("&", "and"))


def _sizes_in_stock(session: Session, product_ids: list[str]) -> dict[str, list[float]]:
    if not product_ids:
        return {}
    rows = session.exec(
        select(StockLevel.product_id, StockLevel.size)
        .where(StockLevel.product_id.in_(product_ids), StockLevel.quantity > 0)
        .order_by(StockLevel.size)
    ).all()
    sizes: dict[str, list[float]] = {}
    for product_id, size in rows:
        sizes.setdefault(product_id, []).append(size)
    return sizes


def _summary(product: Product, sizes_in_stock: list[float]) -> ProductSummary:
    return ProductSummary(
        product_id=product.product_id,
        name=product.name,
        brand=product.brand,
        category=product.category,
        gender=product.gender,
        colors=list(product.colors),
        price=product.price,
        rating=product.rating,
        sizes_in_stock=sizes_in_stock,
    )
