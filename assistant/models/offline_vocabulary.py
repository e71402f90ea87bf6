"""The shop's words, as the offline model understands them.

Categories, colours and genders are fixed here because the search tool accepts exactly these
values (see the agent contract). Brands (and any extra colours) come from the catalog data file
`data/catalog.json` that the catalog helper writes, so the offline model recognises every brand the
shop actually sells without a hand-kept copy of the list.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

#: Where the catalog helper writes the product data (repo root / data / catalog.json).
DEFAULT_CATALOG_PATH = Path(__file__).resolve().parents[2] / "data" / "catalog.json"

#: Search-tool category -> words a shopper uses for it. Order matters: the first category whose
#: word appears wins, so "trail running" is trail and "hiking boots" is hiking.
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "trail": ("trail running", "trail runners", "trail runner", "trail", "off-road", "off road"),
    "hiking": (
        "hiking",
        "hike",
        "hikes",
        "hiker",
        "hikers",
        "trekking",
        "trek",
        "boots",
        "boot",
        "backpacking",
    ),
    "basketball": ("basketball", "hoops", "high-tops", "high tops", "hightops", "court shoes"),
    "formal": (
        "formal",
        "dress shoes",
        "dress shoe",
        "dress",
        "oxfords",
        "oxford",
        "derby",
        "derbies",
        "brogues",
        "brogue",
        "loafers",
        "loafer",
        "office",
        "wedding",
    ),
    "sandals": ("sandals", "sandal", "flip-flops", "flip flops", "flipflops", "slides"),
    "running": (
        "running",
        "runners",
        "runner",
        "run",
        "jogging",
        "jog",
        "marathon",
        "road running",
    ),
    "casual": (
        "casual",
        "sneakers",
        "sneaker",
        "trainers",
        "everyday",
        "lifestyle",
        "slip-ons",
        "slip-on",
        "slip ons",
    ),
}

#: Plural noun used when the reply names a category ("5 trail shoes", "3 sandals").
CATEGORY_NOUNS: dict[str, str] = {
    "running": "running shoes",
    "trail": "trail shoes",
    "hiking": "hiking shoes",
    "casual": "casual shoes",
    "basketball": "basketball shoes",
    "formal": "formal shoes",
    "sandals": "sandals",
}

#: Search-tool gender -> words. Kids first, so "girls" is kids and never women.
GENDER_WORDS: dict[str, tuple[str, ...]] = {
    "kids": (
        "kids",
        "kid's",
        "kid",
        "children's",
        "childrens",
        "children",
        "child",
        "boys",
        "boy's",
        "girls",
        "girl's",
        "youth",
        "junior",
        "juniors",
        "toddler",
        "toddlers",
        "my son",
        "my daughter",
    ),
    "women": (
        "women's",
        "womens",
        "women",
        "woman's",
        "woman",
        "ladies",
        "lady's",
        "female",
        "for her",
        "my wife",
    ),
    "men": (
        "men's",
        "mens",
        "men",
        "man's",
        "man",
        "male",
        "gents",
        "gentlemen",
        "for him",
        "my husband",
    ),
}

#: How the reply writes a gender ("women's trail shoes").
GENDER_ADJECTIVES: dict[str, str] = {"women": "women's", "men": "men's", "kids": "kids'"}

#: Colours understood even before the catalog file exists. Each tuple is a group of synonyms;
#: the spelling the catalog uses wins (so "gray" becomes "grey" if the catalog says "grey").
BUILTIN_COLOUR_GROUPS: tuple[tuple[str, ...], ...] = (
    ("black",),
    ("white",),
    ("red",),
    ("blue",),
    ("navy", "navy blue"),
    ("green",),
    ("olive",),
    ("grey", "gray"),
    ("brown",),
    ("tan",),
    ("beige",),
    ("pink",),
    ("purple", "violet"),
    ("orange",),
    ("yellow",),
    ("silver",),
    ("gold",),
    ("teal",),
    ("burgundy", "maroon"),
    ("cream", "off-white"),
)


#: Words that must never be read as a brand's short name.
_SHOP_WORDS = frozenset(
    [phrase for phrases in CATEGORY_WORDS.values() for phrase in phrases]
    + [phrase for phrases in GENDER_WORDS.values() for phrase in phrases]
    + [name for group in BUILTIN_COLOUR_GROUPS for name in group]
    + ["the", "shoe", "shoes", "sole", "step", "foot", "feet"]
)


@dataclass(frozen=True)
class ShopVocabulary:
    """Brands and colours the offline model recognises, longest phrases first.

    `brands` maps a lower-case phrase to the brand as the catalog spells it; `colours` maps a
    lower-case phrase to the colour value the search tool should receive.
    """

    brands: dict[str, str] = field(default_factory=dict)
    colours: dict[str, str] = field(default_factory=dict)
    product_words: frozenset[str] = frozenset()
    """Words of product names and descriptions; empty when the catalog file is missing."""

    def searchable(self, word: str) -> bool:
        """Is `word` worth sending as free-text query? ("waterproof" yes, "comfy" no).

        Without a catalog file every word is, and the search tool decides.
        """
        if not self.product_words:
            return True
        return any(
            form in self.product_words
            for form in (word, word.removesuffix("s"), word.removesuffix("es"))
        )

    def with_brands(self, extra: list[str]) -> ShopVocabulary:
        """Return a copy that also knows the given brand names (e.g. seen in tool results)."""
        brands = dict(self.brands)
        for brand in extra:
            _add_brand(brands, brand)
        return ShopVocabulary(
            brands=_longest_first(brands), colours=self.colours, product_words=self.product_words
        )


def _add_brand(brands: dict[str, str], brand: object) -> None:
    """Record a brand under its full name and the short names shoppers use for it.

    "Switchback Trail Co." is also "switchback trail" and "switchback"; "Cobble & Vine" is also
    "cobble and vine". A short name is skipped when it is an ordinary shop word ("trail").
    """
    if not isinstance(brand, str) or not brand.strip():
        return
    name = brand.strip()
    lower = name.lower()
    brands.setdefault(lower, name)
    brands.setdefault(lower.replace("&", "and"), name)
    without_suffix = re.sub(r"\s+(?:co\.?|inc\.?|ltd\.?|company)$", "", lower)
    brands.setdefault(without_suffix, name)
    first = lower.split()[0]
    if first != lower and first not in _SHOP_WORDS and len(first) > 3:
        brands.setdefault(first, name)


def _longest_first(table: dict[str, str]) -> dict[str, str]:
    """Order phrases longest first so "navy blue" is matched before "blue"."""
    return dict(sorted(table.items(), key=lambda item: (-len(item[0]), item[0])))


def _catalog_products(path: Path) -> list[dict]:
    """Read the product list from the catalog file, accepting a list or {"products": [...]}.

    A missing, unreadable or oddly shaped file gives an empty list: the model then still works
    with categories, colours and sizes, and learns brands from search results in the conversation.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if isinstance(data, dict):
        data = data.get("products", [])
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, dict)]


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> ShopVocabulary:
    """Build the vocabulary for one version of the catalog file (cached by path and mtime)."""
    products = _catalog_products(Path(path))
    brands: dict[str, str] = {}
    catalog_colours: list[str] = []
    words: set[str] = set()
    for product in products:
        _add_brand(brands, product.get("brand"))
        for key in ("name", "description"):
            if isinstance(product.get(key), str):
                words.update(re.findall(r"[a-z0-9][a-z0-9-]*", product[key].lower()))
        colours = product.get("colors", [])
        if isinstance(colours, list):
            for colour in colours:
                if isinstance(colour, str) and colour.strip():
                    catalog_colours.append(colour.strip().lower())

    colours: dict[str, str] = {}
    for group in BUILTIN_COLOUR_GROUPS:
        canonical = next((name for name in group if name in catalog_colours), group[0])
        for name in group:
            colours[name] = canonical
    for colour in catalog_colours:
        colours.setdefault(colour, colour)
    return ShopVocabulary(
        brands=_longest_first(brands),
        colours=_longest_first(colours),
        product_words=frozenset(words),
    )


def load_vocabulary(catalog_path: Path | None = None) -> ShopVocabulary:
    """Return the shop vocabulary read from `catalog_path` (default `data/catalog.json`).

    Never raises: without the file, brands are empty and colours are the built-in list.
    """
    path = catalog_path or DEFAULT_CATALOG_PATH
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        mtime_ns = -1
    return _load(str(path), mtime_ns)


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive pattern for a vocabulary phrase."""
    return _phrase_pattern(phrase)


@lru_cache(maxsize=4096)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", re.IGNORECASE)
