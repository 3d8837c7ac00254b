"""Tunables of the intake service that the shared :class:`~gridhub.settings.Settings` lacks.

Read from ``GRIDHUB_INTAKE_*`` environment variables, e.g. ``GRIDHUB_INTAKE_RATE_LIMIT=600``.
Tests and benchmarks build ``IntakeConfig(rate_limit=...)`` directly.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IntakeConfig(BaseSettings):
    """Limits and timeouts of the intake HTTP service and the importer."""

    model_config = SettingsConfigDict(env_prefix="GRIDHUB_INTAKE_", extra="ignore", frozen=True)

    rate_limit: int = Field(default=600, ge=1, description="requests per client per window")
    rate_window_seconds: int = Field(default=60, ge=1, le=86400)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="larger bodies get 413")
    retry_after_seconds: int = Field(default=5, ge=1, description="Retry-After on 503")
    kafka_timeout_ms: int = Field(
        default=4000, ge=500, description="how long a publish may take before intake answers 503"
    )
    linger_ms: int = Field(default=5, ge=0, le=1000, description="producer batching delay")
    pending_wait_seconds: float = Field(
        default=8.0, gt=0, description="how long a duplicate waits for the first copy's Kafka ack"
    )
    stale_pending_seconds: float = Field(
        default=60.0,
        gt=0,
        description="a dedupe claim older than this without an ack is taken over",
    )
    shed_after_seconds: float = Field(
        default=5.0,
        gt=0,
        description="refuse new submissions (503) while the oldest one in progress is older",
    )
    open311_days: int = Field(
        default=90, ge=1, description="GET requests.json default and maximum span"
    )
    open311_page_size: int = Field(default=1000, ge=1, le=10000)
