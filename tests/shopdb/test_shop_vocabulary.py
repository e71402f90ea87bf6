"""The shop's vocabulary: one table per kind of word, consistent with the catalog data."""

import json

import pytest

from assistant.shopdb import (
    CATEGORIES,
    DATA_DIR,
    GENDERS,
    normalize_category,
    normalize_color,
    normalize_gender,
)
from assistant.shopdb.vocabulary import (
    CATEGORY_HINTS,
    CATEGORY_NOUNS,
    CATEGORY_OF,
    CATEGORY_WORDS,
    COLOR_OF,
    COLOR_WORDS,
    GENDER_OF,
    GENDER_WORDS,
    STOPWORDS,
    brand_names,
    catalog_color,
    color_names,
    load_vocabulary,
)

CATALOG = json.loads((DATA_DIR / "catalog.json").read_text(encoding="utf-8"))["products"]
CATALOG_COLORS = {color for product in CATALOG for color in product["colors"]}


def _all_words(table: dict[str, tuple[str, ...]]) -> list[str]:
    return [word for key, words in table.items() for word in (key, *words)]


def test_every_category_and_gender_of_the_catalog_has_its_words() -> None:
    assert set(CATEGORY_WORDS) == set(CATEGORIES) == set(CATEGORY_NOUNS)
    assert set(CATEGORY_HINTS) <= set(CATEGORIES)
    assert set(GENDER_WORDS) == set(GENDERS)


@pytest.mark.parametrize("table", [CATEGORY_WORDS, GENDER_WORDS, COLOR_WORDS])
def test_no_word_means_two_things(table: dict[str, tuple[str, ...]]) -> None:
    words = [word for word in _all_words(table) if word not in table]
    assert len(words) == len(set(words))
    assert not set(words) & set(table)


def test_a_hint_is_never_also_a_word_naming_a_category() -> None:
    hints = [hint for hints in CATEGORY_HINTS.values() for hint in hints]
    assert len(hints) == len(set(hints))
    assert not set(hints) & set(_all_words(CATEGORY_WORDS))
    assert {CATEGORY_OF[hint] for hint in CATEGORY_HINTS["trail"]} == {"trail"}


def test_kinds_of_words_do_not_overlap() -> None:
    kinds = [set(CATEGORY_OF), set(GENDER_OF), set(COLOR_OF), set(STOPWORDS)]
    for index, words in enumerate(kinds):
        for other in kinds[index + 1 :]:
            assert not words & other


def test_the_catalog_data_uses_only_the_vocabularys_values() -> None:
    assert {product["category"] for product in CATALOG} <= set(CATEGORIES)
    assert {product["gender"] for product in CATALOG} <= set(GENDERS)
    # Every colour the catalog sells is a colour name, so its synonyms reach it.
    assert set(COLOR_WORDS) >= CATALOG_COLORS


@pytest.mark.parametrize(("word", "category"), sorted(CATEGORY_OF.items()))
def test_search_understands_every_category_word(word: str, category: str) -> None:
    assert normalize_category(word) == category
    assert normalize_category(word.title()) == category


@pytest.mark.parametrize(("word", "gender"), sorted(GENDER_OF.items()))
def test_search_understands_every_gender_word(word: str, gender: str) -> None:
    assert normalize_gender(word) == gender


@pytest.mark.parametrize(("word", "color"), sorted(COLOR_OF.items()))
def test_search_understands_every_colour_word(word: str, color: str) -> None:
    assert normalize_color(word, CATALOG_COLORS) == color


def test_a_colour_is_spelled_the_way_the_catalog_spells_it() -> None:
    assert color_names("gray") == ("grey", "gray", "charcoal", "silver")
    assert catalog_color("grey", ["gray", "black"]) == "gray"
    assert catalog_color("silver", CATALOG_COLORS) == "grey"
    # A catalog selling both keeps them apart.
    assert catalog_color("silver", ["grey", "silver"]) == "silver"
    assert catalog_color("plaid", CATALOG_COLORS) is None
    assert color_names("plaid") == ("plaid",)


def test_brands_are_known_by_their_short_names() -> None:
    assert brand_names("Switchback Trail Co.") == [
        "switchback trail co.",
        "switchback trail",
        "switchback",
    ]
    assert brand_names("Cobble & Vine") == ["cobble & vine", "cobble and vine", "cobble"]
    # A first word that is a shop word, or too short, is not a name for the brand.
    assert brand_names("Trail Blazers") == ["trail blazers"]
    assert brand_names("Zig Zag") == ["zig zag"]


def test_vocabulary_reads_every_brand_of_the_catalog_data() -> None:
    vocabulary = load_vocabulary()
    assert {product["brand"] for product in CATALOG} == set(vocabulary.brands.values())
    assert vocabulary.brands["marlowe and finch"] == "Marlowe & Finch"
    assert vocabulary.searchable("waterproof") and not vocabulary.searchable("comfy")
