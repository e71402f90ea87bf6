"""The layout holds: no import cycles, one direction of dependency, small files, a true README.

The import rules live in pyproject.toml (`[tool.importlinter]`) and are checked by import-linter,
the same tool a developer runs as `lint-imports`. To show the contracts really bite, each
violation below is planted in a copy of the code in a temporary folder (never in the checkout)
and must be reported there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "assistant": ROOT / "assistant",
    "ui": ROOT / "ui",
    "bedrock_sessions_local": ROOT / "libs" / "bedrock-sessions-local" / "bedrock_sessions_local",
    "langgraph_checkpoint_bedrock_sessions": ROOT
    / "libs"
    / "langgraph-checkpoint-bedrock-sessions"
    / "langgraph_checkpoint_bedrock_sessions",
}
MAX_LINES = 600
SOURCE_FOLDERS = ("assistant", "ui", "libs", "tests", "benchmarks", "data", "scripts", "infra")


def lint_imports(root: Path, packages: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter with `root`'s pyproject on the packages found under `packages`."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command;"
            " sys.exit(lint_imports_command())",
            "--config",
            str(root / "pyproject.toml"),
            "--no-cache",
        ],
        cwd=root,
        env={"PYTHONPATH": str(packages), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def code_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four packages and the pyproject, copied side by side into a temporary folder."""
    copy = tmp_path_factory.mktemp("layout")
    for name, source in PACKAGES.items():
        shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_every_import_contract_is_kept(code_copy: Path) -> None:
    result = lint_imports(code_copy, code_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("assistant/shopdb/orders.py", "import assistant.application.shop", "One direction"),
        ("assistant/agent/tools.py", "import assistant.application.turns", "One direction"),
        ("ui/components/cart.py", "from assistant.shopdb.tables import Order", "The UI sees only"),
        ("ui/components/chat.py", "from langchain_core.messages import AIMessage", "The UI sees"),
        (
            "assistant/agent/graph.py",
            "import langgraph_checkpoint_bedrock_sessions",
            "Only the app",
        ),
        (
            "langgraph_checkpoint_bedrock_sessions/cache.py",
            "import assistant.shopdb",
            "stand alone",
        ),
        ("assistant/application/turns.py", "import bedrock_sessions_local", "only over HTTP"),
        ("assistant/application/views.py", "import assistant.application.shop", "No import cycles"),
    ],
)
def test_a_planted_violation_is_reported(
    code_copy: Path, tmp_path: Path, module: str, planted: str, broken: str
) -> None:
    copy = tmp_path / "code"
    shutil.copytree(code_copy, copy)
    target = copy / module
    target.write_text(target.read_text() + f"\n{planted}  # planted by the test\n")
    result = lint_imports(copy, copy)
    assert result.returncode != 0, result.stdout
    # Contract names wrap in the report: unwrap it, then the named contract must end BROKEN.
    report = " ".join(result.stdout.split())
    assert re.search(re.escape(broken) + r"((?!KEPT|BROKEN).)*BROKEN", report), result.stdout


def test_no_source_file_is_over_600_lines() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *SOURCE_FOLDERS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    too_long = {
        path: lines
        for path in tracked
        if path.endswith(".py")
        and (ROOT / path).is_file()
        and (lines := len((ROOT / path).read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_the_readme_layout_names_folders_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    paths = set(
        re.findall(r"`((?:assistant|ui|libs|tests|benchmarks|infra|data|docs)/[^`\s]*)`", layout)
    )
    assert len(paths) >= 12, paths
    missing = sorted(path for path in paths if "<" not in path and not (ROOT / path).exists())
    assert missing == []


@pytest.mark.parametrize(
    ("path", "definition"),
    [
        ("assistant/application/approvals.py", "def decide("),
        ("assistant/application/history.py", "def fork("),
        (
            "libs/bedrock-sessions-local/bedrock_sessions_local/models.py",
            "def list_invocation_steps(",
        ),
        ("libs/bedrock-sessions-local/bedrock_sessions_local/pagination.py", "def keyset_page("),
    ],
)
def test_the_readme_finds_each_capability_in_one_guess(path: str, definition: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`{path}`" in " ".join(readme.split()), f"the README does not name {path}"
    assert definition in (ROOT / path).read_text(encoding="utf-8")
