"""Load shedding (connectors/shedding.py): POSTs are refused with 503 + Retry-After while the
oldest one in progress is older than the limit; GETs never are."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors.shedding import LoadShedder

release = asyncio.Event()


async def slow(request: Request) -> PlainTextResponse:
    await release.wait()
    return PlainTextResponse("ok", status_code=201)


async def read(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def test_sheds_posts_while_behind_and_recovers() -> None:
    app = Starlette(routes=[Route("/s", slow, methods=["POST"]), Route("/r", read)])
    shedder = LoadShedder(app, shed_after=0.2, retry_after=3)
    transport = httpx.ASGITransport(app=shedder)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        stuck = asyncio.create_task(http.post("/s", content=b"x"))
        await asyncio.sleep(0.05)
        ok_early = shedder.behind()
        await asyncio.sleep(0.3)
        refused = await http.post("/s", content=b"y" * 1000)
        assert (await http.get("/r")).status_code == 200  # reads are never shed
        release.set()
        assert (await stuck).status_code == 201
        again = await http.post("/s", content=b"z")
    assert not ok_early
    assert refused.status_code == 503 and refused.headers["retry-after"] == "3"
    assert refused.json()["error"]["code"] == "overloaded"
    assert again.status_code == 201 and shedder.shed == 1
