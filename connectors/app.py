"""The intake HTTP service: ``create_app(settings)`` builds it; nothing connects at import.

    app = create_app(load_settings(), IntakeConfig(rate_limit=100))
    uvicorn.run(app)                                   # or: python -m connectors

The lifespan loads the city, opens Redis and the Kafka producer (a broker that is down at
start is no error: submissions answer 503 until it is back), and closes them at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response

from connectors import errors
from connectors.channels import citizen_app, hotline, open311, patrol, reference
from connectors.channels.common import json_response
from connectors.config import IntakeConfig
from connectors.http import Runtime, runtime
from connectors.normalize import Gazetteer
from connectors.publisher import IntakePublisher
from connectors.ratelimit import RateLimiter
from connectors.service import IntakeService
from connectors.shedding import LoadShedder
from gridhub.citydata import load_city
from gridhub.redisconn import open_redis
from gridhub.settings import Settings, get_settings


def create_app(settings: Settings | None = None, config: IntakeConfig | None = None) -> FastAPI:
    """The intake FastAPI app for ``settings`` (default: the environment's)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or get_settings()
        cfg = config or IntakeConfig()
        city = load_city(s.city_file)
        redis = open_redis(str(s.redis_url))
        publisher = IntakePublisher(
            s,
            timeout_ms=cfg.kafka_timeout_ms,
            linger_ms=cfg.linger_ms,
            retry_after=cfg.retry_after_seconds,
        )
        await asyncio.to_thread(publisher.start)
        service = IntakeService(s, cfg, city, redis, publisher)
        app.state.intake = Runtime(
            config=cfg,
            city=city,
            gazetteer=Gazetteer(city),
            redis=redis,
            service=service,
            limiter=RateLimiter(redis, service.keys, cfg.rate_limit, cfg.rate_window_seconds),
        )
        try:
            yield
        finally:
            await publisher.close()
            await redis.aclose()

    app = FastAPI(
        title="gridhub intake",
        description="Intake of matters from the hotlines, the citizen app, grid-worker "
        "patrols and Open311 GeoReport v2 clients. A 2xx answer means Kafka has the matter.",
        version="1",
        lifespan=lifespan,
    )
    cfg = config or IntakeConfig()
    errors.install(app, cfg.max_body_bytes)
    app.add_middleware(
        LoadShedder, shed_after=cfg.shed_after_seconds, retry_after=cfg.retry_after_seconds
    )
    for module in (hotline, citizen_app, patrol, open311, reference):
        app.include_router(module.router)

    @app.get("/healthz", tags=["ops"])
    async def healthz(request: Request) -> Response:
        """Liveness and whether Redis answers."""
        rt = runtime(request)
        try:
            redis_ok = bool(await rt.redis.ping())
        except Exception:
            redis_ok = False
        return json_response(
            {"ok": redis_ok, "redis": redis_ok, "city": rt.city.code}, 200 if redis_ok else 503
        )

    return app
