"""What each category of the demo catalog is made of: brands, model names, price range, colours,
the mix of genders, and the phrases its descriptions are written from.

`build_catalog.py` draws every product from these with its seeded random generator, so changing
anything here changes ``data/catalog.json``: run the builder again and commit what it writes.
"""

from __future__ import annotations

from dataclasses import dataclass


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
