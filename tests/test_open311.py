"""Open311 GeoReport v2 at /open311/v2/: read with a GeoReport client from PyPI (georeport, in
both formats) and with raw HTTP; a partner's request round-trips (POST, then GET by id and by
token, the OPD and SLA deadline once assigned); the specification's errors and status codes;
nothing personal, no tracking number, nothing outside the caller's view."""

import asyncio
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
from georeport import GeoReport

from kilas.auth.caller import Role
from kilas.auth.key_admin import create_key
from kilas.domain import workflow
from kilas.domain.clock import SystemClock
from tests.wire import RunningServer, gql, token

REPORTER = "Budi Santoso"
PHONE = "6281233344455"
# Semarang, a few hundred metres from Simpang Lima.
PLACE = {"lat": "-6.9902", "long": "110.4229"}


def client(server: RunningServer, fmt: str = "json") -> GeoReport:
    return GeoReport(f"{server.base_url}/open311/v2", output_format=fmt)


async def partner(conn: asyncpg.Connection, region: str | None = None) -> str:
    key, _ = await create_key(
        conn,
        name="Aplikasi mitra",
        role=Role.PARTNER,
        opd_slug=None,
        region_code=region,
        expires_at=None,
        now=SystemClock().now(),
    )
    return key


async def post(server: RunningServer, form: dict[str, str], fmt: str = "json") -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False) as http:
        return await http.post(f"{server.base_url}/open311/v2/requests.{fmt}", data=form)


async def get(server: RunningServer, path: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False) as http:
        return await http.get(f"{server.base_url}/open311/v2/{path}", params=params)


