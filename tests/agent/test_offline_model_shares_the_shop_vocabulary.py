"""The offline model and catalog search read one vocabulary and speak one set of search filters.

A word search understands, the offline model understands the same way; a brand added to the
catalog data is known to both; and the model's search calls are exactly `SearchFilters` (plus the
tool's `limit`), which the real search tool accepts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from offline_model_support import Chat, only_call

from assistant.agent.models.offline.parse import parse_request
from assistant.agent.tools import search_products as search_tool
from assistant.shopdb import (
    DATA_DIR,
    SearchFilters,
    get_engine,
    init_db,
    known_brands,
    known_colors,
    normalize_category,
    normalize_color,
    normalize_gender,
    search_products,
)
from assistant.shopdb.vocabulary import CATEGORY_OF, COLOR_OF, GENDER_OF, load_vocabulary


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    """The real catalog in a database of its own."""
    engine = get_engine(f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}")
    init_db(engine)
    return engine


@pytest.mark.parametrize("word", sorted(CATEGORY_OF))
def test_every_category_word_means_the_same_to_the_model_and_to_search(word: str) -> None:
    request = parse_request(f"show me {word}", load_vocabulary())
    assert request.category == normalize_category(word)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("shoes for the beach", "sandals"),
        ("hiking boots for muddy trails", "hiking"),
        ("casual shoes for the office", "casual"),
        ("dress shoes for a wedding", "formal"),
        ("road running shoes", "running"),
    ],
)
def test_a_place_or_occasion_means_a_category_only_when_none_is_named(text, category) -> None:
    assert parse_request(text, load_vocabulary()).category == category


@pytest.mark.parametrize("word", sorted(GENDER_OF))
def test_every_gender_word_means_the_same_to_the_model_and_to_search(word: str) -> None:
    request = parse_request(f"{word} sneakers", load_vocabulary())
    assert request.gender == normalize_gender(word)


@pytest.mark.parametrize("word", sorted(COLOR_OF))
def test_every_colour_word_means_the_same_to_the_model_and_to_search(word: str, shop) -> None:
    request = parse_request(f"{word} sneakers", load_vocabulary())
    assert request.colour == normalize_color(word, known_colors(shop))


def test_a_brand_added_to_the_catalog_data_is_known_to_search_and_to_the_model(
    tmp_path: Path,
) -> None:
    products = json.loads((DATA_DIR / "catalog.json").read_text(encoding="utf-8"))["products"]
    added = {**products[0], "product_id": "CAS-900", "brand": "Quillfeather Works"}
    data = tmp_path / "data"
    data.mkdir()
    (data / "catalog.json").write_text(json.dumps({"products": [*products, added]}))
    shutil.copy(DATA_DIR / "users.json", data / "users.json")
    engine = get_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    init_db(engine, data_dir=data)

    request = parse_request("quillfeather shoes", load_vocabulary(data / "catalog.json"))

    assert request.brand == "Quillfeather Works"
    assert "Quillfeather Works" in known_brands(engine)
    page = search_products(engine, SearchFilters(brand=request.brand))
    assert [result.product_id for result in page.results] == ["CAS-900"]


@pytest.mark.parametrize(
    "text",
    [
        "red trail shoes under $150 in size 9",
        "cheap navy blue Northpeak sneakers for my son",
        "waterproof hiking boots between 100 and 200",
        "show me more",
    ],
)
def test_model_search_calls_are_search_filters_the_tool_accepts(offline_model, text) -> None:
    chat = Chat().searched({"category": "trail"}, total=12).human(text)
    name, args = only_call(offline_model.invoke(chat.messages))
    assert name == "search_products"
    tool_arguments = search_tool.tool_call_schema.model_json_schema()["properties"]
    assert set(args) <= set(tool_arguments) == {*SearchFilters.model_fields, "limit"}
    filters = {key: value for key, value in args.items() if key != "limit"}
    assert SearchFilters(**filters).model_dump(exclude_defaults=True) == filters
