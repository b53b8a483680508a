"""Every setting Tenantry reads, from the environment (prefix ``TENANTRY_``), read once."""

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

import limits
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENANTRY_", env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite:///./tenantry.db",
        description="sqlite:///path or postgresql://user@host/db; the async driver is chosen here.",
    )
    database_replica_urls: str | None = Field(
        default=None,
        description="PostgreSQL streaming replicas (comma-separated postgresql:// URLs) that read-only requests "
        "read, in turn; a replica that cannot be reached is skipped for a while. See docs/deploy.md.",
    )
    database_primary_pin_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3_600,
        description="With replicas: how long a caller that wrote reads from the primary (read-your-writes). "
        "Keep it above the replicas' usual lag.",
    )
    database_replica_max_lag_seconds: float = Field(
        default=1.0,
        gt=0,
        le=3_600,
        description="With replicas: the most a replica may lag behind the primary and still answer reads (the "
        "primary answers them past it). Reads are authorized where they run, so a revoked credential, an ended "
        "session or a removed member stops reading within this bound. See docs/deploy.md.",
    )
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL of this service.")
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"

    jwt_issuer: str | None = Field(
        default=None,
        description="`iss` of access tokens (the OpenID provider's too); defaults to base_url. The provider's "
        "own issuer (discovery, ID tokens) is always base_url.",
    )
    jwt_audience: str = "tenantry"
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=60)
    session_max_lifetime_seconds: int = Field(
        default=90 * 86_400,
        ge=60,
        description="Longest a token session lives from its sign-in, however often it is refreshed.",
    )

    # argon2id cost, OWASP's first recommended configuration (m=19 MiB, t=2, p=1).
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19_456, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)
    hash_concurrency: int | None = Field(
        default=None, ge=1, description="Password hashes computed at once; defaults to the cores the process may use."
    )

    dialects: str | None = Field(
        default=None,
        description="Vendor dialects to serve: comma-separated `name` or `name=/prefix` (default prefix "
        "/compat/<name>); unset serves every dialect, empty serves none.",
    )

    impersonation_token_ttl_seconds: int = Field(
        default=600, ge=30, le=3_600, description="Lifetime of a token obtained by impersonation (never refreshed)."
    )

    # Brute-force defence (Keycloak-like defaults): see docs/security.md.
    login_max_failures: int = Field(
        default=30, ge=1, description="Failed sign-ins of one account before it is locked for a while."
    )
    login_lockout_increment_seconds: int = Field(
        default=60, ge=1, description="Each further round of `login_max_failures` failures adds this much wait."
    )
    login_lockout_max_seconds: int = Field(default=900, ge=1, description="The longest wait a lockout imposes.")
    login_failure_reset_seconds: int = Field(
        default=12 * 3_600, ge=1, description="An account's failure count restarts after this long without failures."
    )
    login_ip_max_failures: int = Field(
        default=100, ge=1, description="Failed sign-ins from one client IP within the window before it is refused."
    )
    login_ip_window_seconds: int = Field(default=900, ge=1, description="The window of `login_ip_max_failures`.")
    auth_rate_limit: str = Field(
        default="10/second;300/minute",
        description="Requests per client IP to each sign-in endpoint, in `limits` notation (`N/unit` separated "
        "by ';'); empty for none.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis:// URL for rate-limit counters (sign-in, per-IP failures, reset requests) shared by "
        "every instance; unset keeps them in each process's memory.",
    )
    redis_key_prefix: str = Field(default="tenantry", description="Prefix of every key Tenantry writes in Redis.")

    # Account flows: mail, one-time links, hosted pages.
    smtp_url: str | None = Field(
        default=None,
        description="smtp://user:pass@host:port (smtps://: TLS from the first byte); unset: mail goes to the log.",
    )
    smtp_security: Literal["auto", "starttls", "tls", "none"] = Field(
        default="auto",
        description="auto: STARTTLS when the server offers it; starttls: required; tls: implicit TLS; none: plain.",
    )
    smtp_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Longest one SMTP conversation may take, less than half of `outbox_lease_seconds`.",
    )
    mail_from: str = Field(default="Tenantry <no-reply@localhost>", description="From header of every email.")
    templates_dir: Path | None = Field(
        default=None, description="Folder whose templates (email/…, ui/…) replace the built-in ones of the same name."
    )
    invitation_ttl_seconds: int = Field(default=7 * 86_400, ge=60, description="Lifetime of invitation links.")
    password_reset_ttl_seconds: int = Field(default=3_600, ge=60, description="Lifetime of password reset links.")
    email_verification_ttl_seconds: int = Field(
        default=7 * 86_400, ge=60, description="Lifetime of verification links."
    )
    magic_link_ttl_seconds: int = Field(default=900, ge=60, description="Lifetime of magic links.")
    factor_added_ttl_seconds: int = Field(
        default=7 * 86_400,
        ge=60,
        description="Lifetime of the link in the notice of a second factor added by a session of one factor.",
    )
    password_change_ticket_ttl_seconds: int = Field(
        default=600, ge=30, description="Lifetime of the ticket that lets a user replace a password they must change."
    )
    client_secret_grace_seconds: int = Field(
        default=7 * 86_400, ge=0, description="How long a rotated-out client secret keeps working."
    )
    oidc_code_ttl_seconds: int = Field(default=60, ge=10, le=600, description="Lifetime of OIDC authorization codes.")
    browser_session_ttl_seconds: int = Field(default=8 * 3_600, ge=60, description="Lifetime of a hosted-page session.")
    password_reset_rate_limit: str = Field(
        default="5/hour", description="Password reset requests allowed per email address (`limits` notation)."
    )
    mailed_link_rate_limit: str = Field(
        default="5/hour",
        description="Links of one kind (invitation, password reset, email verification) mailed to one account, "
        "whoever asks (`limits` notation).",
    )
    outbox_in_process: bool = Field(
        default=True, description="Deliver the outbox inside `tenantry serve`; turn off when `tenantry worker` runs."
    )
    outbox_poll_seconds: float = Field(default=1.0, gt=0, description="How often the worker looks for due messages.")
    outbox_max_attempts: int = Field(default=8, ge=1, description="Delivery attempts before a message is given up.")
    outbox_retry_base_seconds: float = Field(
        default=30.0, gt=0, description="First retry delay; doubled on each failure (capped at one hour)."
    )
    outbox_lease_seconds: float = Field(
        default=120.0, gt=0, description="How long a claimed message is reserved for the worker that claimed it."
    )
    webhook_allow_private_urls: bool = Field(
        default=False,
        description="Let webhooks go to http:// and to private, loopback and link-local addresses (development only).",
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60, description="Timeout of one webhook delivery.")
    webhook_concurrency: int = Field(
        default=8, ge=1, le=64, description="Webhook deliveries a worker makes at once, each to another endpoint."
    )
    webhook_concurrency_per_org: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Of those, how many at most to one organization's endpoints (the platform's count as one "
        "organization); by default a quarter of TENANTRY_WEBHOOK_CONCURRENCY, at least 1.",
    )
    webhooks_per_org: int = Field(
        default=50, ge=1, le=10_000, description="How many webhook endpoints one organization may have at most."
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="When set, GET /metrics requires `Authorization: Bearer <this token>`."
    )
    metrics_outbox_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long GET /metrics reuses its count of the outbox backlog (per process; 0: count on every "
        "scrape). Counting reads every waiting message.",
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65_535,
        description="`tenantry worker` serves GET /metrics (what it delivers) on this port; unset, it serves none.",
    )
    worker_metrics_host: str = Field(
        default="127.0.0.1", description="The address `tenantry worker` serves /metrics on (`0.0.0.0` in a container)."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body (JSON, forms) a request may send (413 beyond)."
    )
    import_upload_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Largest CSV file an upload may carry (413 beyond)."
    )
    import_upload_max_rows: int = Field(
        default=10_000, ge=1, description="Most rows a CSV upload may carry, its header aside (413 beyond)."
    )
    import_batch_size: int = Field(
        default=500, ge=1, le=5000, description="Rows an upload validates, hashes and inserts at a time."
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description="Key(s) that encrypt secrets at rest (TOTP secrets): comma-separated, each at least 32 "
        "characters; the first encrypts, every one decrypts (rotation: see docs/mfa.md). Unset: no MFA enrolment.",
    )
    mfa_totp_issuer: str = Field(default="Tenantry", max_length=100, description="Issuer shown by authenticator apps.")
    mfa_required_for_platform_admins: bool = Field(
        default=False, description="Platform admins must sign in with a second factor (and enrol one first)."
    )

    db_pool_size: int = Field(
        default=30,
        ge=1,
        description="Database connections each worker keeps (opened on demand). Size it to the concurrent requests "
        "a worker serves: a connection beyond it is closed when returned, and reopening one costs more than a query. "
        "SQLite keeps at most 8 in all (pool and overflow), and opens none beyond them.",
    )
    db_max_overflow: int = Field(default=10, ge=0, description="Connections a worker may open beyond the pool.")
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    db_connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="PostgreSQL: how long opening a connection may take before the request "
        "answers 503 (a server that is away).",
    )
    db_statement_timeout_seconds: float = Field(
        default=30.0, gt=0, description="PostgreSQL: how long one statement may run before it is cancelled (503)."
    )

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("auth_rate_limit")
    @classmethod
    def _parse_rate_limit(cls, value: str) -> str:
        if value.strip():
            limits.parse_many(value)  # a ValueError names the part it could not read
        return value.strip()

    @field_validator("password_reset_rate_limit", "mailed_link_rate_limit")
    @classmethod
    def _parse_one_rate_limit(cls, value: str) -> str:
        limits.parse(value)  # a ValueError says what it could not read
        return value.strip()

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and any(len(key.strip()) < 32 for key in value.get_secret_value().split(",")):
            raise ValueError("every key must be at least 32 characters")
        return value

    @model_validator(mode="after")
    def _smtp_within_the_lease(self) -> Self:
        """A worker starts an email while half its lease is left: the conversation must end before the lease does,
        or another worker takes the message and sends it again."""
        if self.smtp_url and self.smtp_timeout_seconds >= self.outbox_lease_seconds / 2:
            raise ValueError(
                f"TENANTRY_SMTP_TIMEOUT_SECONDS ({self.smtp_timeout_seconds:g}) must be less than half of "
                f"TENANTRY_OUTBOX_LEASE_SECONDS ({self.outbox_lease_seconds:g})"
            )
        return self

    @property
    def webhook_lanes_per_org(self) -> int:
        """Webhook deliveries a worker makes at once to one organization (``webhook_concurrency_per_org``)."""
        return self.webhook_concurrency_per_org or max(1, self.webhook_concurrency // 4)

    @property
    def replica_urls(self) -> list[str]:
        return [url.strip() for url in (self.database_replica_urls or "").split(",") if url.strip()]

    @property
    def oidc_issuer(self) -> str:
        """The OpenID provider's issuer: discovery's ``issuer``, the ID token's ``iss``, the authorization
        response's ``iss`` (RFC 9207). OpenID Connect Discovery 4.3 requires it to be the URL discovery is
        served under, so it is ``base_url`` whatever ``jwt_issuer`` says."""
        return self.base_url

    @property
    def access_token_issuer(self) -> str:
        """The ``iss`` of every access token, the ones the OpenID provider issues included, and the one their
        verification requires."""
        return self.jwt_issuer or self.base_url


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """The ``TENANTRY_*`` names in ``environ`` that are no setting (a typo, or one that never existed): ignored,
    which ``tenantry serve`` and ``tenantry worker`` say when they start."""
    prefix = Settings.model_config.get("env_prefix", "").upper()
    known = {f"{prefix}{name}".upper() for name in Settings.model_fields}
    return sorted(name for name in environ if name.upper().startswith(prefix) and name.upper() not in known)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()
