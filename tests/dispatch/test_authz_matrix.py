"""The authorization matrix: every role × every authenticated endpoint × in-scope and
out-of-scope principals, asserting allow or deny (403/404, never data).

"allow" means the request passed authentication, role and scope: a 2xx (commands answer 202
here because no stream processor applies them). The rules below are the API's contract,
written out independently of the code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from tests.dispatch.conftest import PRINCIPALS, Call
from tests.dispatch.seed import make_view, put_view

pytestmark = pytest.mark.integration

CITY = {"city_operator", "supervisor", "leader", "auditor"}
HUBS = {"township_hub", "village_hub"}
STAFF = CITY | HUBS | {"department", "grid_worker"}
OWNERS = HUBS | {"department", "city_operator", "leader"}
CITY_NAMES = {"operator", "supervisor", "leader", "auditor"}
#: principals that can see matter M1 (grid T01-V001-G001, held by department ZJJ)
SEES_M1 = CITY_NAMES | {"township", "village", "dept", "worker"}
SECRET = "desc-楼道暖气不热-secret"
CONTACT_PHONE = "13812345678"


@dataclass
class Case:
    method: str
    path: str
    roles: set[str]
    visible: set[str] = field(default_factory=lambda: set(SEES_M1))
    forbid: set[str] = field(default_factory=set)  # in scope but refused (403)
    body: Any = None
    before: Callable[[aioredis.Redis, RedisKeys], Any] | None = None

    def expect(self, name: str) -> int | str:
        role = PRINCIPALS[name][0]
        if role not in self.roles:
            return 403
        if name not in self.visible:
            return 404
        if name in self.forbid:
            return 403
        return "allow"


async def _hook(redis: aioredis.Redis, keys: RedisKeys) -> None:
    await redis.set(keys.webhook("ZJJ"), orjson.dumps({"url": "https://x.example/h"}))


M = "/v1/matters/M1"
ONE_CLICK = {"text": "到场", "targets": [{"kind": "village", "code": "T01-V001"}]}
CASES: list[Case] = [
    Case("GET", "/v1/matters", CITY, CITY_NAMES),
    Case("GET", M, STAFF),
    Case("GET", f"{M}/timeline", STAFF),
    Case(
        "GET",
        f"{M}/contact",
        STAFF,
        forbid={"supervisor", "leader", "township", "village", "worker"},
    ),
    Case("GET", f"{M}/rating-link", OWNERS, forbid={"township", "village", "leader"}),
    Case("POST", f"{M}/sign-for", OWNERS),
    Case("POST", f"{M}/report-in", {"department"}, body={}),
    Case("POST", f"{M}/progress", OWNERS | {"grid_worker"}, body={"note": "进展"}),
    Case("POST", f"{M}/resolve", OWNERS, body={"result": "已办结"}),
    Case(
        "POST",
        f"{M}/return",
        {"department", "township_hub", "village_hub", "leader"},
        body={"reason": "非本部门职责"},
    ),
    Case(
        "POST",
        f"{M}/extension-request",
        OWNERS,
        body={"reason": "需要采购", "proposed_due": "2031-01-01T00:00:00+08:00"},
    ),
    Case("POST", f"{M}/report-up", OWNERS, body={"reason": "无法解决"}),
    Case("POST", f"{M}/whistle", {"township_hub", "city_operator"}, body={"departments": ["GAJ"]}),
    Case(
        "POST",
        f"{M}/extension-decision",
        {"township_hub", "village_hub", "supervisor", "leader", "city_operator"},
        body={"approve": True},
    ),
    Case(
        "POST",
        f"{M}/assign",
        {"city_operator", "township_hub"},
        body={"owner": {"kind": "village", "code": "T01-V001"}},
    ),
    Case("POST", f"{M}/forward", {"city_operator"}, body={"departments": ["ZJJ", "GAJ"]}),
    Case("POST", f"{M}/urge", {"city_operator", "supervisor", "leader", "township_hub"}, body={}),
    Case("POST", f"{M}/supervise", {"city_operator", "supervisor", "leader"}, body={}),
    Case("POST", f"{M}/escalate", {"city_operator", "supervisor", "leader"}, body={}),
    Case("POST", f"{M}/merge", {"city_operator"}, body={"into": "M2"}),
    Case("POST", f"{M}/close", {"city_operator", "supervisor"}, body={}),
    Case("POST", f"{M}/reopen", {"city_operator", "supervisor", "leader"}, body={"reason": "复查"}),
    Case("GET", "/v1/departments/ZJJ/queue", CITY | {"department"}, CITY_NAMES | {"dept"}),
    Case("GET", "/v1/hubs/township/T01/open", CITY | HUBS, CITY_NAMES | {"township"}),
    Case(
        "GET", "/v1/hubs/village/T01-V001/open", CITY | HUBS, CITY_NAMES | {"township", "village"}
    ),
    Case(
        "GET",
        "/v1/warnings",
        CITY | HUBS,
        CITY_NAMES | {"township", "township_out", "village", "village_out"},
    ),
    Case(
        "GET",
        "/v1/overdue",
        CITY | HUBS,
        CITY_NAMES | {"township", "township_out", "village", "village_out"},
    ),
    Case(
        "GET",
        "/v1/reports/kpis?month=2025-03&dimension=township",
        CITY | {"township_hub"},
        CITY_NAMES | {"township", "township_out"},
    ),
    Case(
        "GET",
        "/v1/reports/kpis?month=2025-03&dimension=department",
        CITY | {"department"},
        CITY_NAMES | {"dept", "dept_out"},
    ),
    Case("GET", "/v1/reports/notice?month=2025-03", CITY, CITY_NAMES),
    Case(
        "POST",
        "/v1/one-click",
        {"city_operator", "township_hub"},
        {"operator", "township", "township_out"},
        forbid={"township_out"},
        body=ONE_CLICK,
    ),
    Case(
        "GET",
        "/v1/one-click",
        CITY | HUBS | {"department"},
        CITY_NAMES | {"township", "township_out", "village", "village_out", "dept", "dept_out"},
    ),
    Case(
        "GET", "/v1/one-click/ocM", CITY | HUBS | {"department"}, CITY_NAMES | {"township", "dept"}
    ),
    Case(
        "POST",
        "/v1/one-click/ocM/ack",
        HUBS | {"department", "city_operator"},
        {"operator", "township", "dept"},
        body={"target": {"kind": "township", "code": "T01"}},
    ),
    Case("GET", "/v1/commands/cM", STAFF, CITY_NAMES | {"dept"}),
    Case(
        "PUT",
        "/v1/departments/ZJJ/webhook",
        {"department", "city_operator"},
        {"operator", "dept"},
        body={"url": "https://dept.example/hook"},
    ),
    Case(
        "GET",
        "/v1/departments/ZJJ/webhook",
        {"department", "city_operator", "supervisor", "auditor"},
        CITY_NAMES | {"dept"},
        before=_hook,
    ),
    Case(
        "GET",
        "/v1/departments/ZJJ/webhook/deliveries",
        {"department", "city_operator", "supervisor", "auditor"},
        CITY_NAMES | {"dept"},
    ),
    Case(
        "DELETE",
        "/v1/departments/ZJJ/webhook",
        {"department", "city_operator"},
        {"operator", "dept"},
        before=_hook,
    ),
]


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """No wait for streams/: every allowed command answers 202 at once."""
    return settings.model_copy(update={"command_wait_seconds": 0, "dispatch_webhooks": False})


@pytest.fixture
async def world(redis_client: aioredis.Redis, keys: RedisKeys) -> None:
    await put_view(redis_client, keys, make_view("M1", state="signed_for", description=SECRET))
    await put_view(redis_client, keys, make_view("M2", state="assigned"))
    await redis_client.set(keys.contact("M1"), orjson.dumps({"phone": CONTACT_PHONE}))
    one_click = {
        "command_id": "ocM",
        "text": "到场",
        "issued_at": "2025-03-10T08:00:00+00:00",
        "ack_due_at": "2099-01-01T00:00:00+00:00",
        "matter_id": "M1",
        "issued_by": {
            "user": "u-operator",
            "role": "city_operator",
            "scope_kind": "city",
            "scope_code": "",
        },
        "targets": [{"kind": "township", "code": "T01"}, {"kind": "department", "code": "ZJJ"}],
    }
    await redis_client.set(keys.one_click("ocM"), orjson.dumps(one_click))
    await redis_client.hset(
        keys.command_pending("cM"),
        mapping={
            "command_id": "cM",
            "matter_id": "M1",
            "type": "sign_for",
            "user": "u-dept",
            "role": "department",
            "scope_kind": "department",
            "scope_code": "ZJJ",
        },
    )


async def test_every_role_on_every_endpoint(
    call: Call, world: None, redis_client: aioredis.Redis, keys: RedisKeys
) -> None:
    mismatches = []
    checked = 0
    for case in CASES:
        for name in PRINCIPALS:
            if case.before is not None:
                await case.before(redis_client, keys)
            kwargs = {"json": case.body} if case.body is not None else {}
            r = await call(name, case.method, case.path, **kwargs)
            want = case.expect(name)
            ok = 200 <= r.status_code < 300 if want == "allow" else r.status_code == want
            if want != "allow":
                leaked = SECRET in r.text or CONTACT_PHONE in r.text
                ok = ok and not leaked and r.json()["error"]["code"] in ("forbidden", "not_found")
            if not ok:
                mismatches.append(
                    f"{name:13} {case.method:6} {case.path}: want {want}, "
                    f"got {r.status_code} {r.text[:120]}"
                )
            checked += 1
    assert not mismatches, "\n".join(mismatches)
    assert checked == len(CASES) * len(PRINCIPALS)


async def test_every_endpoint_needs_a_token(call: Call, world: None) -> None:
    for case in CASES:
        kwargs = {"json": case.body} if case.body is not None else {}
        r = await call(None, case.method, case.path, **kwargs)
        assert r.status_code == 401, (case.method, case.path)


def test_matrix_covers_every_authenticated_operation() -> None:
    from dispatch.app import create_app

    doc = create_app().openapi()
    public = {("GET", "/v1/ratings/{token}"), ("POST", "/v1/ratings/{token}"), ("GET", "/healthz")}
    ops = {(m.upper(), p) for p, item in doc["paths"].items() for m in item} - public
    import re

    def template(path: str) -> str:
        path = path.split("?")[0]
        path = re.sub(r"^/v1/matters/M1", "/v1/matters/{matter_id}", path)
        path = re.sub(r"/v1/departments/ZJJ", "/v1/departments/{code}", path)
        path = re.sub(r"/v1/hubs/(township|village)/[^/]+", "/v1/hubs/{kind}/{code}", path)
        path = path.replace("/one-click/ocM", "/one-click/{command_id}")
        return path.replace("/v1/commands/cM", "/v1/commands/{command_id}")

    covered = {(c.method, template(c.path)) for c in CASES}
    assert ops - covered == set()
