"""Build the demo shoe catalog, the demo users and one picture per product.

Run from the repository root::

    .venv/bin/python data/build_catalog.py

It writes ``data/catalog.json``, ``data/users.json`` and ``data/images/<product_id>.png``.
Everything is derived from one seeded random generator, so running it twice gives byte-identical
files (the outputs are committed; the database is seeded from them, see
``assistant/catalog/db.py``). The brands and model names are invented so the demo carries no
trademarks. Pictures are drawn with Pillow: nothing is fetched from the network.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

SEED = 20240611
DATA_DIR = Path(__file__).resolve().parent
IMAGE_SIZE = (256, 160)
# Drawn at 2x and scaled down: Pillow's polygons are not anti-aliased.
DRAW_SCALE = 2

# US sizes. Adult shoes come in half sizes through 12 then whole sizes, as most real ranges do;
# kids' "big kid" sizes run 1-7 (younger children's sizes are left out to keep the demo simple).
WOMEN_SIZES = [5.0 + 0.5 * i for i in range(13)]  # 5 .. 11
MEN_SIZES = [7.0 + 0.5 * i for i in range(11)] + [13.0, 14.0, 15.0]  # 7 .. 12, 13, 14, 15
KIDS_SIZES = [1.0 + 0.5 * i for i in range(13)]  # 1 .. 7
UNISEX_SIZES = [5.0 + 0.5 * i for i in range(15)] + [13.0]  # 5 .. 12, 13
SANDAL_ADULT_WHOLE = True  # sandals come in whole sizes only

COLOR_RGB = {
    "black": (34, 34, 38),
    "white": (236, 236, 232),
    "grey": (128, 132, 138),
    "navy": (30, 44, 92),
    "blue": (40, 110, 200),
    "red": (196, 40, 44),
    "green": (46, 140, 80),
    "olive": (104, 112, 56),
    "brown": (112, 72, 40),
    "tan": (196, 160, 112),
    "pink": (232, 120, 160),
    "purple": (120, 72, 168),
    "orange": (236, 120, 36),
    "yellow": (240, 200, 48),
    "teal": (32, 140, 140),
    "beige": (220, 204, 176),
    "burgundy": (120, 28, 48),
}


@dataclass(frozen=True)
class CategorySpec:
    """How one category of shoes is generated: brands, names, prices, colours, words."""

    count: int
    brands: tuple[str, ...]
    first_names: tuple[str, ...]
    second_names: tuple[str, ...]
    price_range: tuple[int, int]
    colors: tuple[str, ...]
    genders: tuple[tuple[str, int], ...]  # (gender, weight)
    openers: tuple[str, ...]
    features: tuple[str, ...]
    uses: tuple[str, ...]


CATEGORIES: dict[str, CategorySpec] = {
    "running": CategorySpec(
        count=30,
        brands=("Stridewell", "Fleetwing", "Pacecraft"),
        first_names=(
            "Aurora",
            "Vela",
            "Zephyr",
            "Pulse",
            "Cadence",
            "Swift",
            "Lumen",
            "Meridian",
            "Helix",
            "Stratos",
            "Kestrel",
            "Halcyon",
        ),
        second_names=("Glide", "Rise", "Flow", "Racer", "Trainer", "Tempo"),
        price_range=(75, 185),
        colors=(
            "black",
            "white",
            "grey",
            "navy",
            "blue",
            "red",
            "pink",
            "orange",
            "teal",
            "yellow",
            "purple",
            "green",
        ),
        genders=(("women", 4), ("men", 4), ("kids", 2), ("unisex", 1)),
        openers=(
            "A lightweight daily trainer",
            "A plush long-run shoe",
            "A responsive tempo shoe",
            "A stable neutral runner",
            "A fast race-day shoe",
        ),
        features=(
            "a nitrogen-infused foam midsole with an 8 mm drop",
            "a rocker sole that rolls you smoothly onto your toes",
            "a breathable engineered mesh upper",
            "a roomy forefoot with a padded heel collar",
            "a carbon-fibre plate for snappy toe-offs",
            "reflective details for early-morning runs",
        ),
        uses=(
            "At home on the road and the treadmill.",
            "Comfortable from the first mile to the last.",
            "Ready for half-marathon training blocks.",
        ),
    ),
    "trail": CategorySpec(
        count=22,
        brands=("Northpeak", "Switchback Trail Co.", "Stridewell"),
        first_names=(
            "Ridge",
            "Scree",
            "Talus",
            "Gritstone",
            "Fellrunner",
            "Cascade",
            "Boulder",
            "Lynx",
            "Tarn",
            "Ptarmigan",
        ),
        second_names=("Runner", "Grip", "Ultra", "TR", "Trail"),
        price_range=(95, 195),
        colors=("black", "grey", "olive", "orange", "blue", "green", "teal", "red", "brown"),
        genders=(("women", 3), ("men", 4), ("kids", 1), ("unisex", 1)),
        openers=(
            "An aggressive trail runner",
            "A cushioned ultra-distance trail shoe",
            "A nimble mountain runner",
            "A versatile door-to-trail shoe",
        ),
        features=(
            "5 mm multidirectional lugs for mud and loose rock",
            "a rock plate that shields the forefoot",
            "a sticky rubber outsole that grips wet stone",
            "a gusseted tongue that keeps grit out",
            "a water-resistant upper that dries quickly",
        ),
        uses=(
            "Made for technical singletrack.",
            "Comfortable over long days in the hills.",
            "Handles forest paths and gravel roads alike.",
        ),
    ),
    "hiking": CategorySpec(
        count=24,
        brands=("Northpeak", "Cairnline", "Timberhold"),
        first_names=(
            "Summit",
            "Alder",
            "Basalt",
            "Granite",
            "Timberline",
            "Highpass",
            "Glacier",
            "Moraine",
            "Aspen",
            "Larch",
        ),
        second_names=("Mid Waterproof", "Low Waterproof", "Trek Boot", "Hiker", "Approach"),
        price_range=(110, 265),
        colors=("brown", "tan", "olive", "grey", "black", "navy", "burgundy", "green"),
        genders=(("women", 3), ("men", 4), ("kids", 2)),
        openers=(
            "A supportive day-hiking boot",
            "A rugged backpacking boot",
            "A light hiking shoe",
            "A waterproof trekking boot",
        ),
        features=(
            "a waterproof breathable membrane",
            "a full-grain leather upper and a protective rubber toe cap",
            "a deep-lug outsole for muddy descents",
            "a supportive shank for heavy packs",
            "speed-lace hooks over a padded ankle collar",
        ),
        uses=(
            "Ready for wet spring trails.",
            "Made for multi-day treks with a loaded pack.",
            "Comfortable out of the box on rocky paths.",
        ),
    ),
    "casual": CategorySpec(
        count=26,
        brands=("Cobble & Vine", "Harbor Lane", "Fleetwing"),
        first_names=(
            "Harbor",
            "Portside",
            "Canvas",
            "Drift",
            "Corner",
            "Loft",
            "Weekend",
            "Park",
            "Union",
            "Commons",
        ),
        second_names=("Sneaker", "Slip-On", "Low", "Court", "Knit", "Loafer"),
        price_range=(50, 145),
        colors=(
            "white",
            "black",
            "navy",
            "grey",
            "beige",
            "tan",
            "green",
            "red",
            "pink",
            "blue",
            "brown",
        ),
        genders=(("women", 3), ("men", 3), ("kids", 2), ("unisex", 2)),
        openers=(
            "An everyday sneaker",
            "A clean-lined court shoe",
            "A soft knit slip-on",
            "A classic canvas low-top",
        ),
        features=(
            "a cushioned cork-blend footbed",
            "a vulcanised rubber sole",
            "a washable recycled-knit upper",
            "a suede toe and contrast stitching",
            "a memory-foam insole",
        ),
        uses=(
            "Easy to wear from the office to the weekend.",
            "Pairs with jeans or chinos.",
            "Made for long days on your feet around town.",
        ),
    ),
    "basketball": CategorySpec(
        count=20,
        brands=("Hoopforge", "Skyrise"),
        first_names=(
            "Rimshot",
            "Backboard",
            "Crossover",
            "Fastbreak",
            "Alley",
            "Baseline",
            "Hangtime",
            "Fullcourt",
            "Tipoff",
            "Paint",
        ),
        second_names=("High", "Mid", "Low", "Elite", "Pro"),
        price_range=(85, 215),
        colors=(
            "black",
            "white",
            "red",
            "blue",
            "purple",
            "yellow",
            "orange",
            "grey",
            "navy",
            "green",
        ),
        genders=(("men", 4), ("women", 2), ("kids", 2), ("unisex", 1)),
        openers=(
            "A high-top court shoe",
            "A low-cut guard shoe",
            "A supportive big-man shoe",
            "A responsive all-court shoe",
        ),
        features=(
            "a herringbone outsole for quick cuts",
            "a springy forefoot cushioning unit",
            "a lockdown strap over the midfoot",
            "a padded high collar for ankle support",
            "a durable outsole that also holds up outdoors",
        ),
        uses=(
            "Built for indoor hardwood.",
            "Ready for pickup games on outdoor courts.",
            "Made for explosive first steps.",
        ),
    ),
    "formal": CategorySpec(
        count=22,
        brands=("Marlowe & Finch", "Ashford Bench", "Harbor Lane"),
        first_names=(
            "Ashby",
            "Kensington",
            "Whitmore",
            "Bellamy",
            "Hartley",
            "Prescott",
            "Carlisle",
            "Ellington",
            "Sinclair",
            "Wexford",
        ),
        second_names=("Oxford", "Derby", "Brogue", "Monk Strap", "Chelsea Boot", "Loafer"),
        price_range=(90, 320),
        colors=("black", "brown", "tan", "burgundy", "navy", "beige", "grey"),
        genders=(("men", 4), ("women", 3), ("kids", 1)),
        openers=(
            "A polished dress shoe",
            "A hand-finished classic",
            "A versatile smart shoe",
        ),
        features=(
            "a Goodyear-welted leather sole that can be resoled",
            "a burnished calf-leather upper with a full leather lining",
            "a cushioned heel for all-day comfort",
            "a rubber-studded sole for grip in the rain",
        ),
        uses=(
            "Right for the office, weddings and interviews.",
            "Dresses up a suit or dark denim.",
            "A staple for formal occasions.",
        ),
    ),
    "sandals": CategorySpec(
        count=24,
        brands=("Tidewater", "Saltmarsh", "Cobble & Vine"),
        first_names=(
            "Tide",
            "Lagoon",
            "Cove",
            "Shoal",
            "Sandbar",
            "Palma",
            "Breeze",
            "Marina",
            "Coral",
            "Dune",
        ),
        second_names=("Slide", "Sport Sandal", "Flip-Flop", "Strap Sandal", "Recovery Slide"),
        price_range=(25, 115),
        colors=(
            "black",
            "tan",
            "brown",
            "white",
            "navy",
            "teal",
            "pink",
            "olive",
            "orange",
            "beige",
        ),
        genders=(("women", 4), ("men", 3), ("kids", 2), ("unisex", 2)),
        openers=(
            "A comfortable summer sandal",
            "A water-friendly sport sandal",
            "A soft recovery slide",
            "A minimalist strap sandal",
        ),
        features=(
            "a contoured footbed and arch support",
            "quick-dry webbing straps",
            "a grippy siped outsole for wet decks",
            "adjustable hook-and-loop straps",
            "a cushioned foam sole",
        ),
        uses=(
            "Made for the beach, the pool and river crossings.",
            "Easy to slip on after a long run.",
            "Packs flat for travel.",
        ),
    ),
}

# Kids' products also come from a dedicated kids' brand.
KIDS_BRAND = "Puddlejump"
KIDS_OPENERS = ("A durable kids' shoe", "A light and easy kids' shoe")
KIDS_USES = (
    "Built for school runs and weekend adventures.",
    "Tough enough for recess, easy enough for small feet.",
)
KIDS_FEATURES = (
    "hook-and-loop closures kids can do themselves",
    "a toe bumper that survives the playground",
)

CATEGORY_CODES = {
    "running": "RUN",
    "trail": "TRL",
    "hiking": "HIK",
    "casual": "CAS",
    "basketball": "BSK",
    "formal": "FRM",
    "sandals": "SND",
}

# Formal names depend on gender: women's formal shoes include pumps and block heels.
WOMEN_FORMAL_NAMES = ("Pump", "Block Heel", "Loafer", "Ballet Flat", "Oxford", "Chelsea Boot")

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


def draw_shoe(category: str, colors: list[str]) -> Image.Image:
    """A stylised side view of a shoe whose shape depends on the category.

    The upper is painted in the main colour, the stripe and laces in the second colour (or
    white), the sole dark for outdoor and dress shoes and light otherwise. Boots and high-tops
    get a tall collar, trail and hiking shoes a lugged sole, dress shoes a heel block, sandals
    straps over a footbed.
    """
    scale = DRAW_SCALE
    width, height = IMAGE_SIZE
    image = Image.new("RGB", (width * scale, height * scale), (246, 245, 241))
    draw = ImageDraw.Draw(image)

    def pts(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * scale, y * scale) for x, y in points]

    main = COLOR_RGB[colors[0]]
    accent = COLOR_RGB[colors[1]] if len(colors) > 1 else (250, 250, 250)
    outline = tuple(max(0, channel - 60) for channel in main)
    ground = 132

    draw.ellipse(pts([(24, ground - 5), (238, ground + 9)]), fill=(224, 222, 216))  # shadow

    if category == "sandals":
        footbed = (214, 190, 150)
        draw.rounded_rectangle(
            pts([(28, ground - 12), (232, ground)]), radius=6 * scale, fill=(80, 66, 54)
        )
        draw.rounded_rectangle(
            pts([(30, ground - 19), (230, ground - 11)]), radius=4 * scale, fill=footbed
        )
        for left, right in ((62, 112), (124, 178), (176, 222)):
            draw.arc(
                pts([(left, ground - 62), (right, ground + 12)]),
                start=185,
                end=355,
                fill=main,
                width=9 * scale,
            )
        draw.arc(pts([(26, ground - 58), (70, ground + 8)]), 200, 280, fill=accent, width=5 * scale)
        return image.resize(IMAGE_SIZE, Image.LANCZOS)

    # collar: top of the heel tab; toe: top of the toe box; sole: thickness
    collar, toe, sole_height, lugs, heel_block = {
        "running": (72, 106, 17, False, False),
        "trail": (74, 104, 17, True, False),
        "hiking": (36, 100, 17, True, False),
        "casual": (80, 108, 11, False, False),
        "basketball": (32, 100, 15, False, False),
        "formal": (86, 112, 6, False, True),
    }[category]
    sole_top = ground - sole_height
    high = collar < 60

    upper = [
        (36, sole_top),
        (28, sole_top - 18),
        (30, collar + 14),
        (38, collar),
        (58, collar + 6),
        (86 if high else 80, collar + (8 if high else 12)),
        (104, collar + (10 if high else 2)),
        (150, toe - 24),
        (196, toe - 12),
        (222, toe - 6),
        (236, toe + 6),
        (240, sole_top),
    ]
    draw.polygon(pts(upper), fill=main, outline=outline, width=2 * scale)
    # The ankle opening, seen from the side
    draw.chord(
        pts([(40, collar - 6), (100 if high else 96, collar + 22)]),
        start=0,
        end=180,
        fill=tuple(max(0, c - 90) for c in main),
    )
    if category == "formal":
        draw.arc(pts([(176, toe - 20), (262, sole_top + 22)]), 195, 262, fill=outline, width=3)
        draw.line(pts([(118, collar + 22), (196, toe - 10)]), fill=(255, 255, 255), width=3)
    else:
        swoosh = [(74, sole_top - 6), (132, collar + 34), (150, collar + 34), (100, sole_top - 6)]
        draw.polygon(pts(swoosh), fill=accent)
    for step in range(4):
        x = 108 + step * 14
        y = (collar + 14 + step * 14) if high else (collar + 10 + step * 6)
        draw.line(pts([(x, y), (x + 12, y + 5)]), fill=accent, width=3 * scale)

    sole_color = (52, 50, 48) if category in ("trail", "hiking", "formal") else (242, 242, 238)
    sole = [(30, ground), (32, sole_top), (240, sole_top), (246, ground - 8), (236, ground)]
    draw.polygon(pts(sole), fill=sole_color, outline=(100, 100, 100))
    if lugs:
        for x in range(36, 234, 13):
            draw.rectangle(pts([(x, ground), (x + 7, ground + 4)]), fill=(52, 50, 48))
    if heel_block:
        draw.rectangle(pts([(32, sole_top), (64, ground + 3)]), fill=(40, 30, 26))
    return image.resize(IMAGE_SIZE, Image.LANCZOS)


def write_images(products: list[dict], image_dir: Path) -> None:
    """Draw one small palette PNG per product; stale pictures are removed."""
    image_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f"{product['product_id']}.png" for product in products}
    for stale in image_dir.glob("*.png"):
        if stale.name not in wanted:
            stale.unlink()
    for product in products:
        picture = draw_shoe(product["category"], product["colors"])
        # 32 colours keep each file at a few kilobytes.
        picture = picture.quantize(colors=32, method=Image.Quantize.MEDIANCUT)
        picture.save(image_dir / f"{product['product_id']}.png", optimize=True)


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