async def test_a_partner_request_round_trips_through_a_georeport_client(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        key = await partner(conn)
    form = {
        "api_key": key,
        "service_code": "JALAN",
        "description": "Jalan berlubang dalam di depan pasar, sudah dua motor jatuh",
        "first_name": "Budi",
        "last_name": "Santoso",
        "phone": PHONE,
        "media_url": "https://example.org/foto/lubang.jpg",
        **PLACE,
    }
    answer = await post(server, form)
    assert answer.status_code == 200, answer.text
    (created,) = answer.json()
    request_id, request_token = created["service_request_id"], created["token"]
    assert created["service_notice"] and created["account_id"] is None

    json_client, xml_client = client(server), client(server, "xml")
    fetched = await asyncio.to_thread(json_client.get_service_request, request_id)
    assert fetched["status"] == "open" and fetched["service_code"] == "JALAN"
    assert fetched["description"] == form["description"]
    assert fetched["lat"] == pytest.approx(-6.9902) and fetched["address"] == "Semarang"
    assert fetched["media_url"] == form["media_url"]
    assert fetched["agency_responsible"] is None and fetched["expected_datetime"] is None
    as_xml = await asyncio.to_thread(xml_client.get_service_request, request_id)
    assert as_xml["service_request_id"] == request_id and as_xml["status"] == "open"
    assert as_xml["description"] == form["description"]

    by_token = await get(server, f"tokens/{request_token}.json")
    assert by_token.json() == [{"token": request_token, "service_request_id": request_id}]

    # The command center assigns it: the OPD and the SLA deadline appear.
    assign = """mutation ($id: ID!) { assignComplaint(input: {complaintId: $id}) {
        complaint { opd { name } resolutionDueAt } errors { code } } }"""
    assigned = await gql(server.http_url, assign, {"id": request_id}, token=token("OPERATOR"))
    complaint = assigned["data"]["assignComplaint"]["complaint"]
    fetched = await asyncio.to_thread(json_client.get_service_request, request_id)
    assert fetched["agency_responsible"] == complaint["opd"]["name"]
    due = datetime.fromisoformat(complaint["resolutionDueAt"]).replace(microsecond=0)
    assert datetime.fromisoformat(fetched["expected_datetime"]) == due
    assert fetched["status_notes"] and fetched["status"] == "open"

    every = [await get(server, f"requests/{request_id}.{f}") for f in ("json", "xml")]
    every += [await get(server, "requests.json"), await get(server, "requests.xml")]
    for response in every:
        assert REPORTER not in response.text and PHONE not in response.text
        assert "Budi" not in response.text
    async with pool.acquire() as conn:
        number = await conn.fetchval("SELECT tracking_number FROM complaints")
    assert all(number not in r.text for r in every)


async def test_services_and_discovery_in_both_formats(server: RunningServer) -> None:
    services = await asyncio.to_thread(client(server).get_service_list)
    codes = {s["service_code"] for s in services}
    assert "JALAN" in codes and all(s["type"] == "realtime" for s in services)
    assert all(s["metadata"] is False for s in services)
    as_xml = await asyncio.to_thread(client(server, "xml").get_service_list)
    assert {s["service_code"] for s in as_xml} == codes
    definition = await asyncio.to_thread(client(server).get_service_definition, "JALAN")
    assert definition == {"service_code": "JALAN", "attributes": []}
    discovery = await get(server, "discovery.json")
    (endpoint,) = discovery.json()["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/")
    root = ET.fromstring((await get(server, "discovery.xml")).content)
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["application/json", "text/xml"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_errors_have_the_specifications_format_and_status(
    server: RunningServer, fmt: str
) -> None:
    missing = await get(server, f"services/NOPE.{fmt}")
    assert missing.status_code == 404
    unknown_request = await get(server, f"requests/Q29tcGxhaW50Ojk5OTk5.{fmt}")
    assert unknown_request.status_code == 404
    bad_id = await get(server, f"requests/not-an-id.{fmt}")
    assert bad_id.status_code == 400
    for response in (missing, unknown_request, bad_id):
        if fmt == "json":
            (error,) = response.json()
        else:
            root = ET.fromstring(response.content)
            assert root.tag == "errors"
            error = {child.tag: child.text for child in root.find("error") or []}
            error["code"] = int(error["code"])
        assert error["code"] == response.status_code and error["description"]
    other_format = await get(server, "services.csv")
    assert other_format.status_code == 404


async def test_a_bad_or_unauthorised_post_is_refused_and_stores_nothing(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        key = await partner(conn)
    good = {"api_key": key, "service_code": "JALAN", "description": "Lampu mati", **PLACE}
    cases: list[tuple[dict[str, str], int, str]] = [
        ({k: v for k, v in good.items() if k != "api_key"}, 403, "PARTNER"),
        ({**good, "api_key": "kls_notakey_at_all"}, 403, "api_key"),
        ({**good, "api_key": token("OPERATOR")}, 403, "PARTNER"),
        ({**good, "service_code": ""}, 400, "service_code"),
        ({**good, "service_code": "NOPE"}, 400, "NOPE"),
        ({**good, "description": " "}, 400, "description"),
        ({k: v for k, v in good.items() if k not in ("lat", "long")}, 400, "location"),
        ({**good, "lat": "1.29", "long": "103.85"}, 400, "Central Java"),
        ({**good, "lat": "north"}, 400, "decimal degrees"),
        ({**good, "lat": "95"}, 400, "-90 to 90"),
        ({**good, "description": "x" * 10_000}, 400, "text"),
    ]
    for form, status, says in cases:
        answer = await post(server, form)
        assert answer.status_code == status, (form, answer.text)
        assert says in answer.json()[0]["description"], answer.text
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM complaints") == 0
    without_place = {k: v for k, v in good.items() if k not in ("lat", "long")}
    by_address = await post(server, {**without_place, "address_string": "Jl. Pemuda, Semarang"})
    assert by_address.status_code == 200, by_address.text
    fetched = await get(server, f"requests/{by_address.json()[0]['service_request_id']}.json")
    assert fetched.json()[0]["address"] == "Semarang"


async def submitted(conn: asyncpg.Connection, region: str, **more: Any) -> int:
    outcome = await workflow.submit(
        conn,
        workflow.Submission(
            channel="WEB",
            text=f"Keluhan di {region}",
            region_code=region,
            category_code=more.pop("category", "JALAN"),
            reporter_name=REPORTER,
            **more,
        ),
        actor="test",
    )
    return outcome.complaint.id


async def test_requests_filter_as_the_specification_says_within_the_callers_view(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        scoped = await partner(conn, region="33.74")
        semarang = await submitted(conn, "33.74")
        await submitted(conn, "33.02")
        await submitted(conn, "33.74", confidential=True)
        closed = await submitted(conn, "33.74", category="KESEHATAN")
        step = workflow.CommandContext(actor="jwt:operator")
        spam = workflow.RejectionReason.SPAM
        await workflow.reject(conn, closed, step, reason=spam, note=None, duplicate_of_id=None)

    async def ids(**params: str) -> list[str]:
        answer = await get(server, "requests.json", **params)
        assert answer.status_code == 200, answer.text
        return [r["service_request_id"] for r in answer.json()]

    from kilas.schema.ids import to_global_id

    every = await ids()
    assert len(every) == 3, "the public never sees the confidential one"
    assert to_global_id("Complaint", semarang) in every
    assert await ids(status="closed") == [to_global_id("Complaint", closed)]
    assert len(await ids(status="open")) == 2
    assert len(await ids(status="open,closed")) == 3
    assert await ids(service_code="KESEHATAN") == [to_global_id("Complaint", closed)]
    assert len(await ids(api_key=scoped)) == 2
    assert await ids(start_date="2000-01-01T00:00:00Z", end_date="2000-02-01T00:00:00Z") == []
    listed = await ids(service_request_id=f"{to_global_id('Complaint', semarang)}")
    assert listed == [to_global_id("Complaint", semarang)]
    for params, says in [
        ({"status": "pending"}, "open or closed"),
        ({"start_date": "yesterday"}, "W3C"),
        ({"start_date": "2026-01-01T00:00:00"}, "offset"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "before"),
        ({"service_request_id": "x,y"}, "service_request_id"),
    ]:
        answer = await get(server, "requests.json", **params)
        assert answer.status_code == 400 and says in answer.json()[0]["description"], params


async def test_an_api_key_in_the_query_string_stays_out_of_the_access_log() -> None:
    from starlette.requests import Request

    from kilas.partners.open311 import _params

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/open311/v2/requests.json",
        "query_string": b"status=open&api_key=kls_secret&service_code=JALAN",
        "headers": [],
    }
    params = await _params(Request(scope))
    assert params["api_key"] == "kls_secret" and params["status"] == "open"
    # uvicorn's access log writes the path and query string from this same scope.
    assert scope["query_string"] == b"status=open&service_code=JALAN"
