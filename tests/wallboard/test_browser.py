"""The page in real Chromium (Debian's, driven by Playwright): citizen text never executes;
warnings carry Chinese (or English) labels and count down to the matter's deadline; the clock
shows the city's time whatever the browser's zone; and the whole loop — intake → streams →
gateway → board, a one-click command issued through the city board's form → township board
→ acknowledgement → city board — with the real processes. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from playwright.async_api import Browser, Page, async_playwright

from gridhub.auth import issue_token
from gridhub.kafka_admin import all_topics, delete_topics_with_prefix, ensure_topics
from gridhub.keys import RedisKeys
from gridhub.topics import Topics
from tests.conftest import ROOT
from tests.support.logs import log_warnings
from tests.wallboard.conftest import matter_delta, matter_view
from wallboard.app import Gateway

pytestmark = pytest.mark.integration
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
CITY_TZ = ZoneInfo("Asia/Shanghai")
BROWSER_TZ = "America/New_York"  # a screen set to another zone still shows the city's time
COUNTDOWN = re.compile(r"^(剩余|超期) (\d+天 )?\d+:\d\d:\d\d$")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip("Debian's chromium is not installed")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM)
        yield b
        await b.close()


async def open_board(
    browser: Browser, port: int, token: str, hub: str = "city", timezone: str | None = None
) -> Page:
    page = await browser.new_page(viewport={"width": 1920, "height": 1080}, timezone_id=timezone)
    page.on("dialog", lambda d: asyncio.ensure_future(d.dismiss()))
    await page.goto(f"http://127.0.0.1:{port}/?hub={hub}&token={token}")
    await page.wait_for_selector(f"body[data-ready='1'][data-hub='{hub}']", timeout=15000)
    return page


async def test_citizen_text_never_executes(browser: Browser, gateway: Gateway, token, publish):
    page = await open_board(browser, gateway.port, await token())
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    evil = (
        '<script>window.__xss = "script"</script>'
        "<img src=x onerror=\"window.__xss = 'img'; alert(1)\">"
        "<svg onload=\"window.__xss = 'svg'\"></svg>"
    )
    view = matter_view("M-XSS", description=evil, level="red")
    await publish(matter_delta(view))
    card = page.locator("#feed [data-matter-id='M-XSS'] .desc")
    await card.wait_for(timeout=5000)
    assert await card.text_content() == evil  # shown as text, character for character
    await page.wait_for_timeout(500)
    assert await page.evaluate("window.__xss") is None
    assert dialogs == []
    assert await page.locator("#feed img, #feed script, #feed svg, #warnings img").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "wallboard-xss.png"))


async def assert_city_clock(page: Page) -> None:
    """The board's clock shows Asia/Shanghai time (HH:MM within a minute)."""
    shown = await page.locator("#clock").text_content() or ""
    assert re.fullmatch(r"\d\d:\d\d:\d\d", shown), shown
    now = datetime.now(CITY_TZ)
    near = {(now + timedelta(minutes=d)).strftime("%H:%M") for d in (-1, 0, 1)}
    assert shown[:5] in near, (shown, sorted(near))


