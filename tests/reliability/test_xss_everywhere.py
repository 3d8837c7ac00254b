"""Stored XSS through every text field that can reach a screen, in real Chromium.

Every intake channel (hotline, citizen app, patrol, Open311 form) is sent a payload in each
of its free-text fields (description, address, names, the patrol result), and the dispatch
API a one-click command whose text, issuer and acknowledging user are payloads. All of it
flows through the real processes (intake → Kafka → streams → Redis/Kafka → gateway) to the
city and township boards. Each payload would set ``window.__xss`` and pop a dialog if it ran;
neither happens, no element or inline handler is injected, and the text shows verbatim.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.support.system import ROOT, System
from tests.wallboard.test_browser import CHROMIUM, HAVE_CHROMIUM

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
ARTIFACTS = ROOT / "test-artifacts"
GRID = "T01-V001-G001"


def evil(field: str) -> str:
    """A payload for ``field`` (at most 100 characters: it fits every text field): a script,
    event handlers, a javascript: URL and markup breakers."""
    text = (
        f"<script>window.__xss='{field}'</script>"
        f"<img src=x onerror=alert(1)>\"'><svg onload=alert(2)>"
    )
    assert len(text) <= 100, field
    return text


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip("Debian's chromium is not installed")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM)
        yield b
        await b.close()


async def open_board(browser: Browser, system: System, token: str, hub: str) -> Page:
    """A board page with dialogs recorded in ``page.dialogs``."""
    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    dialogs: list[str] = []
    pending: set[asyncio.Future[None]] = set()

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        pending.add(asyncio.ensure_future(dialog.dismiss()))

    page.on("dialog", on_dialog)
    page.dialogs = dialogs  # type: ignore[attr-defined]
    await page.goto(f"{system.url('gateway0')}/?hub={hub}&token={token}")
    await page.wait_for_selector(f"body[data-ready='1'][data-hub='{hub}']", timeout=20000)
    return page


async def submit_everywhere(system: System, key: str) -> dict[str, str]:
    """One matter per channel with payloads in every text field; matter id → description."""
    out: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=system.url("intake"), timeout=20) as http:
        h = {"X-Api-Key": key}
        calls: list[tuple[str, dict[str, Any], str]] = [
            (
                "/v1/hotlines/12345/calls",
                {"call_id": "xss-1", "category": "TEST-DEPT", "content": evil("content"),
                 "grid": GRID, "address": evil("address"), "caller_name": evil("c_name")},
                "content",
            ),
            (
                "/v1/app/submissions",
                {"submission_id": "xss-2", "category": "TEST-DEPT", "description": evil("desc"),
                 "location": {"grid": GRID, "address": evil("loc.addr")},
                 "contact": {"name": evil("c.name"), "email": evil("email")}},
                "desc",
            ),
            (
                "/v1/patrol/reports",
                {"report_id": "xss-3", "worker_id": "w1", "grid": GRID, "category": "TEST-DEPT",
                 "found": evil("found"), "solved_on_spot": False, "address": evil("p.address")},
                "found",
            ),
        ]  # fmt: skip
        for path, body, field in calls:
            r = await http.post(path, json=body, headers=h)
            assert r.status_code == 201, r.text
            out[r.json()["matter_id"]] = evil(field)
        form = {
            "service_code": "TEST-DEPT",
            "address_id": GRID,
            "description": evil("o311.desc"),
            "address_string": evil("o311.addr"),
            "first_name": evil("first_name"),
            "api_key": key,
        }
        r = await http.post("/open311/v2/requests.json", data=form)
        assert r.status_code in (200, 201), r.text
        body = r.json()
        ident = body[0].get("service_request_id") if isinstance(body, list) else None
        if ident:
            out[ident] = evil("o311.desc")
    return out


async def injected(page: Page) -> dict[str, Any]:
    """What a successful injection would leave behind on ``page``."""
    return await page.evaluate(
        """() => ({
            xss: window.__xss === undefined ? null : String(window.__xss),
            handlers: [...document.querySelectorAll('*')].filter(e =>
                [...e.attributes].some(a => a.name.startsWith('on'))).length,
            foreign: document.querySelectorAll(
                'main img, main svg:not([class]) , iframe, object, embed, body script:not([src])'
            ).length,
        })"""
    )


async def test_no_stored_xss_anywhere(browser: Browser, system: System) -> None:
    system.start_all()
    await system.ready()
    op = await system.token("city_operator", user=evil("issued_by"))
    t01 = await system.token("township_hub", "T01", user=evil("ack_user"))
    city = await open_board(browser, system, op, "city")
    town = await open_board(browser, system, t01, "township:T01")
    before = await injected(city)

    matters = await submit_everywhere(system, await system.token("intake"))
    for mid, text in matters.items():
        card = city.locator(f"#feed [data-matter-id='{mid}'] .desc")
        await card.wait_for(timeout=30000)
        assert await card.text_content() == text  # shown verbatim, as text
        await town.locator(f"#feed [data-matter-id='{mid}']").wait_for(timeout=10000)

    async with httpx.AsyncClient(base_url=system.url("dispatch"), timeout=20) as api:
        issued = await api.post(
            "/v1/one-click",
            json={"text": evil("command"), "targets": [{"kind": "township", "code": "T01"}]},
            headers={"Authorization": f"Bearer {op}"},
        )
    assert issued.status_code == 201, issued.text
    command_id = issued.json()["command_id"]
    popup = f"#popup[data-command-id='{command_id}']:not(.hidden)"
    await town.wait_for_selector(popup, timeout=10000)
    await town.click("#popup-ack")
    chip = f"#commands [data-command-id='{command_id}'] [data-ack-target='township:T01']"
    await city.wait_for_selector(f"{chip}[data-ack-state='acked']", timeout=10000)
    shown = await city.locator(f"#commands [data-command-id='{command_id}']").text_content()
    assert evil("command") in (shown or "") and evil("issued_by") in (shown or "")
    assert evil("ack_user") in (await city.locator(chip).text_content() or "")

    await city.wait_for_timeout(1000)
    for page in (city, town):
        found = await injected(page)
        assert found["xss"] is None, found
        assert found["handlers"] == before["handlers"], found
        assert found["foreign"] == before["foreign"], found
        assert page.dialogs == []  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    await city.screenshot(path=str(ARTIFACTS / "reliability-xss-city.png"))
    await town.screenshot(path=str(ARTIFACTS / "reliability-xss-township.png"))
