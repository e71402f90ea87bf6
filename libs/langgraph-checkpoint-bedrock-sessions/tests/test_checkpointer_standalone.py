"""The library stands alone: a real build, installed into an empty virtualenv, runs the README.

Slow on purpose (half a minute with a warm pip cache, a few minutes with a cold one): it creates
a fresh virtualenv, builds the package the way a user's ``pip install`` does (a wheel from a
copy of the source, not an editable install) and installs it with its dependencies from the
package index. Only then does it prove what a shortcut could not: that nothing of this
repository (the shop's ``assistant`` and ``ui``, the local service ``bedrock_sessions_local``)
is needed at runtime, and that the README's first ``python`` block runs as written. The local
service runs in this test process; the example reaches it only through the standard
``AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME`` variable, as it would reach AWS.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[1]
README = LIBRARY / "README.md"
PACKAGE = "langgraph_checkpoint_bedrock_sessions"
REPOSITORY_PACKAGES = ("assistant", "ui", "bedrock_sessions_local")
INSTALL_TIMEOUT_S = 240


def readme_example() -> str:
    """The README's first ```python block: the example the README promises runs."""
    match = re.search(r"^```python\n(.*?)^```", README.read_text(), re.DOTALL | re.MULTILINE)
    assert match, "README.md has no ```python block"
    return match.group(1)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that would put the repository on the path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
        and not k.startswith("AWS_")
    }
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Python of a fresh virtualenv holding the library built from a copy of its source."""
    root = tmp_path_factory.mktemp("standalone")
    source = root / "source"
    # a copy: the build writes build/ and *.egg-info next to the sources
    shutil.copytree(
        LIBRARY,
        source,
        ignore=shutil.ignore_patterns(
            "tests", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"
        ),
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(source)],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        cwd=root,
        env=clean_env(),
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return python


@pytest.mark.timeout(INSTALL_TIMEOUT_S + 180)
def test_the_built_package_imports_without_the_shop_or_the_local_service(
    venv_python: Path, tmp_path: Path
) -> None:
    """In the clean venv the library imports from site-packages; the repository's packages are
    absent, so nothing it imports at runtime can come from them."""
    probe = f"""
import importlib.util, json
import {PACKAGE} as package
print(json.dumps({{
    "file": package.__file__,
    "exports": sorted(package.__all__),
    "absent": [name for name in {REPOSITORY_PACKAGES!r} if importlib.util.find_spec(name) is None],
}}))
"""
    result = subprocess.run(
        [str(venv_python), "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert Path(found["file"]).is_relative_to(venv_python.parents[1])
    assert "site-packages" in found["file"]
    assert found["exports"] == [
        "ApiCallCounter",
        "AsyncBedrockSessionCheckpointer",
        "BedrockSessionCheckpointer",
        "error_code",
        "make_checkpointer",
        "make_session_client",
    ]
    assert found["absent"] == list(REPOSITORY_PACKAGES)


@pytest.mark.timeout(INSTALL_TIMEOUT_S + 180)
def test_the_readme_example_runs_in_a_clean_venv(
    venv_python: Path, session_service_url: str, tmp_path: Path
) -> None:
    """The README's first python block, run as a script against the local service, prints the
    interrupt, the resumed count, a history whose parent links chain every checkpoint to the one
    before it, the same count read back by a fresh checkpointer, and the deletion."""
    script = tmp_path / "example.py"
    script.write_text(readme_example())
    result = subprocess.run(
        [str(venv_python), str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=clean_env(
            AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME=session_service_url,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
        ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["paused: add one to 41?", "count: 42"]
    count = re.fullmatch(r"checkpoints: (\d+)", lines[2])
    assert count, lines
    history = [
        re.fullmatch(r"step +(-?\d+)  (\S+)  parent (\S+)", line)
        for line in lines[3 : 3 + int(count.group(1))]
    ]
    assert len(history) == int(count.group(1)) >= 2 and all(history), lines
    steps = [int(m.group(1)) for m in history]
    ids = [m.group(2) for m in history]
    parents = [m.group(3) for m in history]
    assert steps == sorted(steps, reverse=True)  # newest first
    assert parents == [*ids[1:], "None"]  # each checkpoint names the one before it
    assert len(set(ids)) == len(ids)
    assert lines[3 + len(history) :] == ["read back: 42", "deleted"]
