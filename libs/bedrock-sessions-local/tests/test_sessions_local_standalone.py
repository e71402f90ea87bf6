"""The library stands alone: built as a distribution and installed (not editable) into a fresh
virtual environment, it works there without the shop app or the checkpointer library, the
README's quick start runs, and the ``bedrock-sessions-local`` console script answers.

Slow, about a minute (several on a cold pip cache): the test creates a virtual environment,
builds the library into a wheel and installs it with its dependencies, with pip's cache and
the package index. Everything happens in one test so the environment is built once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[1]
#: what the quick start prints: the session id and how many steps it lists
QUICK_START_OUTPUT = re.compile(r"session [0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}: 1 step\(s\)")

# Imports every module of the installed package (the pytest plugin needs pytest, which the
# fresh environment does not have) and reports where the package lives and which of the
# repository's other packages it can see.
PROBE = """
import importlib, importlib.util, pkgutil
import bedrock_sessions_local
for module in pkgutil.iter_modules(bedrock_sessions_local.__path__):
    if module.name != "pytest_plugin":
        importlib.import_module(f"bedrock_sessions_local.{module.name}")
print(bedrock_sessions_local.__file__)
for name in ("assistant", "ui", "langgraph_checkpoint_bedrock_sessions"):
    print(name, importlib.util.find_spec(name) is not None)
"""


def first_python_block(markdown: str) -> str:
    """Return the code of the first ```python block of a Markdown text."""
    found = re.search(r"^```python\n(.*?)^```", markdown, re.DOTALL | re.MULTILINE)
    assert found, "the README has no ```python block"
    return found.group(1)


def run(command: list[str | Path], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a command of the fresh environment; fail the test with its output if it fails."""
    # No PYTHONPATH and no user site: only what is installed in the environment is importable.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.timeout(600)
def test_library_installs_alone_into_a_fresh_venv_and_its_readme_quick_start_runs(
    tmp_path: Path,
) -> None:
    # Build from a copy, so that the build writes nothing (build/, egg-info) into the checkout.
    source = tmp_path / "bedrock-sessions-local"
    shutil.copytree(
        LIBRARY,
        source,
        ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__", "tests"),
    )
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp_path, timeout=120)
    python = venv / "bin" / "python"
    run(
        [python, "-m", "pip", "install", "--no-input", "--disable-pip-version-check", source],
        cwd=tmp_path,
        timeout=240,
    )

    # (a) the package is the installed copy and sees neither the shop nor the checkpointer
    probe = run([python, "-c", PROBE], cwd=tmp_path, timeout=60).stdout.splitlines()
    assert Path(probe[0]).is_relative_to(venv), probe[0]
    assert probe[1:] == [
        "assistant False",
        "ui False",
        "langgraph_checkpoint_bedrock_sessions False",
    ]

    # (b) the README's first Python block runs as it is written
    example = tmp_path / "quick_start.py"
    example.write_text(first_python_block((LIBRARY / "README.md").read_text()))
    output = run([python, example], cwd=tmp_path, timeout=120).stdout.strip()
    assert QUICK_START_OUTPUT.fullmatch(output), output

    # (c) the console script is installed and answers
    helped = run([venv / "bin" / "bedrock-sessions-local", "--help"], cwd=tmp_path, timeout=60)
    assert "--session-ttl-seconds" in helped.stdout