async def seed_warnings(redis: Any, keys: RedisKeys) -> dict[str, Any]:
    """Projections as streams/ writes them: two warned matters and alerts about three more
    that this board does not hold. Each alert's ``due_at`` is when it fired, not the deadline."""
    now = datetime.now(UTC)

    def iso(delta: timedelta) -> str:
        return (now + delta).isoformat()

    sign_due, resolve_due = iso(timedelta(minutes=10)), iso(timedelta(hours=5))
    w1 = matter_view("M-W1", description="井盖缺失，夜间危险", level="yellow")
    w1["deadlines"] = {
        "sign_for": {"due_at": sign_due, "level": "yellow"},
        "resolve": {"due_at": resolve_due, "level": "none"},
    }
    w2 = matter_view("M-W2", description="路面塌陷", due_in=timedelta(hours=3))
    w2["updated_at"] = iso(timedelta(minutes=-5))
    alerts: list[dict[str, Any]] = [
        {"id": "M-W1:sign_for:0:yellow", "matter_id": "M-W1", "level": "yellow",
         "kind": "sign_for", "target": "owner", "due_at": iso(timedelta(minutes=-2))},
        {"id": "M-W2:resolve:0:yellow", "matter_id": "M-W2", "level": "yellow",
         "kind": "resolve", "target": "owner", "due_at": iso(timedelta(minutes=-20))},
        {"id": "M-GONE1:sign_for:0:yellow", "matter_id": "M-GONE1", "level": "yellow",
         "kind": "sign_for", "target": "owner", "due_at": iso(timedelta(minutes=-1))},
        {"id": "M-GONE2:resolve:0:red", "matter_id": "M-GONE2", "level": "red",
         "kind": "resolve", "target": "supervisor", "due_at": iso(timedelta(minutes=-30))},
        {"id": "M-GONE3:report_in:ZJJ:0:escalate_2", "matter_id": "M-GONE3", "level": "escalate",
         "kind": "report_in", "department": "ZJJ", "target": "city_supervision", "step": 2,
         "due_at": iso(timedelta(hours=-1))},
    ]  # fmt: skip
    for view in (w1, w2):
        await redis.set(keys.matter(view["id"]), orjson.dumps(view))
        for kind in ("village", "township"):
            await redis.zadd(keys.hub_open(kind, view[kind]), {view["id"]: 1})
    for alert in alerts:
        alert.update(fired_at=alert["due_at"], township="T01", village="T01-V001")
        await redis.zadd(keys.warnings(), {orjson.dumps(alert): 1})
    return {"sign_due": sign_due, "w2_due": w2["deadlines"]["resolve"]["due_at"],
            "gone2_due": alerts[3]["due_at"]}  # fmt: skip


async def warning_row(page: Page, matter_id: str, source: str = "") -> dict[str, Any]:
    """The warnings-list row of ``matter_id`` (``source`` "m": the matter's own row, not a
    grid alert's about it)."""
    where = f"[data-key='{source}:{matter_id}']" if source else f"[data-matter-id='{matter_id}']"
    row = page.locator(f"#warnings li{where}")
    await row.wait_for(timeout=5000)
    countdown = row.locator(".countdown")
    return {
        "badge": await row.locator(".badge").text_content(),
        "kind": await row.locator(".wkind").text_content() if await row.locator(".wkind").count()
        else "",
        "title": await row.locator(".wtitle").text_content(),
        "due": await countdown.get_attribute("data-due"),
        "countdown": await countdown.text_content(),
        "text": await row.text_content(),
    }  # fmt: skip


