"""A test run leaves nothing behind in the checkout: every database, log and session file of a
test belongs in a temporary folder. Files that appear during the run fail it, by name."""

from __future__ import annotations

import os
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
