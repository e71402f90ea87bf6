"""The shop's words: what shoppers call each category, gender and colour, the brands the catalog
sells, the words that say nothing about which shoe is meant, and the brands and kinds of shoe
the shop does not sell (so the offline model can say so and offer the closest it has).

Catalog search (`search.py`) and the offline chat model (`assistant.agent.models.offline`) both
read these tables, so a word one of them understands, the other understands too. Categories and
genders are the values the products table holds (`tables.py`); brands, and the way the catalog
spells each colour, come from the catalog data the database is seeded from (``data/catalog.json``).

    >>> CATEGORY_OF["sneakers"]
    'casual'
    >>> color_names("gray")
    ('grey', 'gray', 'charcoal', 'silver')
    >>> load_vocabulary().brands["cobble and vine"]
    'Cobble & Vine'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from assistant.shopdb.engine import DATA_DIR
from assistant.shopdb.tables import CATEGORIES, GENDERS

__all__ = [
    "CATEGORIES",
    "CATEGORY_HINTS",
    "CATEGORY_NOUNS",
    "CATEGORY_OF",
    "CATEGORY_STAND_INS",
    "CATEGORY_WORDS",
    "CLOSEST_CATEGORY",
    "COLOR_OF",
    "COLOR_WORDS",
    "DEFAULT_CATALOG_PATH",
    "GENDERS",
    "GENDER_ADJECTIVES",
    "GENDER_OF",
    "GENDER_WORDS",
    "OTHER_BRANDS",
    "OTHER_BRAND_NAMES",
    "STOPWORDS",
    "UNSOLD_KIND_WORDS",
    "ShopVocabulary",
    "brand_names",
    "catalog_color",
    "color_names",
    "load_vocabulary",
]

#: The catalog data file the database is seeded from; brands and colour spellings are read here.
DEFAULT_CATALOG_PATH = DATA_DIR / "catalog.json"

#: Category -> the words that name its shoes (its own name included). When a message names two
#: categories the first one here wins: "trail running" is trail, "hiking boots" is hiking, "trail
#: runners" is trail and not running.
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "trail": (
        "trail", "trail running", "trail-running", "trail runner", "trail runners", "off-road",
        "off road", "offroad",
    ),
    "hiking": (
        "hiking", "hike", "hikes", "hiker", "hikers", "trek", "trekking", "boot", "boots",
        "backpacking",
    ),
    "basketball": ("basketball", "hoops", "court shoes", "high-tops", "high tops", "hightops"),
    "formal": (
        "formal", "dress", "dress shoe", "dress shoes", "oxford", "oxfords", "derby", "derbies",
        "brogue", "brogues", "loafer", "loafers",
    ),
    "sandals": (
        "sandals", "sandal", "slide", "slides", "flip-flop", "flip-flops", "flip flops",
        "flipflops",
    ),
    "running": (
        "running", "run", "runner", "runners", "jog", "jogging", "marathon", "road running",
    ),
    "casual": (
        "casual", "sneaker", "sneakers", "trainers", "everyday", "lifestyle", "slip-on",
        "slip-ons", "slip ons",
    ),
}  # fmt: skip

#: Category -> words for where or when its shoes are worn. They mean the category only when no
#: word names one: "shoes for the beach" are sandals, "hiking boots for muddy trails" are hiking
#: boots, "casual shoes for the office" are casual.
CATEGORY_HINTS: dict[str, tuple[str, ...]] = {
    "trail": ("trails", "mountain"),
    "basketball": ("court",),
    "formal": ("office", "wedding", "smart"),
    "sandals": ("beach",),
    "running": ("road",),
}

#: Category -> words for shoes the shop has no category of that name for, which the category
#: serves: there is no gym or training category, and running shoes are the closest. Search reads
#: them as the category; the offline model says it searched the category instead.
CATEGORY_STAND_INS: dict[str, tuple[str, ...]] = {
    "running": (
        "gym", "training", "cross-training", "cross training", "crossfit", "workout", "workouts",
        "working out", "work out", "fitness", "exercise", "exercising", "hiit", "weightlifting",
    ),
}  # fmt: skip

#: Kinds of shoe the shop does not sell -> the words shoppers use for them. They are no category:
#: search refuses them, and the offline model says the shop has none and offers the closest one.
UNSOLD_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "golf shoes": ("golf",),
    "football boots": ("soccer", "football", "cleats", "cleat"),
    "tennis shoes": ("tennis", "pickleball", "squash", "badminton", "padel"),
    "climbing shoes": ("climbing", "bouldering"),
    "cycling shoes": ("cycling", "bike", "biking", "bicycle"),
    "ski boots": ("ski", "skiing", "snowboard", "snowboarding"),
    "rain boots": ("rain boots", "wellies", "wellingtons", "galoshes"),
    "work boots": ("work boots", "steel toe", "steel-toe", "safety boots", "safety shoes"),
    "slippers": ("slippers", "house shoes"),
    "skate shoes": ("skate", "skateboarding"),
    "dance shoes": ("dance", "dancing", "tap shoes"),
    "bowling shoes": ("bowling",),
    "water shoes": ("water shoes", "aqua shoes", "swimming"),
}

#: Well-known brands the shop does not sell -> the category each is best known for.
OTHER_BRANDS: dict[str, str] = {
    "Nike": "running", "Adidas": "running", "Puma": "running", "Reebok": "running",
    "New Balance": "running", "Asics": "running", "Brooks": "running", "Hoka": "running",
    "Saucony": "running", "Mizuno": "running", "Under Armour": "running",
    "Salomon": "trail", "Altra": "trail", "La Sportiva": "trail",
    "Merrell": "hiking", "Timberland": "hiking", "Columbia": "hiking", "Lowa": "hiking",
    "Vans": "casual", "Converse": "casual", "Skechers": "casual", "Allbirds": "casual",
    "Ugg": "casual", "Dr. Martens": "casual", "Fila": "casual",
    "Air Jordan": "basketball",
    "Clarks": "formal", "Cole Haan": "formal", "Ecco": "formal", "Allen Edmonds": "formal",
    "Birkenstock": "sandals", "Teva": "sandals", "Crocs": "sandals", "Havaianas": "sandals",
    "Chaco": "sandals",
}  # fmt: skip

#: Kind of shoe the shop does not sell -> the closest category it does sell.
CLOSEST_CATEGORY: dict[str, str] = {
    "golf shoes": "casual",
    "football boots": "running",
    "tennis shoes": "basketball",
    "climbing shoes": "hiking",
    "cycling shoes": "running",
    "ski boots": "hiking",
    "rain boots": "hiking",
    "work boots": "hiking",
    "slippers": "sandals",
    "skate shoes": "casual",
    "dance shoes": "formal",
    "bowling shoes": "casual",
    "water shoes": "sandals",
}

#: Gender -> the words shoppers use for it. Kids first, so "girls" is kids and never women.
GENDER_WORDS: dict[str, tuple[str, ...]] = {
    "kids": (
        "kids", "kids'", "kid", "kid's", "children", "children's", "childrens", "child", "boy",
        "boys", "boy's", "girl", "girls", "girl's", "youth", "junior", "juniors", "toddler",
        "toddlers", "my son", "my daughter",
    ),
    "women": (
        "women", "women's", "womens", "woman", "woman's", "ladies", "lady", "lady's", "female",
        "for her", "my wife",
    ),
    "men": (
        "men", "men's", "mens", "man", "man's", "male", "gents", "gentlemen", "for him",
        "my husband",
    ),
    "unisex": ("unisex",),
}  # fmt: skip

#: Colour, as the catalog names it -> other words for it. A catalog may spell a colour as one of
#: its other words ("gray"); `catalog_color` finds the spelling a catalog uses.
COLOR_WORDS: dict[str, tuple[str, ...]] = {
    "black": (),
    "white": ("off-white", "ivory"),
    "grey": ("gray", "charcoal", "silver"),
    "navy": ("navy blue", "dark blue"),
    "blue": ("light blue",),
    "red": (),
    "green": ("mint", "forest green"),
    "olive": (),
    "brown": ("chocolate",),
    "tan": ("khaki", "camel"),
    "beige": ("cream",),
    "pink": ("rose",),
    "purple": ("violet", "lilac"),
    "orange": (),
    "yellow": ("mustard", "gold"),
    "teal": ("turquoise",),
    "burgundy": ("maroon", "wine"),
}

#: Words that say nothing about which shoe is meant; search leaves them out of the free text.
STOPWORDS = frozenset(
    (
        "a", "an", "and", "any", "are", "for", "i", "in", "is", "it", "me", "my", "of", "on", "or",
        "pair", "pairs", "please", "some", "show", "shoe", "shoes", "something", "the", "to",
        "want", "with", "looking", "need", "find", "get", "new", "good", "nice",
    )
)  # fmt: skip

#: How a sentence names a category's shoes ("5 trail shoes", "3 sandals").
CATEGORY_NOUNS: dict[str, str] = {
    "running": "running shoes",
    "trail": "trail shoes",
    "hiking": "hiking shoes",
    "casual": "casual shoes",
    "basketball": "basketball shoes",
    "formal": "formal shoes",
    "sandals": "sandals",
}

#: How a sentence writes a gender before a noun ("women's trail shoes"); unisex is left unsaid.
GENDER_ADJECTIVES: dict[str, str] = {"women": "women's", "men": "men's", "kids": "kids'"}


def _word_index(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Word -> the key it belongs to; a key is a word for itself, and the first key wins."""
    index: dict[str, str] = {}
    for key, words in table.items():
        for word in (key, *words):
            index.setdefault(word, key)
    return index