async def test_warning_labels_countdown_and_city_clock(
    browser: Browser, gateway: Gateway, token, redis_client, wb_settings
):
    due = await seed_warnings(redis_client, RedisKeys(wb_settings.redis_prefix))
    page = await open_board(browser, gateway.port, await token(), timezone=BROWSER_TZ)
    await assert_city_clock(page)

    w1 = await warning_row(page, "M-W1")  # counts down to the sign-for deadline it warns about
    assert (w1["badge"], w1["kind"], w1["title"]) == ("黄色预警", "签收", "井盖缺失，夜间危险")
    assert w1["due"] == due["sign_due"] and COUNTDOWN.match(w1["countdown"] or ""), w1
    assert w1["countdown"].startswith("剩余 0:0") or w1["countdown"].startswith("剩余 0:10")
    w2 = await warning_row(page, "M-W2")  # the alert fired 20 min ago; the deadline is in 3 h
    assert (w2["badge"], w2["kind"], w2["due"]) == ("黄色预警", "办结", due["w2_due"]), w2
    assert w2["countdown"].startswith("剩余 2:5"), w2
    gone1 = await warning_row(page, "M-GONE1")  # matter not on this board: labels, no codes
    assert (gone1["badge"], gone1["kind"], gone1["title"]) == (
        "黄色预警",
        "签收",
        "事项 M-GONE1 → 承办单位",
    )
    gone2 = await warning_row(page, "M-GONE2")  # red fires at the deadline: overdue 30 min
    assert gone2["due"] == due["gone2_due"] and gone2["countdown"].startswith("超期 0:3"), gone2
    gone3 = await warning_row(page, "M-GONE3")
    assert gone3["badge"] == "升级督办 2" and gone3["kind"].startswith("报到 · "), gone3
    assert gone3["title"] == "事项 M-GONE3 → 市督办", gone3
    listed = await page.locator("#warnings").text_content() or ""
    for internal in ("sign_for", "resolve", "report_in", "owner", "supervisor", "escalate"):
        assert internal not in listed, (internal, listed)

    before, after = w1["countdown"], w1["countdown"]
    for _ in range(20):  # ticks every second (a loaded machine may run its timer late)
        await page.wait_for_timeout(250)
        after = (await warning_row(page, "M-W1"))["countdown"]
        if after != before:
            break
    assert after != before

    await page.click("#lang")
    en = await warning_row(page, "M-W1")
    assert (en["badge"], en["kind"]) == ("Yellow warning", "Sign-for"), en
    assert en["countdown"].startswith("left "), en
    assert (await warning_row(page, "M-GONE1"))["title"] == "Matter M-GONE1 → Owner"
    await assert_city_clock(page)
    await page.click("#lang")
    assert await page.locator("#status-text").text_content() == "实时"  # still live, relabelled
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "wallboard-warnings.png"))


