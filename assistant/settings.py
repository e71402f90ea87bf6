"""Every setting of the app, read in one place.

Values come from the environment (or a `.env` file); `.env.example` documents each one with its
default. The defaults are the embedded, offline setup: the local Bedrock session service on
127.0.0.1, the deterministic offline model and SQLite files under `var/`. Pointing the same code
at AWS is a matter of setting `SESSION_STORE=aws` and `MODEL=bedrock` (see README).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """The app's configuration; one instance per process (see `get_settings`)."""

    # The project's .env, then one in the working directory (which wins), then the environment.
    model_config = SettingsConfigDict(env_file=(PROJECT_ROOT / ".env", ".env"), extra="ignore")

    # --- where sessions live -------------------------------------------------------------
    session_store: Literal["local", "aws"] = Field(
        "local",
        description="`local`: the embedded Bedrock session service; `aws`: real Bedrock.",
    )
    session_endpoint_url: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", "SESSION_ENDPOINT_URL"
        ),
        description="Endpoint of the session API; the standard AWS variable wins.",
    )
    local_session_host: str = "127.0.0.1"
    local_session_port: int = 8766
    local_session_db: str = str(PROJECT_ROOT / "var" / "sessions.db")
    aws_region: str = Field(
        "us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    kms_key_arn: str | None = None
    # Attempts per session-store call in all (retried on throttling, 5xx, timeouts and dropped
    # connections with jittered exponential back-off: at most 1+2+4+8 s of waiting). Every
    # write the checkpointer makes is idempotent, so retrying a committed write is safe.
    session_max_attempts: int = 5
    session_connect_timeout: float = 3.0
    session_read_timeout: float = 30.0
    app_name: str = "shoe-assistant"
    session_retention_days: int = 30

    # --- who the app is to the session store (README: "Tenant credentials") --------------
    # Local: `up` and `session-service` start the service in IAM mode (signatures and the
    # policy of infra/session-store.yaml), and the app signs each tenant's calls with that
    # tenant's key from this file (written 0600 on first run). false: nothing is checked.
    local_session_iam: bool = True
    session_credentials_file: str = str(PROJECT_ROOT / "var" / "session-credentials.json")
    # AWS: each tenant's calls use credentials of STS AssumeRole on this role (the RoleArn
    # output of infra/) with the session tag <SESSION_ROLE_TENANT_TAG_KEY>=<tenant>. Unset: the
    # normal credential chain, one credential for every tenant.
    session_role_arn: str | None = None
    # The principal tag that carries the tenant (the template's TenantTagKey), on AWS and in
    # the local credentials file alike.
    session_role_tenant_tag_key: str = "tenant"
    # botocore refreshes assumed credentials 15 minutes before they expire, so a shorter
    # duration than 20 minutes would assume the role again before nearly every call. The
    # role's MaxSessionDuration (1 h unless raised) caps it on AWS.
    session_role_duration_seconds: int = Field(3600, ge=1200, le=43200)

    # --- the model -----------------------------------------------------------------------
    model: str = Field(
        "offline",
        description="`offline`, `bedrock`, or any `init_chat_model` string such as "
        "`ollama:llama3.1`.",
    )
    bedrock_model_id: str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    model_temperature: float = 0.2

    # --- the shop's own data -------------------------------------------------------------
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'shop.db'}"

    # --- approvals --------------------------------------------------------------------
    # How long an operator's claim on a decision lasts before another process may finish it
    # (longer than a resume takes), and how often the running app sweeps for expired claims.
    approval_lease_seconds: float = 30.0
    approval_sweep_seconds: float = 10.0

    # --- the shop's own data at rest ------------------------------------------------------
    # Key-encryption key of the shoppers' data keys (application/sealing.py): a random key in
    # `shop_key_file` (created 0600), or on AWS the KMS key `shop_kms_key_arn`.
    shop_key_file: str = str(PROJECT_ROOT / "var" / "shop-key")
    shop_kms_key_arn: str | None = None

    # --- sign-in -----------------------------------------------------------------------
    # Signs the sign-in tokens of the web app and the CLI. Unset: a random key kept in
    # `secret_key_file` (created 0600 on first use). Set it (from a secrets manager) when
    # several app servers must honour each other's tokens.
    secret_key: SecretStr | None = None
    secret_key_file: str = str(PROJECT_ROOT / "var" / "secret-key")
    sign_in_max_failures: int = 5  # wrong passwords in a row before the account is locked
    sign_in_lockout_minutes: float = 15.0
    web_sign_in_hours: float = 12.0  # how long a browser stays signed in
    cli_sign_in_days: float = 30.0  # how long `shoe-assistant login` lasts
    # Where `shoe-assistant login` keeps its token (0600). Default: the user's config directory
    # ($XDG_CONFIG_HOME or ~/.config)/shoe-assistant/token. SHOE_ASSISTANT_TOKEN overrides it.
    cli_token_file: str | None = None

    # --- LangGraph -----------------------------------------------------------------------
    # async: every step is checkpointed; writes overlap the next step (see the checkpointer
    # library's README).
    durability: Literal["sync", "async", "exit"] = "async"

    @property
    def uses_local_sessions(self) -> bool:
        """True when sessions go to the embedded service rather than to AWS."""
        return self.session_store == "local"

    @property
    def local_session_url(self) -> str:
        """URL at which the embedded session service listens."""
        return f"http://{self.local_session_host}:{self.local_session_port}"

    @property
    def resolved_session_endpoint(self) -> str | None:
        """Endpoint for the bedrock-agent-runtime client; None means the AWS default."""
        if self.session_endpoint_url:
            return self.session_endpoint_url
        return self.local_session_url if self.uses_local_sessions else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