#: Word or phrase -> category, hints included ("sneakers" -> "casual", "beach" -> "sandals").
CATEGORY_OF: dict[str, str] = (
    _word_index(CATEGORY_WORDS)
    | {word: category for category, words in CATEGORY_STAND_INS.items() for word in words}
    | {hint: category for category, hints in CATEGORY_HINTS.items() for hint in hints}
)
#: Word or phrase -> gender ("ladies" -> "women").
GENDER_OF: dict[str, str] = _word_index(GENDER_WORDS)
#: Word or phrase -> colour as the catalog usually names it ("gray" -> "grey").
COLOR_OF: dict[str, str] = _word_index(COLOR_WORDS)

#: Lower-case name -> a brand of `OTHER_BRANDS`, with the other names shoppers use for some.
OTHER_BRAND_NAMES: dict[str, str] = {
    **{brand.lower(): brand for brand in OTHER_BRANDS},
    "under armor": "Under Armour",
    "hoka one one": "Hoka",
    "dr martens": "Dr. Martens",
    "doc martens": "Dr. Martens",
    "air jordans": "Air Jordan",
    "jordans": "Air Jordan",
    "uggs": "Ugg",
    "birkenstocks": "Birkenstock",
    "new balances": "New Balance",
}

#: Words never taken for a brand's short name: "Switchback Trail Co." is "switchback", not "trail".
_NOT_BRAND_NAMES = frozenset(
    [*CATEGORY_OF, *GENDER_OF, *COLOR_OF, "the", "shoe", "shoes", "sole", "step", "foot", "feet"]
)