async def test_issue_form_only_for_roles_that_may_issue(browser: Browser, gateway: Gateway, token):
    """dispatch lets city operators (and township hubs, to their villages) issue commands;
    a leader's or a supervisor's board has no form."""
    for role in ("leader", "supervisor"):
        page = await open_board(browser, gateway.port, await token(role))
        assert await page.locator("#issue-open").is_hidden(), role
        await page.close()
    page = await open_board(browser, gateway.port, await token("city_operator"))
    await page.click("#issue-open")
    values = await page.locator("#issue-targets input").evaluate_all("l => l.map(i => i.value)")
    assert {v.split(":")[0] for v in values} == {"township", "department"}, values
    assert {"township:T01", "township:T02", "department:ZJJ"} <= set(values)
    labels = await page.locator("#issue-targets").text_content() or ""
    assert "北城街道" in labels and "乡镇/街道" in labels and "职能部门" in labels
    await page.fill("#issue-text", "立即到场处置")
    await page.check("#issue-targets input[value='department:ZJJ']")
    await page.click("#issue-send")  # nothing listens at this test's dispatch URL
    error = page.locator("#issue-error:not(.hidden)")
    await error.wait_for(timeout=5000)
    assert (await error.text_content() or "").startswith("无法连接调度服务")
    assert await page.locator("#issue").is_visible()  # kept open with what was typed
    assert await page.input_value("#issue-text") == "立即到场处置"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.port}") as http:
        config = (await http.get("/config.json")).json()
        csp = (await http.get("/")).headers["content-security-policy"]
    assert config == {
        "dispatch_url": "http://127.0.0.1:9",  # the test's (unreachable) dispatch
        "dispatch_port": gateway.settings.dispatch_port,
        "timezone": "Asia/Shanghai",
    }
    assert "connect-src 'self' http://127.0.0.1:9;" in csp  # the page may call dispatch only


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def system(settings: Any, city, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The real processes: intake, the stream worker, dispatch and the gateway."""
    missing = [
        m
        for m in ("connectors/app.py", "streams/app.py", "dispatch/app.py")
        if not (ROOT / m).exists()
    ]
    if missing:
        pytest.skip(f"not in the tree yet: {', '.join(missing)}")
    ensure_topics(settings, all_topics(Topics.from_settings(settings), city))
    ports = {name: _free_port() for name in ("intake", "dispatch", "wallboard", "streams")}
    env = {
        **os.environ,
        "GRIDHUB_TOPIC_PREFIX": settings.topic_prefix,
        "GRIDHUB_REDIS_PREFIX": settings.redis_prefix,
        "GRIDHUB_CITY_FILE": str(settings.city_file),
        "GRIDHUB_INTAKE_PORT": str(ports["intake"]),
        "GRIDHUB_DISPATCH_PORT": str(ports["dispatch"]),
        "GRIDHUB_WALLBOARD_PORT": str(ports["wallboard"]),
        "GRIDHUB_STREAMS_PORT": str(ports["streams"]),
        "GRIDHUB_STREAMS_DATA_DIR": str(tmp_path / "streams"),
        "GRIDHUB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    procs = []
    for name, args in (
        ("intake", ["connectors"]),
        ("streams", ["streams", "worker"]),
        ("dispatch", ["dispatch"]),
        ("wallboard", ["wallboard"]),
    ):
        log = open(ARTIFACTS / f"e2e-{name}.log", "wb")  # noqa: SIM115
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", *args],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        yield {"ports": ports, "settings": settings}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        delete_topics_with_prefix(settings, settings.topic_prefix)
        # shown only when the test failed (captured output): the worker's warnings, among
        # them where a batch that ran too long waited (streams/stuck.py)
        print(log_warnings((ARTIFACTS / "e2e-streams.log").read_text(errors="replace"), 400))


async def _ready(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise AssertionError(f"{url} did not answer")


async def submit_call(http: httpx.AsyncClient, port: int, key: str, call: dict[str, Any]) -> str:
    """A hotline call through intake; the matter id."""
    sent = await http.post(
        f"http://127.0.0.1:{port}/v1/hotlines/12345/calls", json=call, headers={"X-Api-Key": key}
    )
    assert sent.status_code in (200, 201), sent.text
    return str(sent.json()["matter_id"])


async def issue_through_form(page: Page, text: str, target: str) -> str:
    """Issue a one-click command with the city board's form (clicking); the command id.

    First without text: dispatch refuses and the form shows its error naming the field."""
    await page.click("#issue-open")
    await page.wait_for_selector("#issue:not(.hidden)")
    await page.check(f"#issue-targets input[value='{target}']")
    await page.click("#issue-send")
    error = page.locator("#issue-error:not(.hidden)")
    await error.wait_for(timeout=5000)
    assert await error.get_attribute("data-field") == "text"
    assert (await error.text_content() or "").startswith("指令内容 · text: "), (
        await error.text_content()
    )
    await page.fill("#issue-text", text)
    await page.screenshot(path=str(ARTIFACTS / "wallboard-city-issue-form.png"))
    await page.click("#issue-send")
    await page.wait_for_selector("#issue.hidden", state="attached", timeout=5000)
    item = page.locator("#commands li.cmd").filter(
        has=page.locator(".cmd-text", has_text=re.compile(f"^{re.escape(text)}$"))
    )
    await item.wait_for(timeout=3000)
    return str(await item.get_attribute("data-command-id"))


async def test_intake_to_board_and_one_click_ack(browser: Browser, system, redis_client, city):
    ports, settings = system["ports"], system["settings"]
    keys = RedisKeys(settings.redis_prefix)
    tokens = {}
    for name, role, scope in (
        ("op", "city_operator", ""),
        ("t01", "township_hub", "T01"),
        ("intake", "intake", ""),
    ):
        tokens[name], _ = await issue_token(
            redis_client, keys, city, user=f"{name}-user", role=role, scope_code=scope
        )
    for port, path in (
        (ports["intake"], "/healthz"),
        (ports["dispatch"], "/healthz"),
        (ports["wallboard"], "/healthz"),
    ):
        await _ready(f"http://127.0.0.1:{port}{path}")
    ARTIFACTS.mkdir(exist_ok=True)
    city_page = await open_board(browser, ports["wallboard"], tokens["op"], timezone=BROWSER_TZ)
    town_page = await open_board(browser, ports["wallboard"], tokens["t01"], "township:T01")
    await assert_city_clock(city_page)
    await town_page.click("#issue-open")  # a township hub commands only its own villages
    targets = town_page.locator("#issue-targets input")
    assert await targets.count() > 0
    assert await town_page.locator("#issue-targets input:not([value^='village:T01-'])").count() == 0
    await town_page.click("#issue-cancel")

    # a matter through intake appears on the city board within a second
    async with httpx.AsyncClient() as http:
        for attempt in range(40):  # the stream worker may still be joining its group
            call = {
                "call_id": f"e2e-{attempt}",
                "category": "LIV-HEATING",
                "content": "暖气不热，室温只有十二度",
                "grid": "T01-V001-G001",
                "caller_phone": "13800000000",
            }
            matter_id = await submit_call(http, ports["intake"], tokens["intake"], call)
            accepted = time.perf_counter()
            try:
                await city_page.wait_for_selector(
                    f"#feed [data-matter-id='{matter_id}']", timeout=1000
                )
                latency = time.perf_counter() - accepted
                break
            except Exception:
                continue  # warming up: the first ones may take longer; try a fresh matter
        else:
            raise AssertionError("no matter reached the city board within 1 s")
        assert latency < 1.0
        # a matter whose 4 s sign-for and 8 s resolve clocks warn while the test runs
        fast = {**call, "call_id": "e2e-fast", "category": "TEST-FAST", "content": "测试时限预警"}
        fast_id = await submit_call(http, ports["intake"], tokens["intake"], fast)
    await town_page.wait_for_selector(f"#feed [data-matter-id='{matter_id}']", timeout=2000)

    # a one-click command issued with the city board's form pops up on the township board,
    # is acknowledged there and shows as acknowledged on the city board
    text = "立即组织排查供热管网"
    command_id = await issue_through_form(city_page, text, "township:T01")
    await town_page.wait_for_selector(
        f"#popup[data-command-id='{command_id}']:not(.hidden)", timeout=3000
    )
    assert await town_page.locator("#popup-text").text_content() == text
    chip = f"#commands [data-command-id='{command_id}'] [data-ack-target='township:T01']"
    await city_page.wait_for_selector(f"{chip}[data-ack-state='pending']", timeout=3000)
    await town_page.screenshot(path=str(ARTIFACTS / "wallboard-township-command.png"))
    await town_page.click("#popup-ack")
    await city_page.wait_for_selector(f"{chip}[data-ack-state='acked']", timeout=3000)
    assert "township:T01" not in await one_click_pending(
        ports["dispatch"], tokens["op"], command_id
    )
    await town_page.wait_for_selector("#popup.hidden", state="attached", timeout=3000)

    # the fast matter's warning: Chinese labels, counting down to (past) its own deadline
    row = city_page.locator(f"#warnings li[data-key='m:{fast_id}']")
    await row.locator(".countdown[data-due]").wait_for(timeout=15000)
    shown = await warning_row(city_page, fast_id, "m")
    assert shown["badge"] in ("黄色预警", "红色超期") or shown["badge"].startswith("升级督办")
    assert shown["kind"] in ("签收", "办结"), shown
    assert COUNTDOWN.match(shown["countdown"] or ""), shown
    view = await get_matter(ports["dispatch"], tokens["op"], fast_id)
    kind = await row.get_attribute("data-kind")
    assert kind and shown["due"] == view["deadlines"][kind]["due_at"], (kind, shown, view)
    await assert_city_clock(city_page)
    await city_page.screenshot(path=str(ARTIFACTS / "wallboard-city.png"))
    await town_page.screenshot(path=str(ARTIFACTS / "wallboard-township.png"))


async def one_click_pending(port: int, token: str, command_id: str) -> list[str]:
    async with httpx.AsyncClient() as http:
        r = await http.get(
            f"http://127.0.0.1:{port}/v1/one-click/{command_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200, r.text
    return list(r.json()["pending"])


async def get_matter(port: int, token: str, matter_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        r = await http.get(
            f"http://127.0.0.1:{port}/v1/matters/{matter_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200, r.text
    return dict(r.json())
