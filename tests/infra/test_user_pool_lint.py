"""infra/user-pool.yaml passes cfn-lint, and its app client is what st.login needs.

moto's CloudFormation does not model Cognito, so the app client's settings are read from the
template itself (cfn-lint's own YAML loader, which knows the intrinsic-function tags).
"""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import cfn_yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "infra" / "user-pool.yaml"


def test_user_pool_template_has_no_cfn_lint_findings() -> None:
    matches = lint_file(TEMPLATE_PATH, ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches] == []


def test_the_app_client_is_a_confidential_code_flow_client_calling_back_to_streamlit() -> None:
    template = cfn_yaml.load(str(TEMPLATE_PATH))
    client = template["Resources"]["WebAppClient"]["Properties"]
    assert client["GenerateSecret"] is True  # [auth] client_secret
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert client["CallbackURLs"] == [{"Fn::Sub": "${AppUrl}/oauth2callback"}]
    outputs = template["Outputs"]
    assert outputs["ServerMetadataUrl"]["Value"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPool}"
        "/.well-known/openid-configuration"
    }


def test_only_the_store_adds_people_and_their_e_mail_is_verified() -> None:
    pool = cfn_yaml.load(str(TEMPLATE_PATH))["Resources"]["UserPool"]
    assert pool["DeletionPolicy"] == "Retain"
    properties = pool["Properties"]
    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert properties["UsernameAttributes"] == ["email"]
    assert properties["AutoVerifiedAttributes"] == ["email"]
