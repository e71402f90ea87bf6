"""The credentials file `up` keeps for the local service's IAM mode, read by the service itself.

The shop writes the file without importing the service, so these tests read what it wrote with
the service's own loader (`bedrock_sessions_local.credentials.load_credentials`).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from assistant.cli.session_credentials import ensure_credentials, tenants_of
from bedrock_sessions_local.credentials import load_credentials

USERS_FILE = Path(__file__).resolve().parents[2] / "data" / "users.json"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def by_tenant(path: Path) -> dict[str | None, object]:
    return {p.tags.get("tenant"): p for p in load_credentials(path).values() if not p.admin}


def test_first_run_writes_a_private_file_the_service_reads(tmp_path: Path) -> None:
    path = tmp_path / "var" / "session-credentials.json"
    added = ensure_credentials(
        path, ["tenant-a", "tenant-b"], tag_key="tenant", app_name="shoe-assistant"
    )
    assert added == ["tenant-a", "tenant-b", "admin"]
    assert mode(path) == 0o600
    principals = load_credentials(path)  # the service's own loader accepts it
    assert len(principals) == 3
    tenants = by_tenant(path)
    assert tenants["tenant-a"].name == (
        "arn:aws:sts::123456789012:assumed-role/shoe-assistant-app/tenant-a"
    )
    assert dict(tenants["tenant-b"].tags) == {"tenant": "tenant-b"}
    (admin,) = [p for p in principals.values() if p.admin]
    assert dict(admin.tags) == {}  # the admin of the knobs reads no session
    keys = list(principals.values())
    assert len({p.secret_access_key for p in keys}) == 3
    assert all(p.access_key_id.startswith("AKIA") and len(p.access_key_id) == 20 for p in keys)
    assert all(len(p.secret_access_key) >= 40 for p in keys)
    assert [p.name for p in tmp_path.joinpath("var").iterdir()] == [path.name]  # no leftovers

    other = tmp_path / "other.json"
    ensure_credentials(other, ["tenant-a"], tag_key="tenant", app_name="shoe-assistant")
    assert by_tenant(other)["tenant-a"].secret_access_key != tenants["tenant-a"].secret_access_key


def test_a_later_run_keeps_every_key_and_adds_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "session-credentials.json"
    ensure_credentials(path, ["tenant-a"], tag_key="tenant", app_name="shoe-assistant")
    before = load_credentials(path)

    assert ensure_credentials(path, ["tenant-a"], tag_key="tenant", app_name="x") == []
    assert load_credentials(path) == before

    added = ensure_credentials(
        path, ["tenant-a", "tenant-c"], tag_key="tenant", app_name="shoe-assistant"
    )
    assert added == ["tenant-c"]
    after = load_credentials(path)
    assert {key: after[key] for key in before} == before
    assert set(by_tenant(path)) == {"tenant-a", "tenant-c"}
    assert mode(path) == 0o600

    path.chmod(0o644)  # loosened by hand: tightened again, keys kept
    assert ensure_credentials(path, ["tenant-a"], tag_key="tenant", app_name="x") == []
    assert mode(path) == 0o600
    assert load_credentials(path) == after


def test_a_file_from_someone_else_gets_an_admin_and_is_never_replaced_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "session-credentials.json"
    path.write_text(
        json.dumps(
            {
                "credentials": {
                    "AKIAHANDWRITTEN00001": {
                        "secret_access_key": "kept",
                        "principal": "someone",
                        "principal_tags": {"org": "tenant-a"},
                    }
                }
            }
        )
    )
    added = ensure_credentials(path, ["tenant-a"], tag_key="org", app_name="shoe-assistant")
    assert added == ["admin"]  # tenant-a already has a key under the configured tag key
    assert load_credentials(path)["AKIAHANDWRITTEN00001"].secret_access_key == "kept"

    path.write_text('{"not": "credentials"}')
    with pytest.raises(ValueError, match="not a credentials file"):
        ensure_credentials(path, ["tenant-a"], tag_key="tenant", app_name="shoe-assistant")


def test_the_tenants_are_those_of_the_demo_users() -> None:
    tenants = tenants_of(USERS_FILE)
    assert {"tenant-a", "tenant-b"} <= set(tenants)
    assert tenants == sorted(set(tenants))
    assert "*" not in tenants  # an admin of every tenant is not a tenant
