"""A test run leaves nothing behind in the checkout: every database, log and session file of a
test belongs in a temporary folder. Files that appear during the run fail it, by name.

Each test names its own files; as a net under those that forget one (a process they start
inherits the environment), the run points every `var/` default of the shop's settings at a
folder of its own before any test starts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
# Caches and build products of the tools themselves, not of the tests (node_modules: the npm
# install of a test tool, tests/oidc, which the test that needs it makes when it is missing).
IGNORED = {
    ".git",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "node_modules",
}
_BEFORE = pytest.StashKey[set[str]]()
_RUN_FOLDER = pytest.StashKey[str]()
# The settings whose defaults are files under var/ (assistant/settings.py), by variable.
VAR_DEFAULTS = {
    "DATABASE_URL": "sqlite:///{folder}/shop.db",
    "LOCAL_SESSION_DB": "{folder}/sessions.db",
    "SESSION_CREDENTIALS_FILE": "{folder}/session-credentials.json",
    "SHOP_KEY_FILE": "{folder}/shop-key",
    "SECRET_KEY_FILE": "{folder}/secret-key",
}


def pytest_configure(config: pytest.Config) -> None:
    folder = tempfile.mkdtemp(prefix="shoe-assistant-tests-")
    config.stash[_RUN_FOLDER] = folder
    for name, value in VAR_DEFAULTS.items():
        os.environ.setdefault(name, value.format(folder=folder))


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_RUN_FOLDER, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def checkout_files() -> set[str]:
    """Every file under the checkout, except tool caches and installed metadata."""
    found = set()
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [
            name for name in subfolders if name not in IGNORED and not name.endswith(".egg-info")
        ]
        found.update(os.path.relpath(os.path.join(folder, name), ROOT) for name in files)
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    session.stash[_BEFORE] = checkout_files()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    left = sorted(checkout_files() - session.stash.get(_BEFORE, set()))
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"the test run left files in the checkout: {left}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
