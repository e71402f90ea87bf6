"""Product search and product details.

Structured filters (category, gender, price, size in stock) run in SQL; the free-text part is
scored in Python over the few hundred candidates, which keeps the ranking readable and identical
on SQLite and PostgreSQL:

* each query word scores the best field it matches: name or brand 4, category (or one of its
  everyday words: "dress" means formal, "hike" means hiking) 3, colour 3, gender 2,
  description 1;
* products matching no query word are dropped; words matching no product at all are ignored;
* ties are broken by rating (best first), then price (cheapest first).

The words for categories, genders and colours are the shop's vocabulary (`vocabulary.py`), the
same the offline chat model reads.

    >>> filters = SearchFilters(query="waterproof", category="hiking", size=10.5)
    >>> page = search_products(engine, filters, limit=5)
    >>> [p.product_id for p in page.results]
"""

import re
from collections.abc import Iterable

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, select

from assistant.shopdb.engine import session_scope
from assistant.shopdb.tables import (
    Product,
    ProductDetails,
    ProductSummary,
    StockLevel,
    size_label,
)
from assistant.shopdb.vocabulary import (
    CATEGORIES,
    CATEGORY_OF,
    GENDER_OF,
    STOPWORDS,
    catalog_color,
)

MAX_PAGE = 20

WEIGHT_NAME = 4
WEIGHT_CATEGORY = 3
WEIGHT_COLOR = 3
WEIGHT_GENDER = 2
WEIGHT_DESCRIPTION = 1


class InvalidSearch(ValueError):
    """A filter value the catalog does not know; the message lists what it does know."""


class SearchFilters(BaseModel):
    """Which shoes to look for: free text and filters, every one optional.

    This is also what a chat model fills in when it calls the search tool (the tool's arguments
    are these fields plus `limit`), so the field names are a contract and the descriptions are
    written for the model. Values are checked and normalised by `search_products`: "Hiking
    boots" is category hiking, "gray" is the colour grey, "Women's" is women.
    """

    query: str = Field("", description="Free text, e.g. 'waterproof trail shoes'.")
    category: str | None = Field(
        None, description=f"{', '.join(CATEGORIES[:-1])} or {CATEGORIES[-1]}."
    )
    brand: str | None = Field(None, description="Brand name, e.g. 'Northpeak'.")
    color: str | None = Field(None, description="Colour, e.g. 'black', 'navy', 'pink'.")
    size: float | None = Field(None, description="US size that must be in stock, e.g. 8.5.")
    gender: str | None = Field(None, description="women, men or kids (unisex fits all).")
    min_price: float | None = Field(None, description="Lowest price in USD.")
    max_price: float | None = Field(None, description="Highest price in USD.")


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
        if candidate in CATEGORY_OF:
            return CATEGORY_OF[candidate]
    raise InvalidSearch(f"Unknown category {value!r}; categories are: {', '.join(CATEGORIES)}.")


def normalize_gender(value: str | None) -> str | None:
    """ "women", "men", "kids" or "unisex" for `value` ("Women's" -> "women"); None stays None.

    Raises InvalidSearch when `value` is not a gender the catalog uses.
    """
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    if text in GENDER_OF:
        return GENDER_OF[text]
    raise InvalidSearch(f"Unknown gender {value!r}; use women, men or kids (unisex fits all).")


def normalize_color(value: str | None, known: Iterable[str]) -> str | None:
    """The catalog colour for `value` ("gray" -> "grey"), checked against `known` colours.

    Raises InvalidSearch listing the colours in stock when `value` is not one of them.
    """
    if value is None or not value.strip():
        return None
    known_colors = sorted(set(known))
    color = catalog_color(value.strip().lower(), known_colors)
    if color is not None:
        return color
    raise InvalidSearch(f"No shoes come in {value!r}; colours are: {', '.join(known_colors)}.")


def search_products(
    bind: Session | Engine, filters: SearchFilters, *, limit: int = 5, offset: int = 0
) -> SearchPage:
    """Find shoes matching `filters`, best match first; `limit` results from `offset`.

    `gender` "women"/"men"/"kids" also matches unisex shoes. `size` keeps shoes with that size in
    stock. `limit` is capped at 20. When nothing matches, `relaxations` says how many shoes each
    filter, dropped alone, would let through, so the caller can suggest what to loosen.

    Raises InvalidSearch for an unknown category, gender or colour, a size that is no shoe size,
    or a price range whose minimum is above its maximum.
    """
    applied = _normalised_filters(bind, filters)
    limit = max(1, min(int(limit), MAX_PAGE))
    with session_scope(bind) as session:
        ranked = _ranked(session, applied)
        relaxations: dict[str, int] = {}
        if not ranked:
            for name in applied:
                without = {key: value for key, value in applied.items() if key != name}
                count = len(_ranked(session, without))
                if count:
                    relaxations[name] = count
        page = ranked[offset : offset + limit]
        stock = _sizes_in_stock(session, [product.product_id for product in page])
        results = [_summary(product, stock.get(product.product_id, [])) for product in page]
    return SearchPage(
        results=results, total_matches=len(ranked), filters=applied, relaxations=relaxations
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


def _normalised_filters(bind: Session | Engine, filters: SearchFilters) -> dict[str, str | float]:
    """The filters that were given, checked and in the catalog's terms; unset ones left out."""
    low, high, size = filters.min_price, filters.max_price, filters.size
    if low is not None and high is not None and low > high:
        raise InvalidSearch(f"min_price {low:g} is above max_price {high:g}.")
    if size is not None and not 0 < size <= 20:
        raise InvalidSearch(f"Size {size:g} is not a US shoe size; sizes run from 1 to 15.")
    applied: dict[str, str | float | None] = {
        "query": filters.query.strip() or None,
        "category": normalize_category(filters.category),
        "brand": (filters.brand or "").strip() or None,
        "color": normalize_color(filters.color, known_colors(bind)) if filters.color else None,
        "size": size,
        "gender": normalize_gender(filters.gender),
        "min_price": low,
        "max_price": high,
    }
    return {key: value for key, value in applied.items() if value is not None}


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
        elif CATEGORY_OF.get(word) == product.category:
            best = WEIGHT_CATEGORY
        elif catalog_color(word, product.colors) is not None:
            best = WEIGHT_COLOR
        elif word in GENDER_OF and product.gender in (GENDER_OF[word], "unisex"):
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
