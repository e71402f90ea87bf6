"""Build the demo shoe catalog, the demo users and one picture per product.

Run from the repository root::

    .venv/bin/python data/build_catalog.py

It writes ``data/catalog.json``, ``data/users.json`` and ``data/images/<product_id>.png``.
Everything is derived from one seeded random generator, so running it twice gives byte-identical
files (the outputs are committed; the database is seeded from them, see
``assistant/shopdb/engine.py``). The brands and model names are invented so the demo carries no
trademarks. What each category is made of is in ``catalog_specs.py``; the pictures are drawn by
``shoe_pictures.py`` with Pillow: nothing is fetched from the network.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from catalog_specs import (
    CATEGORIES,
    CATEGORY_CODES,
    KIDS_BRAND,
    KIDS_FEATURES,
    KIDS_OPENERS,
    KIDS_USES,
    WOMEN_FORMAL_NAMES,
)
from shoe_pictures import write_images

SEED = 20240611
DATA_DIR = Path(__file__).resolve().parent

# US sizes. Adult shoes come in half sizes through 12 then whole sizes, as most real ranges do;
# kids' "big kid" sizes run 1-7 (younger children's sizes are left out to keep the demo simple).
WOMEN_SIZES = [5.0 + 0.5 * i for i in range(13)]  # 5 .. 11
MEN_SIZES = [7.0 + 0.5 * i for i in range(11)] + [13.0, 14.0, 15.0]  # 7 .. 12, 13, 14, 15
KIDS_SIZES = [1.0 + 0.5 * i for i in range(13)]  # 1 .. 7
UNISEX_SIZES = [5.0 + 0.5 * i for i in range(15)] + [13.0]  # 5 .. 12, 13
SANDAL_ADULT_WHOLE = True  # sandals come in whole sizes only

USERS = [
    {
        "username": "alice",
        "display_name": "Alice",
        "role": "shopper",
        "tenant": "tenant-a",
        "shoe_size": 8.5,
        "gender": "women",
        "preferred_category": "running",
    },
    {
        "username": "bob",
        "display_name": "Bob",
        "role": "shopper",
        "tenant": "tenant-b",
        "shoe_size": 10.5,
        "gender": "men",
        "preferred_category": "hiking",
    },
    {
        "username": "carol",
        "display_name": "Carol",
        "role": "shopper",
        "tenant": "tenant-a",
        "shoe_size": 4.0,
        "gender": "kids",
        "preferred_category": "casual",
    },
    {
        # An operator sees every tenant's approval queue in this demo.
        "username": "olga",
        "display_name": "Olga (store operator)",
        "role": "operator",
        "tenant": "tenant-a",
        "shoe_size": None,
        "gender": None,
        "preferred_category": None,
    },
]


def weighted_choice(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    """Pick one value from (value, weight) pairs."""
    values = [value for value, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(values, weights=weights, k=1)[0]


def sizes_for(category: str, gender: str) -> list[float]:
    """The US sizes a product of this category and gender is made in."""
    sizes = {
        "women": WOMEN_SIZES,
        "men": MEN_SIZES,
        "kids": KIDS_SIZES,
        "unisex": UNISEX_SIZES,
    }[gender]
    if category == "sandals" and gender != "kids" and SANDAL_ADULT_WHOLE:
        sizes = [size for size in sizes if size == int(size)]
    return list(sizes)


def shop_price(rng: random.Random, low: int, high: int, gender: str) -> float:
    """A shop-style price (ends in .95 or .00); kids' shoes cost a little over half."""
    base = rng.uniform(low, high)
    if gender == "kids":
        base *= 0.55
    rounded = max(5, round(base / 5) * 5)
    return float(rounded) - 0.05 if rng.random() < 0.75 else float(rounded)


def stock_levels(rng: random.Random, sizes: list[float]) -> dict[str, int]:
    """Stock per size; some sizes are sold out (0) and a few products run thin."""
    scarce = rng.random() < 0.12
    stock: dict[str, int] = {}
    for size in sizes:
        roll = rng.random()
        if roll < (0.45 if scarce else 0.14):
            quantity = 0
        elif roll < (0.85 if scarce else 0.42):
            quantity = rng.randint(1, 3)
        else:
            quantity = rng.randint(4, 14)
        stock[size_key(size)] = quantity
    if not any(stock.values()):
        # Every product in the catalog can be bought in at least one size.
        stock[size_key(rng.choice(sizes))] = rng.randint(1, 4)
    return stock


def size_key(size: float) -> str:
    """The text form of a size: 8.0 -> "8", 8.5 -> "8.5"."""
    return str(int(size)) if size == int(size) else str(size)


def build_products(rng: random.Random) -> list[dict]:
    """Generate every product of the catalog, category by category."""
    products: list[dict] = []
    for category, spec in CATEGORIES.items():
        used_names: set[tuple[str, str]] = set()
        for number in range(1, spec.count + 1):
            gender = weighted_choice(rng, spec.genders)
            brand = rng.choice(spec.brands)
            if gender == "kids" and rng.random() < 0.5:
                brand = KIDS_BRAND
            second_names = spec.second_names
            if category == "formal" and gender == "women":
                second_names = WOMEN_FORMAL_NAMES
            while True:
                name = f"{rng.choice(spec.first_names)} {rng.choice(second_names)}"
                if rng.random() < 0.4 and category in ("running", "trail", "basketball"):
                    name += f" {rng.randint(2, 6)}"
                if gender == "kids":
                    name += " Kids"
                if (brand, name) not in used_names:
                    used_names.add((brand, name))
                    break
            main, *others = rng.sample(spec.colors, k=rng.choice((1, 2, 2, 3)))
            opener = rng.choice(KIDS_OPENERS if gender == "kids" else spec.openers)
            features = rng.sample(spec.features, k=2)
            if gender == "kids":
                features[1] = rng.choice(KIDS_FEATURES)
            use = rng.choice(KIDS_USES if gender == "kids" else spec.uses)
            description = f"{opener} with {features[0]} and {features[1]}. {use}"
            sizes = sizes_for(category, gender)
            products.append(
                {
                    "product_id": f"{CATEGORY_CODES[category]}-{number:03d}",
                    "brand": brand,
                    "name": name,
                    "category": category,
                    "gender": gender,
                    "colors": [main, *others],
                    "price": shop_price(rng, *spec.price_range, gender),
                    "rating": round(min(5.0, max(2.6, rng.gauss(4.2, 0.45))), 1),
                    "description": description,
                    "stock": stock_levels(rng, sizes),
                }
            )
    return products


def main() -> None:
    """Write catalog.json, users.json and the product pictures."""
    rng = random.Random(SEED)
    products = build_products(rng)
    (DATA_DIR / "catalog.json").write_text(
        json.dumps({"version": 1, "products": products}, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    (DATA_DIR / "users.json").write_text(
        json.dumps({"version": 1, "users": USERS}, indent=1) + "\n", encoding="utf-8"
    )
    write_images(products, DATA_DIR / "images")
    print(f"wrote {len(products)} products, {len(USERS)} users and their pictures to {DATA_DIR}")


if __name__ == "__main__":
    main()
