"""What the offline model reads in one shopper message: intent, filters, references, and
the shop words it takes from the catalog data (brands, colour spellings, product words)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.agent.models.offline.parse import parse_request
from assistant.shopdb.vocabulary import DEFAULT_CATALOG_PATH, load_vocabulary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("show me running shoes", {"intent": "search", "category": "running"}),
        ("trail runners", {"category": "trail"}),
        ("waterproof hiking boots", {"category": "hiking", "query": "waterproof"}),
        ("casual sneakers", {"category": "casual", "query": ""}),
        ("dress shoes for a wedding", {"category": "formal"}),
        ("flip flops", {"category": "sandals"}),
        ("hoops shoes", {"category": "basketball"}),
        ("women's trail shoes", {"gender": "women", "category": "trail"}),
        ("mens sandals", {"gender": "men"}),
        ("shoes for my daughter", {"gender": "kids"}),
        ("girls sneakers", {"gender": "kids"}),
        ("something in grey", {"colour": "gray"}),
        ("navy blue loafers", {"colour": "navy", "category": "formal"}),
        ("Northpeak boots", {"brand": "Northpeak", "category": "hiking"}),
        # "trail" belongs to the brand here, not to the category.
        ("switchback trail shoes", {"brand": "Switchback Trail Co.", "category": None}),
        ("switchback hiking boots", {"brand": "Switchback Trail Co.", "category": "hiking"}),
        ("cobble and vine oxfords", {"brand": "Cobble & Vine", "category": "formal"}),
        ("running shoes under $120", {"max_price": 120.0, "min_price": None}),
        ("between 80 and 150", {"min_price": 80.0, "max_price": 150.0}),
        ("sandals less than 100", {"max_price": 100.0}),
        ("$60-$90 sneakers", {"min_price": 60.0, "max_price": 90.0}),
        ("hiking boots over $200", {"min_price": 200.0}),
        ("around $100", {"min_price": 80.0, "max_price": 120.0}),
        ("cheap sandals", {"cheap": True}),
        ("running shoes size 10", {"size": 10.0}),
        ("trail shoes in a 9", {"size": 9.0}),
        ("10.5", {"intent": "size_only", "size": 10.5}),
        ("size 9 1/2", {"size": 9.5}),
        ("under $120 in size 11", {"max_price": 120.0, "size": 11.0}),
        ("add the second one in size 10", {"intent": "add", "size": 10.0}),
        ("add it x2", {"intent": "add", "quantity": 2}),
        ("add two pairs of the first", {"intent": "add", "quantity": 2}),
        ("i'd like the blue ones", {"intent": "add", "colour": "blue"}),
        ("I want to buy trail shoes", {"intent": "search"}),
        ("buy the second one", {"intent": "add"}),
        ("details on the first", {"intent": "details"}),
        ("tell me more about it", {"intent": "details"}),
        ("change the size to 9", {"intent": "update", "size": 9.0}),
        ("make it 2 pairs", {"intent": "update", "quantity": 2}),
        ("remove the Northpeak", {"intent": "remove", "brand": "Northpeak"}),
        ("empty my cart", {"intent": "clear_cart"}),
        ("what's in my cart?", {"intent": "view_cart"}),
        ("checkout", {"intent": "checkout"}),
        ("Place the order please", {"intent": "checkout"}),
        ("don't check out yet", {"intent": "no_checkout"}),
        ("cheaper", {"intent": "search", "cheaper": True}),
        ("show me more", {"intent": "search", "more": True}),
        ("in blue instead", {"intent": "search", "colour": "blue", "instead": True}),
        ("hello!", {"intent": "greeting"}),
        ("what can you do?", {"intent": "help"}),
        ("thanks a lot", {"intent": "thanks"}),
        ("qwzx plorf", {"intent": "unknown"}),
        ("actually make it a 10", {"intent": "update", "size": 10.0, "quantity": None}),
        ("swap to a 9.5", {"intent": "update", "size": 9.5}),
        ("I'll take two", {"intent": "add", "quantity": 2}),
        ("can I get the first one in 8.5?", {"intent": "add", "size": 8.5}),
        ("delete everything", {"intent": "clear_cart"}),
        ("I wear size 9", {"intent": "size_only", "size": 9.0}),
        ("how much is the second one?", {"intent": "details"}),
        ("what sizes does it come in?", {"intent": "details"}),
        ("ok buy them", {"intent": "checkout"}),
    ],
)
def test_parser_reads_the_shop_vocabulary(text: str, expected: dict, catalog_file: Path):
    request = parse_request(text, load_vocabulary(catalog_file))
    for field, value in expected.items():
        assert getattr(request, field) == value, (text, field, request)


def test_parser_reads_references(catalog_file: Path):
    vocabulary = load_vocabulary(catalog_file)
    assert parse_request("the second one", vocabulary).reference.ordinal == 2
    assert parse_request("add the last one", vocabulary).reference.ordinal == -1
    assert parse_request("details on #3", vocabulary).reference.ordinal == 3
    assert parse_request("add the cheapest one", vocabulary).reference.superlative == "cheapest"
    assert parse_request("add that one", vocabulary).reference.pronoun
    # "that" inside a description is not a reference.
    assert not parse_request("shoes that breathe", vocabulary).reference.pronoun


def test_only_catalog_words_go_into_the_query(tmp_path: Path):
    path = tmp_path / "catalog.json"
    product = {"brand": "Cairnline", "name": "Aspen Mid Waterproof", "description": "Grippy."}
    path.write_text(json.dumps({"products": [product]}))
    vocabulary = load_vocabulary(path)
    # "comfy" matches no product and would only empty the results.
    assert parse_request("comfy waterproof hiking boots", vocabulary).query == "waterproof"


def test_vocabulary_without_catalog_file_still_knows_colours(tmp_path: Path):
    vocabulary = load_vocabulary(tmp_path / "missing.json")
    assert vocabulary.brands == {}
    assert vocabulary.colors["gray"] == "grey"
    (tmp_path / "broken.json").write_text("{not json")
    assert load_vocabulary(tmp_path / "broken.json").brands == {}


def test_vocabulary_spells_colours_the_catalog_way(catalog_file: Path):
    # The file says "gray", so "grey" from the shopper becomes "gray" for the search tool.
    assert load_vocabulary(catalog_file).colors["grey"] == "gray"


def test_real_catalog_brands_are_known():
    products = json.loads(DEFAULT_CATALOG_PATH.read_text())["products"]
    vocabulary = load_vocabulary()
    for product in products:
        assert product["brand"] in vocabulary.brands.values()
