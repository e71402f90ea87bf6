"""One small picture per product: a stylised side view of a shoe, drawn with Pillow.

Nothing is fetched from the network, and the same category and colours always give the same
picture, so the pictures are as reproducible as the catalog they illustrate.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

IMAGE_SIZE = (256, 160)
# Drawn at 2x and scaled down: Pillow's polygons are not anti-aliased.
DRAW_SCALE = 2

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
