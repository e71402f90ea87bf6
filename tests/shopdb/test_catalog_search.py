"""Product search: ranking on a small hand-made catalog, every filter against the real one."""

import json
import shutil

import pytest

from assistant.shopdb import (
    DATA_DIR,
    InvalidSearch,
    SearchFilters,
    find_product,
    get_engine,
    get_product_details,
    init_db,
    normalize_category,
    normalize_gender,
    search_products,
)

CATALOG = json.loads((DATA_DIR / "catalog.json").read_text(encoding="utf-8"))["products"]


def _product(
    product_id: str,
    name: str,
    category: str,
    colors: list[str],
    rating: float,
    description: str,
    price: float = 100.0,
    gender: str = "men",
    brand: str = "Alpha",
    stock: dict | None = None,
) -> dict:
    return {
        "product_id": product_id,
        "brand": brand,
        "name": name,
        "category": category,
        "gender": gender,
        "colors": colors,
        "price": price,
        "rating": rating,
        "description": description,
        "stock": stock or {"9": 3, "10": 0},
    }


SMALL_CATALOG = [
    _product("TRL-001", "Ridge Runner", "trail", ["black"], 3.5, "Grippy shoe."),
    _product("RUN-001", "Comet", "running", ["red"], 4.9, "Fast on road and trail."),
    _product("HIK-001", "Summit Mid", "hiking", ["brown"], 4.0, "Sturdy boot."),
    _product("TRL-002", "Vista", "trail", ["blue"], 4.5, "Light shoe.", price=90.0),
    _product("TRL-003", "Horizon", "trail", ["blue"], 4.5, "Light shoe.", price=80.0),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    """The real catalog, seeded once for the module (these tests only read)."""
    path = tmp_path_factory.mktemp("shop") / "shop.db"
    engine = get_engine(f"sqlite:///{path}")
    init_db(engine)
    return engine


@pytest.fixture(scope="module")
def small_shop(tmp_path_factory: pytest.TempPathFactory):
    """Five hand-made products whose ranking can be worked out by hand."""
    data = tmp_path_factory.mktemp("data")
    (data / "catalog.json").write_text(json.dumps({"products": SMALL_CATALOG}))
    shutil.copy(DATA_DIR / "users.json", data / "users.json")
    engine = get_engine(f"sqlite:///{data / 'shop.db'}")
    init_db(engine, data_dir=data)
    return engine


def _ids(page) -> list[str]:
    return [result.product_id for result in page.results]


def _all_ids(engine, **filters) -> set[str]:
    """Every matching id, paging through the results 20 at a time."""
    found: list[str] = []
    while True:
        page = search_products(engine, SearchFilters(**filters), limit=20, offset=len(found))
        found += _ids(page)
        if not page.results:
            break
    assert len(found) == page.total_matches
    assert len(set(found)) == len(found)
    return set(found)


def _catalog_ids(keep) -> set[str]:
    return {product["product_id"] for product in CATALOG if keep(product)}


# --- ranking ------------------------------------------------------------------------------


def test_category_words_outrank_description_mentions(small_shop) -> None:
    page = search_products(small_shop, SearchFilters(query="trail"))
    # Vista and Horizon tie on category and rating: the cheaper one first.
    assert _ids(page) == ["TRL-003", "TRL-002", "TRL-001", "RUN-001"]
    assert page.total_matches == 4


def test_name_match_ranks_first_and_non_matches_are_dropped(small_shop) -> None:
    assert _ids(search_products(small_shop, SearchFilters(query="ridge"))) == ["TRL-001"]


def test_scores_add_up_over_query_words(small_shop) -> None:
    # Comet: colour 3 + description 1 beats the trail shoes' category 3.
    assert _ids(search_products(small_shop, SearchFilters(query="red trail shoes")))[0] == "RUN-001"


def test_unknown_words_do_not_empty_the_results(small_shop) -> None:
    assert _ids(search_products(small_shop, SearchFilters(query="comfy trail"))) == _ids(
        search_products(small_shop, SearchFilters(query="trail"))
    )


def test_a_query_matching_nothing_finds_nothing(small_shop) -> None:
    page = search_products(small_shop, SearchFilters(query="rollerblades"))
    assert (page.results, page.total_matches) == ([], 0)


def test_empty_query_lists_everything_best_rated_first(small_shop) -> None:
    page = search_products(small_shop, SearchFilters(), limit=10)
    ratings = [result.rating for result in page.results]
    assert ratings == sorted(ratings, reverse=True) and len(ratings) == 5


def test_plural_and_synonym_words_match(small_shop) -> None:
    assert "HIK-001" in _ids(search_products(small_shop, SearchFilters(query="boots")))
    assert "HIK-001" in _ids(search_products(small_shop, SearchFilters(query="hike")))


def test_limit_and_offset_page_through_results(small_shop) -> None:
    first = search_products(small_shop, SearchFilters(query="trail"), limit=2)
    second = search_products(small_shop, SearchFilters(query="trail"), limit=2, offset=2)
    assert _ids(first) + _ids(second) == ["TRL-003", "TRL-002", "TRL-001", "RUN-001"]
    assert first.total_matches == second.total_matches == 4


def test_sizes_in_stock_leave_out_sold_out_sizes(small_shop) -> None:
    [vista] = search_products(small_shop, SearchFilters(query="vista")).results
    assert vista.sizes_in_stock == [9.0]


# --- filters, checked against the catalog file ---------------------------------------------


def test_category_filter(shop) -> None:
    assert _all_ids(shop, category="Running shoes") == _catalog_ids(
        lambda p: p["category"] == "running"
    )


@pytest.mark.parametrize("gender", ["women", "men", "kids"])
def test_gender_filter_includes_unisex(shop, gender: str) -> None:
    assert _all_ids(shop, gender=gender) == _catalog_ids(
        lambda p: p["gender"] in (gender, "unisex")
    )


def test_unisex_filter_means_only_unisex(shop) -> None:
    assert _all_ids(shop, gender="unisex") == _catalog_ids(lambda p: p["gender"] == "unisex")


def test_size_filter_keeps_shoes_in_stock_in_that_size(shop) -> None:
    expected = _catalog_ids(lambda p: p["stock"].get("8.5", 0) > 0)
    assert _all_ids(shop, size=8.5) == expected
    # Some product makes 8.5 but has sold out of it: it must not be in the results.
    assert any(p["stock"].get("8.5") == 0 for p in CATALOG)


def test_colour_filter_understands_synonyms(shop) -> None:
    assert _all_ids(shop, color="Gray") == _catalog_ids(lambda p: "grey" in p["colors"])


def test_brand_filter_ignores_case_and_ampersands(shop) -> None:
    expected = _catalog_ids(lambda p: p["brand"] == "Cobble & Vine")
    assert expected and _all_ids(shop, brand="cobble and vine") == expected


def test_price_range_is_inclusive(shop) -> None:
    low, high = 60.0, 99.95
    assert _all_ids(shop, min_price=low, max_price=high) == _catalog_ids(
        lambda p: low <= p["price"] <= high
    )


def test_filters_combine(shop) -> None:
    expected = _catalog_ids(
        lambda p: (
            p["category"] == "hiking"
            and p["gender"] in ("men", "unisex")
            and p["stock"].get("10.5", 0) > 0
            and p["price"] <= 200
        )
    )
    assert expected
    assert _all_ids(shop, category="hiking", gender="men", size=10.5, max_price=200) == expected


def test_text_and_filters_together(shop) -> None:
    found = _all_ids(shop, query="waterproof", category="hiking")
    assert found and found <= _catalog_ids(
        lambda p: (
            p["category"] == "hiking"
            and ("waterproof" in p["name"].lower() or "waterproof" in p["description"].lower())
        )
    )


def test_no_match_reports_which_filter_to_drop(shop) -> None:
    page = search_products(shop, SearchFilters(category="formal", color="pink", gender="kids"))
    assert page.total_matches == 0
    # Dropping the colour filter would let the kids' formal shoes through.
    assert page.relaxations["color"] == len(
        _catalog_ids(lambda p: p["category"] == "formal" and p["gender"] in ("kids", "unisex"))
    )


def test_limit_is_capped(shop) -> None:
    assert len(search_products(shop, SearchFilters(), limit=500).results) == 20


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"category": "skates"}, "categories are: running"),
        ({"gender": "aliens"}, "women, men or kids"),
        ({"color": "plaid"}, "colours are:"),
        ({"min_price": 100, "max_price": 50}, "above max_price"),
        ({"size": -3}, "not a US shoe size"),
    ],
)
def test_bad_filters_raise_with_a_helpful_message(shop, filters: dict, message: str) -> None:
    with pytest.raises(InvalidSearch, match=message):
        search_products(shop, SearchFilters(**filters))


