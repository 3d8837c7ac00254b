"""Hostile callers against the real processes: expired, revoked, forged and tampered tokens;
scope escalation (a township asking for another township's hub, a department signing for
another department's task, a connector key used as a staff token). Every attempt is refused
(401, 403 or 404, or a WebSocket close 1008) and leaves a line in the refusing process's
log; the raw tokens are never logged, and the matter is unchanged.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect

from gridhub.auth import verify_token
from tests.reliability.load import IntakeLoad
from tests.support.system import System

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(240)]


async def hello(system: System, token: str, hub: dict[str, str]) -> tuple[str, int | None]:
    """The first frame's type (or error code) and the close code a screen gets."""
    async with connect(system.url("gateway0", "ws") + "/ws", open_timeout=5) as ws:
        await ws.send(orjson.dumps({"type": "hello", "token": token, "hub": hub}).decode())
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] != "error":
            return frame["type"], None
        with pytest.raises(Exception):  # noqa: B017 - any close ends the iteration
            await asyncio.wait_for(ws.recv(), 5)
        return frame["code"], ws.close_code


async def test_tokens_and_scopes_are_enforced_and_logged(system: System) -> None:
    system.start_all()
    await system.ready()
    tok = {
        "op": await system.token("city_operator"),
        "t01": await system.token("township_hub", "T01"),
        "t02": await system.token("township_hub", "T02"),
        "v2": await system.token("village_hub", "T01-V002"),
        "zjj": await system.token("department", "ZJJ"),
        "gaj": await system.token("department", "GAJ"),
        "cgj": await system.token("department", "CGJ"),
        "worker": await system.token("grid_worker", "T01-V001-G001"),
        "intake": await system.token("intake"),
        "expired": await system.token("city_operator", user="expired", ttl=1),
        "revoked": await system.token("city_operator", user="revoked"),
    }
    redis = system.redis()
    try:
        found = await verify_token(redis, system.keys, tok["revoked"])
        assert found is not None and await system.revoke(found.token_id)
    finally:
        await redis.aclose()
    forged = {
        "forged": "ghk_" + secrets.token_urlsafe(24),
        "tampered": tok["op"][:-1] + ("A" if tok["op"][-1] != "A" else "B"),
        "jwt": "eyJhbGciOiJub25lIn0.eyJyb2xlIjoiY2l0eV9vcGVyYXRvciJ9.",
        "empty": "",
    }
    load = IntakeLoad(system.url("intake"), tok["intake"], 5.0)
    await load.run(1.0)
    matter_id = next(iter(load.accepted))
    await asyncio.sleep(1.5)  # the ttl=1 token has expired by now

    refusals: list[tuple[str, int, Any]] = []
    async with httpx.AsyncClient(base_url=system.url("dispatch"), timeout=10) as api:

        async def call(
            who: str, method: str, path: str, body: Any = None, raw: str | None = None
        ) -> int:
            token = raw if raw is not None else tok[who]
            r = await api.request(method, path, json=body, headers=_bearer(token))
            refusals.append((who, r.status_code, path))
            return r.status_code

        for _ in range(60):  # wait until streams/ projected it
            if await call("op", "GET", f"/v1/matters/{matter_id}") == 200:
                break
            await asyncio.sleep(0.5)
        before = (await api.get(f"/v1/matters/{matter_id}", headers=_bearer(tok["op"]))).json()
        path = f"/v1/matters/{matter_id}"
        for name in ("expired", "revoked"):
            assert await call(name, "GET", path) == 401
        for name, raw in forged.items():
            assert await call(name, "GET", path, raw=raw) == 401, name
        assert await call("intake", "GET", path) == 403  # a connector key is no staff token
        assert await call("t02", "GET", path) == 404  # another township's matter
        assert await call("t02", "GET", "/v1/hubs/township/T01/open") == 404
        assert await call("v2", "GET", path) == 404  # another village's matter
        assert await call("t01", "GET", "/v1/departments/ZJJ/queue") == 403
        assert await call("gaj", "GET", "/v1/departments/ZJJ/queue") == 404
        assert await call("cgj", "POST", f"{path}/sign-for") == 404  # not its matter at all
        assert await call("gaj", "POST", f"{path}/sign-for") in (403, 409)  # ZJJ's task
        assert await call("worker", "POST", f"{path}/supervise", {"note": "x"}) == 403
        after = (await api.get(path, headers=_bearer(tok["op"]))).json()
        assert after["state"] == before["state"] and "signed_at" not in after

    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=10) as intake:
        body = {"call_id": "x1", "category": "TEST-DEPT", "content": "x", "grid": "T01-V001-G001"}
        for name, raw in (*forged.items(), ("op", tok["op"]), ("expired", tok["expired"])):
            r = await intake.post("/v1/hotlines/12345/calls", json=body, headers={"X-Api-Key": raw})
            assert r.status_code in (401, 403), (name, r.status_code)

    screens = [
        (tok["expired"], {"kind": "city", "code": ""}, "unauthorized"),
        (tok["revoked"], {"kind": "city", "code": ""}, "unauthorized"),
        (forged["forged"], {"kind": "city", "code": ""}, "unauthorized"),
        (forged["tampered"], {"kind": "city", "code": ""}, "unauthorized"),
        (tok["t01"], {"kind": "township", "code": "T02"}, "forbidden"),
        (tok["t01"], {"kind": "city", "code": ""}, "forbidden"),
        (tok["zjj"], {"kind": "department", "code": "GAJ"}, "forbidden"),
        (tok["v2"], {"kind": "township", "code": "T01"}, "forbidden"),
    ]
    for token, hub, code in screens:
        got, close = await hello(system, token, hub)
        assert (got, close) == (code, 1008), (hub, got, close)
    assert (await hello(system, tok["t01"], {"kind": "township", "code": "T01"}))[0] == "snapshot"

    await asyncio.sleep(0.5)  # let the processes flush their logs
    logs = {name: system.log_text(name) for name in ("dispatch", "intake", "gateway0")}
    assert logs["dispatch"].count("refused ") >= 9
    assert logs["intake"].count("refused ") >= 6
    assert logs["gateway0"].count("refused a screen") >= len(screens)
    for name, text in logs.items():
        for secret in (*tok.values(), forged["forged"], forged["tampered"]):
            assert secret not in text, f"a raw token is in the {name} log"


def _bearer(token: str) -> dict[str, str]:
    """The Authorization header of ``token`` (none for an empty one)."""
    return {"Authorization": f"Bearer {token}"} if token else {}
