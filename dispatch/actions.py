"""The one path every action takes: check scope → build the command → submit → respond.

return await act(svc, p, matter_id, SignFor)                      # 200 / 202 / 409
return await act(svc, p, matter_id, Resolve, result=..., attachments=(...))
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.responses import Response

from dispatch.auth import can_view, load_view
from dispatch.commands import Outcome
from dispatch.deps import Services
from dispatch.errors import ApiError
from gridhub.auth import Principal
from gridhub.domain.commands import Command


def new_command_id() -> str:
    """A fresh command id (also the CloudEvent id)."""
    return "c" + uuid.uuid4().hex


def now() -> datetime:
    """The command instant (UTC)."""
    return datetime.now(UTC)


def status_url(command_id: str) -> str:
    """Where a pending command's status can be polled."""
    return f"/v1/commands/{command_id}"


async def act(
    svc: Services,
    p: Principal,
    matter_id: str,
    cls: type[Command],
    view: dict[str, Any] | None = None,
    **fields: Any,
) -> Response:
    """Issue ``cls(**fields)`` on ``matter_id`` as ``p`` (404 if out of scope) and respond."""
    if view is None:
        await load_view(svc, p, matter_id)
    command = cls(
        matter_id=matter_id, actor=p.actor(), at=now(), command_id=new_command_id(), **fields
    )
    outcome = await svc.bus.submit(command)
    return await respond(svc, p, outcome)


async def command_body(svc: Services, p: Principal, outcome: Outcome) -> dict[str, Any]:
    """The CommandOut document of ``outcome`` (the matter only if ``p`` may still see it)."""
    body: dict[str, Any] = {
        "command_id": outcome.command_id,
        "matter_id": outcome.matter_id,
        "status": outcome.status,
        "status_url": status_url(outcome.command_id),
        "events": [],
    }
    result = outcome.result or {}
    for name in ("state", "version", "reason"):
        if name in result:
            body[name] = result[name]
    body["events"] = list(result.get("events") or [])
    if outcome.status == "applied":
        view = await svc.bus.view_at_least(outcome.matter_id, int(result.get("version") or 0))
        if view is not None and can_view(p, view, svc.city):
            body["matter"] = view
    return body


async def respond(svc: Services, p: Principal, outcome: Outcome) -> Response:
    """200 applied, 202 pending (with Location), 409 rejected with the domain's reason."""
    if outcome.status == "rejected":
        reason = str((outcome.result or {}).get("reason") or "the command was rejected")
        err = ApiError(409, "rejected", reason)
        doc = err.body()
        doc["error"]["command_id"] = outcome.command_id
        return Response(orjson.dumps(doc), status_code=409, media_type="application/json")
    body = await command_body(svc, p, outcome)
    if outcome.status == "pending":
        return Response(
            orjson.dumps(body),
            status_code=202,
            media_type="application/json",
            headers={"Location": body["status_url"]},
        )
    return Response(orjson.dumps(body), status_code=200, media_type="application/json")
