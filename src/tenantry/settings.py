"""Every setting Tenantry reads, from the environment (prefix ``TENANTRY_``), read once."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENANTRY_", env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite:///./tenantry.db",
        description="sqlite:///path or postgresql://user@host/db; the async driver is chosen here.",
    )
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL of this service.")
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"

    jwt_issuer: str | None = Field(default=None, description="`iss` of access tokens; defaults to base_url.")
    jwt_audience: str = "tenantry"
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=60)

    # argon2id cost, OWASP's first recommended configuration (m=19 MiB, t=2, p=1).
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=19_456, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)
    hash_concurrency: int | None = Field(
        default=None, ge=1, description="Password hashes computed at once; defaults to the CPU count."
    )

    dialects: str | None = Field(
        default=None,
        description="Vendor dialects to serve: comma-separated `name` or `name=/prefix` (default prefix "
        "/compat/<name>); unset serves every dialect, empty serves none.",
    )

    # Account flows: mail, one-time links, hosted pages.
    smtp_url: str | None = Field(
        default=None,
        description="smtp://user:pass@host:port (smtps://: TLS from the first byte); unset: mail goes to the log.",
    )
    smtp_security: Literal["auto", "starttls", "tls", "none"] = Field(
        default="auto",
        description="auto: STARTTLS when the server offers it; starttls: required; tls: implicit TLS; none: plain.",
    )
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of one SMTP conversation.")
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
    password_change_ticket_ttl_seconds: int = Field(
        default=600, ge=30, description="Lifetime of the ticket that lets a user replace a password they must change."
    )
    authorization_code_ttl_seconds: int = Field(
        default=60, ge=10, description="Lifetime of the one-time code handed to an organization's login redirect."
    )
    browser_session_ttl_seconds: int = Field(default=8 * 3_600, ge=60, description="Lifetime of a hosted-page session.")
    password_reset_rate_limit: str = Field(
        default="5/hour", description="Password reset requests allowed per email address (`limits` notation)."
    )
    rate_limit_storage_url: str = Field(
        default="memory://", description="Where rate-limit counters live: memory:// (per process) or redis://host:port."
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

    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)

    @field_validator("base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def issuer(self) -> str:
        return self.jwt_issuer or self.base_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()
