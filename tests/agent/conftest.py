"""Fixtures for the offline model's tests: a small catalog data file and the model reading it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from offline_model_support import TOOL_NAMES, tool_schema

from assistant.agent.models import OfflineShopModel


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    """A small catalog data file like the one `data/build_catalog.py` writes.

    One brand's name holds a category word ("Switchback Trail Co."), and it spells grey "gray".
    """
    path = tmp_path / "catalog.json"
    products = [
        {"brand": "Northpeak", "category": "trail", "colors": ["black", "blue"]},
        {"brand": "Switchback Trail Co.", "category": "trail", "colors": ["gray", "orange"]},
        {"brand": "Cobble & Vine", "category": "formal", "colors": ["burgundy"]},
    ]
    path.write_text(json.dumps({"version": 1, "products": products}))
    return path


@pytest.fixture
def offline_model(catalog_file: Path):
    """The offline model reading `catalog_file`, with every shop tool bound."""
    return OfflineShopModel(catalog_path=catalog_file).bind_tools(
        [tool_schema(name) for name in TOOL_NAMES]
    )
