"""The Dispatch API app: ``create_app(settings)`` builds it; nothing connects at import.

    app = create_app(load_settings())
    uvicorn.run(app)                                   # or: python -m dispatch

The lifespan loads the city, opens Redis and the Kafka producer (acks=all, idempotent),
makes sure the topics it writes exist, starts the webhook deliverer (unless
``GRIDHUB_DISPATCH_WEBHOOKS=false``) and closes everything at the end. The OpenAPI
document is at ``/openapi.json`` and browsable at ``/docs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse, Response

from dispatch import errors
from dispatch.commands import CommandBus, make_producer
from dispatch.deps import Services
from dispatch.routers import (
    departments,
    hubs,
    matters,
    one_click,
    operators,
    ratings,
    reports,
    supervision,
    webhooks,
)
from dispatch.webhooks import WebhookDeliverer
from gridhub.citydata import load_city
from gridhub.kafka_admin import ensure_topics
from gridhub.keys import RedisKeys
from gridhub.redisconn import open_redis
from gridhub.settings import Settings, get_settings
from gridhub.topics import Topics

log = logging.getLogger("dispatch")

DESCRIPTION = """
The command-and-dispatch API of gridhub (网格化服务管理). Every read comes from the Redis
projections streams/ keeps; every action becomes a command on `matters.commands` that
streams/ applies. An action answers **200** once applied (with the new state), **409** with
the domain's reason when refused, and **202** with a status URL when streams/ is slow.

Authenticate with `Authorization: Bearer ghk_...` (`gridhub token issue`). Out-of-scope
matters answer 404. Errors are always `{"error": {"code", "message", "field"}}`.
"""

TAGS = [
    {"name": "matters", "description": "one matter, its full record (全程记录), its contact"},
    {"name": "departments", "description": "queues and the holder's actions"},
    {"name": "hubs", "description": "village/township hubs: open matters, 上报, 吹哨, 延期审批"},
    {"name": "operators", "description": "city operators: 派单, 转办, 催办, 督办, merge"},
    {"name": "supervision", "description": "live warnings and overdue matters"},
    {"name": "reports", "description": "三率 by unit and month; the monthly notice (通报)"},
    {"name": "ratings", "description": "citizens' satisfaction rating links (满意度测评)"},
    {"name": "one-click", "description": "one-click commands (一键式指挥) and acknowledgements"},
    {"name": "webhooks", "description": "push-dispatch to department systems"},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The Dispatch FastAPI app for ``settings`` (default: the environment's)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or get_settings()
        city = load_city(s.city_file)
        keys, topics = RedisKeys(s.redis_prefix), Topics.from_settings(s)
        redis = open_redis(str(s.redis_url), max_connections=512)
        try:
            await asyncio.to_thread(ensure_topics, s, [topics.commands, topics.wallboard])
        except Exception as exc:  # the topics may be created by `gridhub topics create`
            log.warning("could not ensure topics: %s", exc)
        producer = make_producer(s)
        await producer.start()
        bus = CommandBus(s, keys, topics, redis, producer)
        app.state.services = Services(s, city, keys, topics, redis, bus)
        deliverer_task = None
        if s.dispatch_webhooks:
            app.state.deliverer = WebhookDeliverer(s, city, redis)
            deliverer_task = asyncio.create_task(app.state.deliverer.run())
        try:
            yield
        finally:
            if deliverer_task is not None:
                deliverer_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await deliverer_task
            await producer.stop()
            await redis.aclose()

    app = FastAPI(
        title="gridhub Dispatch API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    errors.install(app)
    # The wallboard page (served by the gateway, another origin) issues one-click commands
    # here. Callers authenticate with bearer tokens only, never cookies, so a page of any
    # origin can do exactly what the token it holds allows: any origin, no credentials.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    for module in (
        matters,
        departments,
        hubs,
        operators,
        supervision,
        reports,
        ratings,
        one_click,
        webhooks,
    ):
        app.include_router(module.router)

    @app.get("/healthz", tags=["health"], summary="Liveness and Redis reachability")
    async def healthz() -> Response:
        svc: Services = app.state.services
        await svc.redis.ping()
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
