"""Fixtures of the application tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from shop_scenarios import LEASE

from assistant.application import Shop


@pytest.fixture
def fast_shop(session_service_url: str, tmp_path: Path, settings_at) -> Iterator[Shop]:
    """A shop whose approval lease is LEASE seconds (crash-recovery tests)."""
    settings = settings_at(session_service_url, tmp_path / "shop.db", approval_lease_seconds=LEASE)
    shop = Shop(settings=settings)
    yield shop
    shop.engine.dispose()
