"""infra/session-store.yaml passes cfn-lint: schema, intrinsic functions, IAM policy grammar."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import ManualArgs, lint_file
from session_store_stack import TEMPLATE_PATH


def test_template_has_no_cfn_lint_errors_or_warnings() -> None:
    # Informational findings (I...) are left out: I1022 prefers Fn::Sub over Fn::Join, but the
    # Joins are deliberate (they keep `${aws:PrincipalTag/...}` away from Fn::Sub).
    matches = lint_file(TEMPLATE_PATH, ManualArgs(regions=["us-east-1", "eu-west-1"]))
    findings = [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches]
    assert [f for f in findings if not f.startswith("I")] == []


def test_cfn_lint_reports_a_broken_template(tmp_path: Path) -> None:
    # Guards the test above against a linter that silently checks nothing.
    broken = TEMPLATE_PATH.read_text().replace("Type: AWS::KMS::Alias", "Type: AWS::KMS::Alais")
    broken_path = tmp_path / "session-store.yaml"
    broken_path.write_text(broken)
    rule_ids = {m.rule.id for m in lint_file(broken_path, ManualArgs(regions=["us-east-1"]))}
    assert "E3006" in rule_ids
