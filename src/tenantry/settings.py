"""Every setting Tenantry reads, from the environment (prefix ``TENANTRY_``), read once."""

from functools import lru_cache
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

    import_upload_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Largest CSV file an upload may carry (413 beyond)."
    )
    import_upload_max_rows: int = Field(
        default=10_000, ge=1, description="Most rows a CSV upload may carry, its header aside (413 beyond)."
    )
    import_batch_size: int = Field(
        default=500, ge=1, le=5000, description="Rows an upload validates, hashes and inserts at a time."
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
