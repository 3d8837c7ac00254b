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
    dispatch_url: str | None = Field(
        None, description="base URL of the dispatch API; default http://<host>:<dispatch_port>"
    )
    wallboard_stream_maxlen: int = Field(
        100_000, ge=100, description="deltas kept in the wallboard Redis stream for reconnects"
    )
    wallboard_ping_interval: float = Field(20.0, gt=0, description="seconds between pings")
    wallboard_ping_timeout: float = Field(20.0, gt=0, description="a client silent this long drops")
    # dispatch/ API
    command_wait_seconds: float = Field(
        5.0, ge=0, le=60, description="how long an API command waits for streams/ before 202"
    )
    command_status_ttl_seconds: int = Field(
        24 * 3600, ge=60, description="how long GET /v1/commands/{id} knows a command"
    )
    rating_secret: str = Field(
        "", description="HMAC key of citizen rating links; empty: one generated once in Redis"
    )
    public_base_url: str = Field(
        "", description="base URL of rating links, e.g. https://gridhub.example; empty: request's"
    )
    dispatch_webhooks: bool = Field(True, description="run the webhook deliverer in dispatch")
    webhook_max_attempts: int = Field(8, ge=1, le=50)
    webhook_base_delay_seconds: float = Field(1.0, gt=0, le=3600)
    webhook_timeout_seconds: float = Field(5.0, gt=0, le=120)
    # streams/ (the Faust worker)
    streams_app_id: str = Field(
        "", description="Faust app id = consumer group; empty: '<topic_prefix>gridhub-streams'"
    )
    streams_data_dir: Path | None = Field(
        None, description="Faust data dir; empty: <tmp>/gridhub-streams/<app id>"
    )
    streams_web: bool = Field(True, description="serve the worker's web port (/metrics)")
    streams_batch_size: int = Field(2000, ge=1, le=100_000, description="records per batch")
    streams_batch_seconds: float = Field(
        0.05, gt=0, le=5, description="longest wait to fill a batch"
    )
    streams_session_timeout_seconds: float = Field(
        10.0,
        ge=6,
        le=300,
        description="consumer-group session timeout: how long a dead worker's partitions "
        "wait before another worker takes them (heartbeats every third of it)",
    )
    streams_request_timeout_seconds: float = Field(
        90.0,
        ge=6,
        le=600,
        description="the worker's consumer request timeout (Faust's broker_request_timeout; "
        "never below the session timeout): how long a Kafka request may wait for its answer",
    )
    streams_slow_batch_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="a worker batch running this long is logged with where it waits "
        "(see streams/stuck.py)",
    )
    streams_stall_seconds: float = Field(
        5.0,
        ge=2,
        le=3600,
        description="an input partition whose committed offset stays below its log end for "
        "this long is sought back to that offset (see streams/stall.py)",
    )
    streams_stop_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="a stopping worker still running after this long exits at once (status "
        "70) without committing; what it had not committed is replayed (streams/finish.py)",
    )
    streams_uvloop: bool = Field(
        True,
        description="run the worker on uvloop (Faust's supported fast event loop); false: "
        "asyncio's own loop",
    )
    hotspot_threshold: int = Field(
        5, ge=1, description="matters of one category in one grid within the window"
    )
    hotspot_window_seconds: int = Field(24 * 3600, ge=1, description="hotspot window")

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
