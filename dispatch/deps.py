"""What every request handler needs, built once by the app's lifespan and shared.

Handlers take ``svc: Services = Depends(services)``; nothing here connects at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Request

from gridhub.domain.hierarchy import City
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics

if TYPE_CHECKING:
    from dispatch.commands import CommandBus


@dataclass
class Services:
    """The settings, the city, Redis, key and topic names, and the command bus."""

    settings: Settings
    city: City
    keys: RedisKeys
    topics: Topics
    redis: aioredis.Redis
    bus: CommandBus


def services(request: Request) -> Services:
    """FastAPI dependency: the shared :class:`Services` of this app."""
    svc: Services = request.app.state.services
    return svc


#: Handler parameter type: ``svc: Svc``.
Svc = Annotated[Services, Depends(services)]


def text(value: object) -> str:
    """A Redis reply (bytes from this client) as ``str``."""
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)
