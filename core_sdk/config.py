"""Settings read from the environment (pydantic-settings).

Unknown variables are ignored. A malformed value raises ConfigurationError naming the variable.
Services subclass :class:`BaseAppSettings` to add their own settings.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core_sdk.exceptions import ConfigurationError

__all__ = ["BaseAppSettings", "Environment", "get_settings"]

Environment = Literal["test", "dev", "prod"]
_ENV_ALIASES = {"development": "dev", "production": "prod", "testing": "test"}


class BaseAppSettings(BaseSettings):
    """Runtime settings. Every field is read from the environment variable of the same name."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True, validate_default=True)

    ENV: Environment = "dev"
    REDIS_URL: str | None = None
    DATABASE_URL: str = "sqlite+aiosqlite:///./dam_sdk.db"
    LOGGING_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    DB_POOL_SIZE: int = Field(default=5, ge=1)
    DB_MAX_OVERFLOW: int = Field(default=10, ge=0)
    DB_ECHO: bool = False
    RESULT_TTL_SECONDS: int = Field(default=3600, ge=1)
    BROKER_TIMEOUT_SECONDS: float = Field(default=30.0, gt=0)
    OPERATION_TIMEOUT_SECONDS: float = Field(default=3600.0, gt=0, allow_inf_nan=False)
    REDIS_QUEUE_NAME: str = Field(default="dam:operations", min_length=1)
    REDIS_KEY_PREFIX: str = Field(default="dam", min_length=1)
    REDIS_CONSUMER_GROUP: str = Field(default="dam-workers", min_length=1)
    REDIS_IDLE_TIMEOUT_MS: int = Field(default=600_000, ge=100)
    REDIS_XREAD_BLOCK_MS: int = Field(default=2000, ge=1)
    REDIS_XREAD_COUNT: int = Field(default=10, ge=1)
    REDIS_MAX_CONNECTIONS: int | None = Field(default=None, ge=2)
    REDIS_CONNECT_TIMEOUT_SECONDS: float = Field(default=2.0, gt=0)
    MAX_MESSAGE_BYTES: int = Field(default=1_000_000, ge=1024)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            problems = "; ".join(_describe(error) for error in exc.errors())
            raise ConfigurationError(f"Invalid environment configuration: {problems}") from None

    @field_validator("ENV", mode="before")
    @classmethod
    def _normalise_env(cls, value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            return _ENV_ALIASES.get(lowered, lowered)
        return value

    @field_validator("LOGGING_LEVEL", mode="before")
    @classmethod
    def _normalise_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("REDIS_URL", mode="before")
    @classmethod
    def _check_redis_url(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string such as redis://localhost:6379/0")
        from core_sdk.broker.topology import parse_redis_url

        parse_redis_url(value)  # ValueError names the problem (never the password)
        return value.strip()

    @field_validator("DATABASE_URL", mode="after")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                "must be an SQLAlchemy URL such as postgresql+asyncpg://user@host/db"
            ) from exc
        return value

    def engine_options(self) -> dict[str, Any]:
        """Options for ``init_db`` derived from these settings."""
        return {
            "pool_size": self.DB_POOL_SIZE,
            "max_overflow": self.DB_MAX_OVERFLOW,
            "pool_pre_ping": True,
            "echo": self.DB_ECHO,
        }


def _describe(error: Any) -> str:
    name = ".".join(str(part) for part in error["loc"]) or "?"
    text = f"{name}: {error['msg']}"
    if not name.endswith("_URL"):  # URLs may carry passwords: never echo them
        text += f" (got {error.get('input')!r})"
    return text


@functools.lru_cache(maxsize=1)
def get_settings() -> BaseAppSettings:
    """The process-wide settings, read once from the environment."""
    return BaseAppSettings()
