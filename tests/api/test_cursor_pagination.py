"""Cursor mode of the family list: same rows, same order as the page numbers, no COUNT(*)."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_family


def test_cursor_walk_lists_the_same_families_as_pages(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    for i in range(7):
        make_family(case_manager, family_name=f"F{i}", opened_on=datetime.date(2025, 1, 1 + i % 3))
    paged = [f["id"] for f in api.get("/api/v1/families/", {"page_size": 50}).json()["results"]]
    walked: list[str] = []
    response = api.get("/api/v1/families/", {"cursor": "", "page_size": 3})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert "count" not in body and set(body) == {"next", "previous", "results"}
        walked += [f["id"] for f in body["results"]]
        if body["next"] is None:
            break
        response = api.get(body["next"])
    assert walked == paged and len(walked) == 7


def test_cursor_mode_makes_no_count_query(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(case_manager)
    with CaptureQueriesContext(connection) as ctx:
        assert api.get("/api/v1/families/", {"cursor": ""}).status_code == 200
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    with CaptureQueriesContext(connection) as ctx:
        assert api.get("/api/v1/families/").status_code == 200
    assert [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]


def test_bad_cursor_is_a_json_4xx_never_a_500(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(case_manager)
    # base64 is decoded leniently (characters outside the alphabet are dropped: "%%%" is the
    # first page); what does not decode to a cursor is DRF's 404 "Invalid cursor".
    assert api.get("/api/v1/families/", {"cursor": "bz0tMQ=="}).status_code == 404  # o=-1
    for bad in ("zzz", "%%%", "bz0tMQ==", "cD0=", "cD14eXo=", "cj0y", "\u00e9", "a" * 5000):
        response = api.get("/api/v1/families/", {"cursor": bad})
        assert response.status_code in (200, 400, 404), (bad, response.status_code)
        assert response["Content-Type"].startswith("application/json")


def test_schema_documents_cursor_mode(api) -> None:  # type: ignore[no-untyped-def]
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    params = {p["name"] for p in schema["paths"]["/api/v1/families/"]["get"]["parameters"]}
    assert {"cursor", "page", "page_size"} <= params
    envelope = schema["components"]["schemas"]["PaginatedFamilyOutputList"]
    assert "count" not in envelope["required"]