def test_normalisers() -> None:
    assert normalize_category("Hiking boots") == "hiking"
    assert normalize_category("dress") == "formal"
    assert normalize_category(None) is None
    assert normalize_gender("Women's") == "women"
    assert normalize_gender("boys") == "kids"


# --- details -------------------------------------------------------------------------------


def test_product_details_carry_stock_for_every_size(shop) -> None:
    source = next(p for p in CATALOG if 0 in p["stock"].values())
    details = get_product_details(shop, source["product_id"].lower())
    assert details.product_id == source["product_id"]
    assert details.stock == source["stock"]
    assert details.description == source["description"]
    assert details.image == f"{source['product_id']}.png"
    assert details.sizes_in_stock == sorted(
        float(size) for size, quantity in source["stock"].items() if quantity
    )


def test_unknown_product_has_no_details(shop) -> None:
    assert get_product_details(shop, "NOPE-999") is None
    assert find_product(shop, "") is None


def test_find_product_accepts_a_unique_name(shop) -> None:
    source = CATALOG[0]
    by_name = find_product(shop, f"{source['brand']} {source['name']}")
    assert by_name is not None and by_name.product_id == source["product_id"]


def test_search_results_are_plain_data(shop) -> None:
    page = search_products(shop, SearchFilters(query="sandals"), limit=3)
    dumped = json.loads(page.model_dump_json())
    assert set(dumped["results"][0]) == {
        "product_id",
        "name",
        "brand",
        "category",
        "gender",
        "colors",
        "price",
        "rating",
        "sizes_in_stock",
    }
