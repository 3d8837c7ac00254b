"""Acknowledging a one-click command (一键式指挥) from a hub's screen.

The ack logic lives in one place, the dispatch API: the gateway forwards the screen's ack
to ``POST {dispatch}/v1/one-click/{id}/ack`` with the screen's own bearer token, and
dispatch records it and publishes the ``command_ack`` delta that every board then shows.
Only when dispatch cannot be reached at all does the gateway publish that same delta
itself (so a hall keeps working while dispatch restarts); a refusal by dispatch (403, 404,
409...) is passed back to the screen, never overridden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from gridhub.auth import Principal
from gridhub.cloudevents import CloudEvent, encode
from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from gridhub.topics import Topics
from wallboard.protocol import HubRef

ACK_EVENT = "wallboard.delta"
ACK_VERSION = 1


@dataclass(frozen=True)
class AckOutcome:
    ok: bool
    via: str  # "dispatch" or "gateway"
    error: str | None = None


def dispatch_url(settings: Settings) -> str:
    """The dispatch API's base URL (``settings.dispatch_url`` or host:dispatch_port)."""
    return (settings.dispatch_url or f"http://{settings.host}:{settings.dispatch_port}").rstrip("/")


def ack_delta(command: dict[str, Any], hub: HubRef, user: str) -> dict[str, Any]:
    """The ``command_ack`` Delta for ``hub`` acknowledging ``command``."""
    scope = command.get("scope") or {}
    return {
        "kind": "command_ack",
        "scope": {
            "township": scope.get("township", ""),
            "village": scope.get("village", ""),
            "grid": "",
            "departments": list(scope.get("departments") or []),
        },
        "at": datetime.now(UTC).isoformat(),
        "data": {
            "command_id": command["command_id"],
            "target": {"kind": hub.kind, "code": hub.code},
            "user": user,
            "acked_at": datetime.now(UTC).isoformat(),
        },
    }


class Acknowledger:
    """Forwards acks to dispatch; publishes the ack delta itself only if dispatch is down."""

    def __init__(self, settings: Settings, redis: aioredis.Redis) -> None:
        self.settings = settings
        self.redis = redis
        self.keys = RedisKeys(settings.redis_prefix)
        self.topics = Topics.from_settings(settings)
        self.http = httpx.AsyncClient(base_url=dispatch_url(settings), timeout=3.0)
        self._producer: AIOKafkaProducer | None = None

    async def close(self) -> None:
        """Release the HTTP client and the Kafka producer."""
        await self.http.aclose()
        if self._producer is not None:
            await self._producer.stop()

    async def acknowledge(
        self, principal: Principal, raw_token: str, hub: HubRef, command_id: str
    ) -> AckOutcome:
        """Acknowledge ``command_id`` on behalf of the screen watching ``hub``."""
        if principal.role in ("auditor", "leader"):
            return AckOutcome(False, "gateway", "this role may not acknowledge commands")
        try:
            response = await self.http.post(
                f"/v1/one-click/{command_id}/ack",
                headers={"Authorization": f"Bearer {raw_token}"},
                json=self._ack_body(principal, hub),
            )
        except httpx.TransportError:
            return await self._publish_ack(principal, hub, command_id)
        if response.status_code < 300:
            return AckOutcome(True, "dispatch")
        if response.status_code in (502, 503, 504):
            return await self._publish_ack(principal, hub, command_id)
        detail = response.text[:200]
        return AckOutcome(False, "dispatch", f"dispatch said {response.status_code}: {detail}")

    @staticmethod
    def _ack_body(principal: Principal, hub: HubRef) -> dict[str, Any]:
        """dispatch's AckIn: the target is implied by a hub token; a city operator names it."""
        body: dict[str, Any] = {"via": "gateway"}
        if principal.scope_kind == "city":
            body["target"] = {"kind": hub.kind, "code": hub.code}
        return body

    async def _publish_ack(self, principal: Principal, hub: HubRef, command_id: str) -> AckOutcome:
        raw = await self.redis.hget(self.keys.wallboard_commands(), command_id)
        if raw is None:
            return AckOutcome(False, "gateway", "unknown command")
        command = orjson.loads(raw)
        targets = {(t.get("kind"), t.get("code")) for t in command.get("targets") or []}
        if (hub.kind, hub.code) not in targets:
            return AckOutcome(False, "gateway", "this hub is not a target of the command")
        if f"{hub.kind}:{hub.code}" in (command.get("acks") or {}):
            return AckOutcome(True, "gateway")
        if self._producer is None:
            self._producer = AIOKafkaProducer(
                bootstrap_servers=self.settings.kafka_bootstrap,
                acks="all",
                enable_idempotence=True,
            )
            await self._producer.start()
        event = CloudEvent.new(
            ACK_EVENT,
            ACK_VERSION,
            source="/wallboard",
            subject=command_id,
            id=f"{command_id}:ack:{hub.key}",
            data=ack_delta(command, hub, principal.user),
        )
        record = encode(event)
        await self._producer.send_and_wait(
            self.topics.wallboard, value=record.value, key=record.key, headers=record.headers
        )
        return AckOutcome(True, "gateway")
