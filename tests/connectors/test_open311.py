"""Open311 GeoReport v2 endpoints in JSON and XML, status from intake then the projection."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from gridhub.keys import RedisKeys
from gridhub.settings import Settings
from tests.connectors.conftest import body_of, headers_of, intake_records

pytestmark = pytest.mark.integration
BASE = "/open311/v2"
FORM = {
    "service_code": "LIV-HEATING",
    "lat": "44.4196",
    "long": "126.9603",
    "address_string": "光明社区 5号楼",
    "description": "楼道暖气片不热 & <i>漏水</i>",
    "media_url": "https://img.example.org/p.jpg",
    "email": "citizen@example.org",
    "first_name": "Zhang",
    "last_name": "San",
    "phone": "13700000000",
}


async def post(
    client: httpx.AsyncClient, api_key: str, fmt: str = "json", **extra: str
) -> httpx.Response:
    public = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with public:
        return await public.post(
            f"{BASE}/requests.{fmt}", data={**FORM, **extra, "api_key": api_key}
        )


async def test_services_json_and_xml(client: httpx.AsyncClient) -> None:
    services = body_of(await client.get(f"{BASE}/services.json"))
    codes = {s["service_code"] for s in services}
    assert "LIV-HEATING" in codes
    heating = next(s for s in services if s["service_code"] == "LIV-HEATING")
    assert heating["metadata"] is False and heating["type"] == "realtime"
    xml = await client.get(f"{BASE}/services.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services"
    assert {s.findtext("service_code") for s in root.findall("service")} == codes
    definition = body_of(await client.get(f"{BASE}/services/LIV-HEATING.json"))
    assert definition == {"service_code": "LIV-HEATING", "attributes": []}
    missing = await client.get(f"{BASE}/services/NOPE.json")
    assert missing.status_code == 404 and body_of(missing)[0]["field"] == "service_code"


async def test_post_and_read_back(
    client: httpx.AsyncClient, api_key: str, settings: Settings
) -> None:
    response = await post(client, api_key)
    assert response.status_code == 201, response.text
    [created] = body_of(response)
    rid = created["service_request_id"]
    assert created["token"] == rid

    [(record, event)] = intake_records(settings, 1)
    assert headers_of(record)["ce_source"] == "/intake/open311"
    data = event.data
    assert data["category"] == "LIV-HEATING" and data["grid"] == "T01-V001-G002"
    assert data["attachments"] == ["https://img.example.org/p.jpg"]
    assert data["reporter"] == {
        "name": "Zhang San",
        "phone": "13700000000",
        "email": "citizen@example.org",
    }

    [got] = body_of(await client.get(f"{BASE}/requests/{rid}.json"))
    assert got["service_request_id"] == rid and got["status"] == "open"
    assert got["description"] == FORM["description"]
    assert got["lat"] == 44.4196 and got["long"] == 126.9603
    assert got["media_url"] == FORM["media_url"] and got["address_id"] == "T01-V001-G002"
    assert "email" not in got and "13700000000" not in orjson.dumps(got).decode()

    xml = ET.fromstring((await client.get(f"{BASE}/requests/{rid}.xml")).content)
    assert xml.findtext("request/service_request_id") == rid
    assert xml.findtext("request/description") == FORM["description"]  # escaped, not markup
    token = body_of(await client.get(f"{BASE}/tokens/{rid}.json"))
    assert token == [{"service_request_id": rid, "token": rid}]

    again = await post(client, api_key)
    assert again.status_code == 200 and body_of(again)[0]["service_request_id"] == rid


async def test_post_xml_and_list_filters(client: httpx.AsyncClient, api_key: str) -> None:
    created = await post(client, api_key, fmt="xml", service_code="SOC-PUBLIC")
    assert created.status_code == 201
    rid = ET.fromstring(created.content).findtext("request/service_request_id")
    await post(client, api_key)

    everything = body_of(await client.get(f"{BASE}/requests.json"))
    assert len(everything) == 2
    only = body_of(await client.get(f"{BASE}/requests.json", params={"service_code": "SOC-PUBLIC"}))
    assert [r["service_request_id"] for r in only] == [rid]
    assert body_of(await client.get(f"{BASE}/requests.json", params={"status": "closed"})) == []
    by_id = body_of(await client.get(f"{BASE}/requests.json", params={"service_request_id": rid}))
    assert [r["service_request_id"] for r in by_id] == [rid]
    old = body_of(
        await client.get(
            f"{BASE}/requests.json",
            params={"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-02-01T00:00:00Z"},
        )
    )
    assert old == []
    bad = await client.get(f"{BASE}/requests.json", params={"start_date": "yesterday"})
    assert bad.status_code == 400 and body_of(bad)[0]["field"] == "start_date"
    wide = await client.get(
        f"{BASE}/requests.json",
        params={"start_date": "2020-01-01T00:00:00Z", "end_date": "2021-01-01T00:00:00Z"},
    )
    assert wide.status_code == 400 and body_of(wide)[0]["field"] == "end_date"
    xml = ET.fromstring((await client.get(f"{BASE}/requests.xml")).content)
    assert xml.tag == "service_requests" and len(xml.findall("request")) == 2


async def test_status_comes_from_the_projection(
    client: httpx.AsyncClient, api_key: str, settings: Settings, redis_client: aioredis.Redis
) -> None:
    rid = body_of(await post(client, api_key))[0]["service_request_id"]
    view = {
        "id": rid,
        "state": "resolved",
        "owner": {"kind": "department", "code": "ZJJ"},
        "deadlines": {"resolve": {"due_at": "2030-01-08T09:00:00+00:00", "level": "none"}},
        "updated_at": "2030-01-02T10:00:00+00:00",
    }
    await redis_client.set(RedisKeys(settings.redis_prefix).matter(rid), orjson.dumps(view))
    [got] = body_of(await client.get(f"{BASE}/requests/{rid}.json"))
    assert got["status"] == "closed" and got["status_notes"].startswith("resolved")
    assert got["agency_responsible"] == "住房和城乡建设局"
    assert got["expected_datetime"] == "2030-01-08T09:00:00+00:00"
    assert got["updated_datetime"] == "2030-01-02T10:00:00+00:00"
    closed = body_of(await client.get(f"{BASE}/requests.json", params={"status": "closed"}))
    assert [r["service_request_id"] for r in closed] == [rid]


async def test_post_needs_api_key_and_hides_internal_channels(
    client: httpx.AsyncClient, api_key: str
) -> None:
    async with httpx.AsyncClient(transport=client._transport, base_url="http://x") as public:
        anon = await public.post(f"{BASE}/requests.json", data=FORM)
        assert anon.status_code == 401 and body_of(anon)[0]["field"] == "api_key"
        wrong = await public.post(f"{BASE}/requests.xml", data={**FORM, "api_key": "ghk_nope"})
        assert wrong.status_code == 401
        assert ET.fromstring(wrong.content).tag == "errors"
    hotline = await client.post(
        "/v1/hotlines/12345/calls",
        json={"call_id": "H1", "category": "LIV-HEATING", "content": "x", "grid": "T01-V001-G001"},
    )
    mid = body_of(hotline)["matter_id"]
    assert (await client.get(f"{BASE}/requests/{mid}.json")).status_code == 404
