"""Fixtures for the web app tests: a local session service and a fresh shop database per module.

The app reads its settings from the environment once (`get_settings` is lru_cached) and keeps
one Shop per process (`st.cache_resource`), so both caches are cleared when the environment is
pointed at this module's service and database, and again afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import get_settings
from bedrock_sessions_local.testing import running_service

PROJECT_ROOT = Path(__file__).resolve().parents[2]
APP = str(PROJECT_ROOT / "ui" / "app.py")


def _clear_caches() -> None:
    from ui.backend import get_shop

    get_settings.cache_clear()
    get_shop.clear()


@pytest.fixture(scope="module")
def app_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of an app on the embedded defaults, against a service on a free port."""
    folder = tmp_path_factory.mktemp("ui")
    with (
        running_service(db=folder / "sessions.db") as endpoint_url,
        pytest.MonkeyPatch.context() as patch,
    ):
        env = {
            "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME": endpoint_url,
            "DATABASE_URL": f"sqlite:///{folder / 'shop.db'}",
            "SESSION_STORE": "local",
            "MODEL": "offline",
            # plain service, one client for every tenant (tenant isolation by the store is
            # covered by tests/application/test_who_may_do_what.py and the browser test)
            "LOCAL_SESSION_IAM": "false",
            "SECRET_KEY_FILE": str(folder / "secret-key"),
            "SHOP_KEY_FILE": str(folder / "shop-key"),
        }
        for name, value in env.items():
            patch.setenv(name, value)
        _clear_caches()
        yield env
    _clear_caches()


@pytest.fixture(scope="module")
def shop(app_env: dict[str, str]):
    """The very Shop the pages use in this process (set-up goes through the same facade)."""
    from ui.backend import get_shop

    return get_shop()
