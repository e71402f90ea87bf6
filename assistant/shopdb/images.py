"""Where a product's picture is: drawn offline by data/build_catalog.py, never downloaded."""

from pathlib import Path

from assistant.shopdb.engine import DATA_DIR

IMAGE_DIR = DATA_DIR / "images"


def product_image_path(product_id: str) -> Path | None:
    """The PNG picture of `product_id`, or None when there is none."""
    path = IMAGE_DIR / f"{product_id.strip().upper()}.png"
    return path if path.is_file() else None
