"""One settings object for every gridhub process, read from ``GRIDHUB_*`` environment variables.

Call :func:`get_settings` at a process edge (a lifespan, a factory, the CLI) and pass the
object down; tests build their own ``Settings(...)`` with overrides instead of patching.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AnyUrl, Field, UrlConstraints, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RedisUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["redis", "rediss", "unix"])]

DEFAULT_CITY_FILE = Path(__file__).parent / "data" / "shulan.json"


class SettingsError(RuntimeError):
    """A GRIDHUB_* environment variable has a bad value; the message names it."""


class Settings(BaseSettings):
    """Everything a gridhub process is configured with; each field is ``GRIDHUB_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="GRIDHUB_", extra="ignore", frozen=True)

    kafka_bootstrap: str = Field("localhost:9092", description="host:port[,host:port...]")
    redis_url: RedisUrl = Field(AnyUrl("redis://localhost:6379/0"))
    topic_prefix: str = Field("", description="prefix for every topic name, e.g. 'test-1a2b.'")
    redis_prefix: str = Field("gh:", description="prefix for every Redis key")
    city_file: Path = DEFAULT_CITY_FILE
    intake_port: int = Field(8081, ge=1, le=65535)
    dispatch_port: int = Field(8082, ge=1, le=65535)
    wallboard_port: int = Field(8083, ge=1, le=65535)
    streams_port: int = Field(6066, ge=1, le=65535)
    host: str = "127.0.0.1"
    topic_partitions: int = Field(4, ge=1, le=1024)
    replication_factor: int = Field(1, ge=1, le=16)
    dedupe_ttl_seconds: int = Field(90 * 24 * 3600, ge=60)
    holiday_dir: Path | None = Field(None, description="folder of operator-supplied holiday files")
    log_level: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @field_validator("kafka_bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        for part in value.split(","):
            host, sep, port = part.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    @field_validator("topic_prefix", "redis_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if any(ch.isspace() for ch in value):
            raise ValueError("must not contain whitespace")
        return value


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment plus ``overrides``; raise :class:`SettingsError` naming
    the bad variable instead of a pydantic traceback."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = [
            f"GRIDHUB_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        ]
        raise SettingsError("invalid gridhub settings:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Only process entry points should call this."""
    return load_settings()
