"""The simulated actors: intake systems, hubs, departments, operators, supervisors and
citizens, acting only through intake HTTP, the dispatch API and the wallboard WebSocket.

    cast = await issue_cast(redis, keys, city, run_id, ttl)    # the operator's set-up step
    actors = Actors(cast, intake_http, dispatch_http, acks, clock)
    await actors.perform(plan)            # submit, then play its script in simulated time
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect

from gridhub.auth import issue_token
from gridhub.domain.hierarchy import City
from gridhub.intake import Source
from gridhub.keys import RedisKeys
from gridhub.simulate.client import RETRIED, Http, SimHttpError
from gridhub.simulate.clock import SimClock
from gridhub.simulate.plan import MatterPlan, Step
from gridhub.token_log import TokenLog

log = logging.getLogger("gridhub.simulate")
CITY_ROLES = ("city_operator", "supervisor", "leader")
#: dispatch path and body of the simple owner and operator actions
PATHS = {
    "sign_for": "sign-for",
    "progress": "progress",
    "resolve": "resolve",
    "report_up": "report-up",
    "return": "return",
    "assign": "assign",
    "forward": "forward",
    "whistle": "whistle",
    "report_in": "report-in",
    "extension_request": "extension-request",
    "extension_decision": "extension-decision",
    "urge": "urge",
    "supervise": "supervise",
    "close": "close",
}


@dataclass
class Cast:
    """Tokens of every simulated actor: (role, unit code) → bearer token; intake keys per
    channel."""

    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    intake_keys: dict[Source, str] = field(default_factory=dict)

    def token(self, role: str, code: str = "") -> str:
        """The token of ``role`` for unit ``code`` (empty for city-wide roles)."""
        return self.tokens[(role, code)]


async def issue_cast(
    redis: aioredis.Redis,
    keys: RedisKeys,
    city: City,
    run_id: str,
    ttl_seconds: int,
    log: TokenLog | None = None,
) -> Cast:
    """Issue (via :mod:`gridhub.auth`) a token per hub, department, city role and intake
    channel, each expiring after ``ttl_seconds``: what ``gridhub token issue`` would do
    (with ``log``, recorded in Kafka too, so the run survives a Redis wipe)."""
    cast = Cast()
    wanted = [(role, "") for role in CITY_ROLES]
    wanted += [("township_hub", t) for t in city.townships]
    wanted += [("village_hub", v) for v in city.villages]
    wanted += [("department", d) for d in city.departments]

    slots = asyncio.Semaphore(16)  # a few connections, not one per token

    async def one(role: str, code: str) -> None:
        user = f"sim-{run_id}-{role}-{code}".rstrip("-")
        async with slots:
            raw, _ = await issue_token(
                redis, keys, city, user=user, role=role, scope_code=code,
                ttl_seconds=ttl_seconds, log=log,
            )  # fmt: skip
        cast.tokens[(role, code)] = raw

    await asyncio.gather(*(one(r, c) for r, c in wanted))
    for source in Source:
        raw, _ = await issue_token(
            redis, keys, city, user=f"sim-{run_id}-{source.value}", role="intake",
            ttl_seconds=ttl_seconds, log=log,
        )  # fmt: skip
        cast.intake_keys[source] = raw
    return cast


def intake_request(plan: MatterPlan, dated: bool) -> tuple[str, dict[str, Any], bool]:
    """(path, body, is_form) of ``plan``'s submission on its channel; ``dated`` sends the
    receipt time (historic mode)."""
    when = plan.received.isoformat() if dated else None
    body: dict[str, Any]
    text = plan.text or f"模拟事项 #{plan.seq}: {plan.category}"
    name = plan.reporter or "市民"
    if plan.source in (Source.HOTLINE_12345, Source.HOTLINE_BUSINESS):
        line = "12345" if plan.source == Source.HOTLINE_12345 else "business"
        body = {
            "call_id": plan.source_id,
            "call_time": when,
            "category": plan.category,
            "urgency": plan.urgency,
            "content": text,
            "caller_name": name,
            "caller_phone": f"139{plan.seq % 10**8:08d}",
            "grid": plan.grid,
        }
        return f"/v1/hotlines/{line}/calls", body, False
    if plan.source == Source.APP:
        body = {
            "submission_id": plan.source_id,
            "submitted_at": when,
            "category": plan.category,
            "urgency": plan.urgency,
            "description": text,
            "location": {"grid": plan.grid},
            "contact": {"name": name, "phone": f"138{plan.seq % 10**8:08d}"},
        }
        return "/v1/app/submissions", body, False
    if plan.source == Source.PATROL:
        body = {
            "report_id": plan.source_id,
            "worker_id": plan.worker_id,
            "grid": plan.grid,
            "observed_at": when,
            "category": plan.category,
            "urgency": plan.urgency,
            "found": text,
            "solved_on_spot": plan.solved_on_spot,
            "result": "网格员现场处置完毕" if plan.solved_on_spot else None,
        }
        return "/v1/patrol/reports", body, False
    form: dict[str, Any] = {
        "service_code": plan.category,
        "address_id": plan.grid,
        "description": text,
        "device_id": plan.source_id,
        "first_name": name,
    }
    return "/open311/v2/requests.json", form, True


class WallboardAcks:
    """Hub screens on the wallboard: one WebSocket per township, acknowledging one-click
    commands with ``{"type": "ack", "command_id": ...}``."""

    def __init__(self, url: str | None, cast: Cast, dispatch: Http) -> None:
        self.url = url
        self.cast = cast
        self.dispatch = dispatch
        self.screens: dict[str, ClientConnection] = {}
        self.readers: list[asyncio.Task[None]] = []
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.lock = asyncio.Lock()
        self.down = url is None

    async def _screen(self, township: str) -> ClientConnection:
        async with self.lock:
            ws = self.screens.get(township)
            if ws is None:
                assert self.url is not None
                ws = await connect(self.url, max_size=None, open_timeout=5)
                hello = {
                    "type": "hello",
                    "token": self.cast.token("township_hub", township),
                    "hub": {"kind": "township", "code": township},
                    "last_seq": None,
                }
                await ws.send(orjson.dumps(hello).decode())
                self.screens[township] = ws
                self.readers.append(asyncio.create_task(self._read(ws)))
            return ws

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                frame = orjson.loads(raw)
                if frame.get("type") == "ack_result":
                    fut = self.waiting.pop(str(frame.get("command_id")), None)
                    if fut is not None and not fut.done():
                        fut.set_result(frame)

    async def ack(self, township: str, command_id: str) -> str:
        """Acknowledge on the township's screen; "ws" when the gateway confirmed, else the
        ack goes through the dispatch API ("dispatch") so the command is not left hanging."""
        if not self.down:
            fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self.waiting[command_id] = fut
            try:
                ws = await self._screen(township)
                await ws.send(orjson.dumps({"type": "ack", "command_id": command_id}).decode())
                frame = await asyncio.wait_for(fut, 15)
                if frame.get("ok"):
                    return "ws"
            except Exception as exc:
                log.warning("wallboard ack failed (%s); acknowledging via dispatch", exc)
                self.down = True
            finally:
                self.waiting.pop(command_id, None)
        resp = await self.dispatch.request(
            "POST",
            f"/v1/one-click/{command_id}/ack",
            token=self.cast.token("township_hub", township),
            json={"via": "dispatch"},
        )
        return "dispatch" if resp.status_code == 200 else f"failed_{resp.status_code}"

    async def aclose(self) -> None:
        """Close every screen."""
        for ws in self.screens.values():
            with contextlib.suppress(Exception):
                await ws.close()
        for task in self.readers:
            task.cancel()


class Actors:
    """Plays matters: submits each through intake, then every step of its script."""

    def __init__(
        self,
        cast: Cast,
        intake: Http,
        dispatch: Http,
        acks: WallboardAcks,
        clock: SimClock,
        dated: bool,
        visible_timeout: float = 180.0,
    ) -> None:
        self.cast = cast
        self.intake = intake
        self.dispatch = dispatch
        self.acks = acks
        self.clock = clock
        self.dated = dated
        self.visible_timeout = visible_timeout
        self.stats: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()

    async def submit(self, plan: MatterPlan) -> str | None:
        """Send ``plan`` to intake on its channel; the matter id, or None if refused."""
        path, body, form = intake_request(plan, self.dated)
        key = self.cast.intake_keys[plan.source]
        if form:
            resp = await self.intake.request("POST", path, data={**body, "api_key": key})
        else:
            clean = {k: v for k, v in body.items() if v is not None}
            resp = await self.intake.request("POST", path, api_key=key, json=clean)
        if resp.status_code not in (200, 201):
            self.stats["intake_refused"] += 1
            self.reasons[f"intake {resp.status_code}: {resp.text[:160]}"] += 1
            return None
        doc = resp.json()
        self.stats["submitted" if resp.status_code == 201 else "duplicate"] += 1
        if isinstance(doc, list):
            return str(doc[0]["service_request_id"])
        return str(doc["matter_id"])

    async def perform(self, plan: MatterPlan) -> None:
        """Submit ``plan`` and play its script; failures are counted, never raised."""
        try:
            matter_id = await self.submit(plan)
            if matter_id is None or not plan.steps:
                return
            if not await self._visible(matter_id):
                self.stats["never_visible"] += 1
                return
            context: dict[str, Any] = {}
            for step in plan.steps:
                await self.clock.sleep_until(plan.received + timedelta(seconds=step.at))
                outcome = await self.step(matter_id, step, context)
                self.stats[f"{outcome}:{step.action}"] += 1
                self.stats["steps"] += 1
        except SimHttpError as exc:
            self.stats["http_failed"] += 1
            self.reasons[str(exc)[:160]] += 1
        except Exception as exc:  # one matter must never stop the run
            log.exception("matter %s failed", plan.source_id)
            self.stats["crashed"] += 1
            self.reasons[f"{type(exc).__name__}: {exc}"[:160]] += 1

    async def _visible(self, matter_id: str) -> bool:
        """Wait until streams/ has projected the matter (the dispatch API can see it)."""
        token = self.cast.token("city_operator")
        deadline = asyncio.get_running_loop().time() + self.visible_timeout
        pause = 0.05
        while True:
            resp = await self.dispatch.request("GET", f"/v1/matters/{matter_id}", token=token)
            if resp.status_code == 200:
                return True
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(pause)
            pause = min(2.0, pause * 2)

    async def step(self, matter_id: str, step: Step, context: dict[str, Any]) -> str:
        """Do one step; "ok", "rejected" (409, reason counted) or "failed_<status>"."""
        token = self.cast.token(step.role, step.code) if step.role != "citizen" else ""
        base = f"/v1/matters/{matter_id}"
        if step.action == "one_click":
            body = {
                "text": "立即到场处置",
                "targets": [{"kind": "township", "code": step.args["target"]}],
                "matter_id": matter_id,
                "ack_within_minutes": 15,
            }
            resp = await self.dispatch.request("POST", "/v1/one-click", token=token, json=body)
            if resp.status_code == 201:
                context["one_click"] = resp.json()["command_id"]
            return self._outcome(resp, step)
        if step.action == "ack":
            if "one_click" not in context:
                return "skipped"
            via = await self.acks.ack(step.code, context["one_click"])
            return "ok" if via in ("ws", "dispatch") else via
        if step.action == "rate":
            link = await self.dispatch.request("GET", f"{base}/rating-link", token=token)
            if link.status_code != 200:
                return self._outcome(link, step)
            rating_token = link.json()["token"]
            resp = await self.dispatch.request(
                "POST", f"/v1/ratings/{rating_token}", json={"rating": step.args["rating"]}
            )
            return await self._settle(resp, step)
        body = dict(step.args)
        if step.action == "assign":
            body = {"owner": {"kind": body["kind"], "code": body["code"]}}
        elif step.action == "extension_request":
            body = await self._extension(base, token, step)
        resp = await self.dispatch.request(
            "POST", f"{base}/{PATHS[step.action]}", token=token, json=body
        )
        return await self._settle(resp, step)

    async def _extension(self, base: str, token: str, step: Step) -> dict[str, Any]:
        """The extension request body: the current resolve deadline (or now) + N days."""
        resp = await self.dispatch.request("GET", base, token=token)
        due = datetime.now(UTC)
        if resp.status_code == 200:
            current = (resp.json().get("deadlines") or {}).get("resolve")
            if current:
                due = max(due, datetime.fromisoformat(current["due_at"]))
        proposed = due + timedelta(days=int(step.args.get("days", 5)))
        return {"reason": step.args["reason"], "proposed_due": proposed.isoformat()}

    async def _settle(self, resp: httpx.Response, step: Step) -> str:
        """Follow a 202 to its final status (polling the command's status URL)."""
        pause = 0.1
        for _ in range(120):
            if resp.status_code != 202:
                return self._outcome(resp, step)
            await asyncio.sleep(pause)
            pause = min(1.0, pause * 1.5)
            url = resp.json()["status_url"]
            operator = self.cast.token("city_operator")  # sees every command's status
            status = await self.dispatch.request("GET", url, token=operator)
            if status.status_code == 200 and status.json().get("status") != "pending":
                return "ok" if status.json()["status"] == "applied" else "rejected"
        return "pending"

    def _outcome(self, resp: httpx.Response, step: Step) -> str:
        if resp.status_code in (200, 201):
            return "ok"
        if resp.status_code in (404, 409) and resp.extensions.get(RETRIED):
            # the first attempt took effect: refused as a repeat, or (after a return) the
            # matter is out of the caller's sight
            self.stats["refused_repeat_after_5xx"] += 1
            return "ok"
        try:
            message = resp.json()["error"]["message"]
        except Exception:
            message = resp.text[:120]
        self.reasons[f"{step.action} {resp.status_code}: {message}"[:160]] += 1
        return "rejected" if resp.status_code == 409 else f"failed_{resp.status_code}"