def color_names(word: str) -> tuple[str, ...]:
    """Every name of the colour `word` means, the usual one first ("gray" -> grey, gray, ...).

    A word that is no colour this shop knows is only a name for itself: ("plaid",).
    """
    color = COLOR_OF.get(word, word)
    return (color, *COLOR_WORDS.get(color, ()))


def catalog_color(word: str, known: Iterable[str]) -> str | None:
    """The spelling of `word`'s colour among `known` colours ("grey" -> "gray" if that is known).

    `word` itself wins when it is known, so a catalog selling both grey and silver keeps them
    apart. Returns None when none of the colour's names is among `known`.
    """
    spellings = set(known)
    if word in spellings:
        return word
    return next((name for name in color_names(word) if name in spellings), None)


def brand_names(brand: str) -> list[str]:
    """The lower-case names shoppers use for `brand`, the full name first.

    "Switchback Trail Co." is also "switchback trail" and "switchback"; "Cobble & Vine" is also
    "cobble and vine". The first word alone counts only when it is no ordinary shop word
    ("trail") and longer than three letters.
    """
    full = brand.strip().lower()
    if not full:
        return []
    names = [
        full,
        full.replace("&", "and"),
        re.sub(r"\s+(?:co\.?|inc\.?|ltd\.?|company)$", "", full),
    ]
    first = full.split()[0]
    if first != full and first not in _NOT_BRAND_NAMES and len(first) > 3:
        names.append(first)
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class ShopVocabulary:
    """The words read from the catalog data: brands, colour spellings, product words.

    `brands` maps a lower-case name to the brand as the catalog spells it; `colors` maps every
    colour word to the colour value search expects. Both are ordered longest phrase first, so
    "navy blue" is matched before "blue".
    """

    brands: dict[str, str] = field(default_factory=dict)
    colors: dict[str, str] = field(default_factory=dict)
    product_words: frozenset[str] = frozenset()
    """Words of product names and descriptions; empty when the catalog file is missing."""
    category_brands: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Category -> the brands the catalog sells it from, sorted; empty without a catalog file."""

    def searchable(self, word: str) -> bool:
        """Is `word` worth sending as free-text query? ("waterproof" yes, "comfy" no).

        Without a catalog file every word is, and the search decides.
        """
        if not self.product_words:
            return True
        return any(
            form in self.product_words
            for form in (word, word.removesuffix("s"), word.removesuffix("es"))
        )

    def with_brands(self, extra: Iterable[str]) -> ShopVocabulary:
        """A copy that also knows the given brands (e.g. seen in search results)."""
        brands = dict(self.brands)
        for brand in extra:
            if isinstance(brand, str):
                for name in brand_names(brand):
                    brands.setdefault(name, brand.strip())
        return replace(self, brands=_longest_first(brands))


def load_vocabulary(catalog_path: Path | None = None) -> ShopVocabulary:
    """The vocabulary of the catalog data at `catalog_path` (default `DEFAULT_CATALOG_PATH`).

    Never raises: without a readable file, brands are empty and colours are spelled the usual
    way. Cached per file and modification time, so an edited file is read again.
    """
    path = catalog_path or DEFAULT_CATALOG_PATH
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        mtime_ns = -1
    return _load(str(path), mtime_ns)


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> ShopVocabulary:
    products = _catalog_products(Path(path))
    catalog_colors: list[str] = []
    words: set[str] = set()
    category_brands: dict[str, set[str]] = {}
    for product in products:
        category, brand = product.get("category"), product.get("brand")
        if isinstance(category, str) and isinstance(brand, str) and brand.strip():
            category_brands.setdefault(category, set()).add(brand.strip())
        for key in ("name", "description"):
            if isinstance(product.get(key), str):
                words.update(re.findall(r"[a-z0-9][a-z0-9-]*", product[key].lower()))
        listed = product.get("colors", [])
        if isinstance(listed, list):
            catalog_colors += [
                c.strip().lower() for c in listed if isinstance(c, str) and c.strip()
            ]

    colors = {
        name: catalog_color(name, catalog_colors) or color for name, color in COLOR_OF.items()
    }
    for color in catalog_colors:
        colors.setdefault(color, color)
    vocabulary = ShopVocabulary(
        colors=_longest_first(colors),
        product_words=frozenset(words),
        category_brands={key: tuple(sorted(names)) for key, names in category_brands.items()},
    )
    return vocabulary.with_brands(product.get("brand") for product in products)


def _catalog_products(path: Path) -> list[dict]:
    """The product list of a catalog file, written as a list or as {"products": [...]}.

    A missing, unreadable or oddly shaped file gives an empty list.
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


def _longest_first(table: dict[str, str]) -> dict[str, str]:
    return dict(sorted(table.items(), key=lambda item: (-len(item[0]), item[0])))
