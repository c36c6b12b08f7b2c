"""The address routes: suggestions for what a call taker typed, the address at a map click, who
may ask, and what is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.service.auth import Role
from tests.api.conftest import login
from tests.conftest import add_user


def test_a_dispatcher_finds_a_street_with_its_district_first(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    response = client.get("/api/geocode", params={"q": "哈尔滨市南岗区红军街", "limit": 3}, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert 1 <= len(results) <= 3
    top = results[0]
    assert (top["label"], top["kind"], top["district"], top["score"]) == ("红军街", "street", "南岗区", 100.0)
    assert 45.6 < top["lat"] < 45.9 and 126.5 < top["lon"] < 126.8
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_an_intersection_typed_in_either_order_is_one_point(client: TestClient) -> None:
    headers = login(client, "u0")  # an officer may geocode too
    a = client.get("/api/geocode", params={"q": "红军街与邮政街交口"}, headers=headers).json()["results"][0]
    b = client.get("/api/geocode", params={"q": "邮政街和红军街"}, headers=headers).json()["results"][0]
    assert a["kind"] == "crossing" and (a["lat"], a["lon"]) == (b["lat"], b["lon"])


def test_reverse_names_the_street_and_district_of_a_map_click(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    top = client.get("/api/geocode", params={"q": "南岗区红军街"}, headers=headers).json()["results"][0]
    response = client.get(
        "/api/geocode/reverse", params={"lat": top["lat"], "lon": top["lon"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["district"] == "南岗区"
    assert body["street"]["distance_m"] < 5
    assert body["label"].startswith("南岗区")


def test_reverse_far_from_the_city_is_empty_not_an_error(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    body = client.get("/api/geocode/reverse", params={"lat": 10.0, "lon": 10.0}, headers=headers).json()
    assert body == {
        "label": "",
        "district": "",
        "subdistrict": "",
        "address": None,
        "crossing": None,
        "street": None,
    }


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/geocode", {"q": ""}),
        ("/api/geocode", {"q": "红" * 101}),
        ("/api/geocode", {"q": "红军街", "limit": 0}),
        ("/api/geocode", {"q": "红军街", "limit": 21}),
        ("/api/geocode", {}),
        ("/api/geocode/reverse", {"lat": 91, "lon": 126.6}),
        ("/api/geocode/reverse", {"lat": 45.7, "lon": 181}),
        ("/api/geocode/reverse", {"lat": "north", "lon": 126.6}),
        ("/api/geocode/reverse", {"lat": 45.7}),
    ],
)
def test_bad_input_is_refused_with_a_clear_422(
    client: TestClient, path: str, params: dict[str, object]
) -> None:
    response = client.get(path, params=params, headers=login(client, "dispatcher"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]


def test_a_blank_query_is_refused_by_the_service(client: TestClient) -> None:
    response = client.get("/api/geocode", params={"q": "   "}, headers=login(client, "dispatcher"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "empty_query"


def test_residents_and_strangers_may_not_geocode(client: TestClient, services: Services) -> None:
    add_user(services, "resident", Role.RESIDENT)
    assert client.get("/api/geocode", params={"q": "红军街"}).status_code == 401
    refused = client.get("/api/geocode", params={"q": "红军街"}, headers=login(client, "resident"))
    assert refused.status_code == 403
    refused = client.get(
        "/api/geocode/reverse", params={"lat": 45.75, "lon": 126.64}, headers=login(client, "resident")
    )
    assert refused.status_code == 403
