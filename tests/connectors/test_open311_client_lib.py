"""Third-party Open311 clients from PyPI talk real HTTP to the intake service.

``civicbot`` (its GeoReport v2 client: services, POST, read back, tokens) and ``georeport``
(reads only; it has no POST) in both JSON and XML.
"""

from __future__ import annotations

import pytest
from civicbot.http import HttpTransport, RateLimiter
from civicbot.open311 import CONFIRM_TOKEN, Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport

from connectors.app import create_app
from connectors.config import IntakeConfig
from gridhub.settings import Settings
from gridhub.topics import Topics
from tests.connectors.conftest import intake_records
from tests.support.uvicorn_thread import serve

pytestmark = pytest.mark.integration


def test_open311_client_libraries_round_trip(
    settings: Settings, topics: Topics, api_key: str
) -> None:
    app = create_app(settings, IntakeConfig(rate_limit=1000))
    with serve(app) as base_url:
        root = f"{base_url}/open311/v2"
        endpoint = Endpoint(id="gridhub-test", name="gridhub", base_url=root, write=True)
        client = Open311Client(endpoint, HttpTransport(rate_limiter=RateLimiter(0.0)))

        services = client.list_services()
        assert "LIV-HEATING" in {s["service_code"] for s in services}

        sent = client.create_request(
            "LIV-HEATING",
            dry_run=False,
            confirm=CONFIRM_TOKEN,
            api_key=api_key,
            validate_remote=True,
            lat=44.4181,
            lng=126.9581,
            address_string="光明社区第一网格 2号楼",
            description="暖气不热 <b>急</b>",
            media_url="https://img.example.org/x.jpg",
            email="a@example.org",
            first_name="Li",
            last_name="Si",
        )
        [created] = sent.response
        rid = created["service_request_id"]

        got = client.get_request(rid)
        assert got is not None
        assert got["service_request_id"] == rid and got["status"] == "open"
        assert got["service_code"] == "LIV-HEATING"
        assert got["description"] == "暖气不热 <b>急</b>"
        assert "email" not in got
        listed = client.list_requests(service_code="LIV-HEATING", status="open")
        assert rid in {r["service_request_id"] for r in listed}
        assert client.get_token(rid) == [{"service_request_id": rid, "token": rid}]

        json_reader = GeoReport(root)
        assert {s["service_code"] for s in json_reader.get_service_list()} == {
            s["service_code"] for s in services
        }
        assert json_reader.get_service_request(rid)["service_request_id"] == rid
        xml_reader = GeoReport(root, output_format="xml")
        xml_services = xml_reader.get_service_list()
        assert "LIV-HEATING" in {s["service_code"] for s in xml_services}
        assert xml_reader.get_service_definition("LIV-HEATING")["service_code"] == "LIV-HEATING"
        xml_request = xml_reader.get_service_request(rid)
        assert xml_request["service_request_id"] == rid
        assert xml_request["description"] == "暖气不热 <b>急</b>"

    [(_, event)] = intake_records(settings, 1)
    assert event.subject == rid and event.data["source"] == "open311"
    assert event.data["grid"] == "T01-V001-G001"
