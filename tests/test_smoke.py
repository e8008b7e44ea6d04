from tests.conftest import CURRENT_TIME


def test_sites_are_listed(client, world):
    answer = client.get("/api/v1/sites", headers=world.headers("maker"))
    assert answer.status_code == 200
    assert {s["slug"] for s in answer.json} == {"seongsu", "mullae"}


def test_booking_a_free_slot_is_201(client, world):
    answer = client.post(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        json={
            "resource_id": world.id("printer"),
            "start": "2026-03-03T10:00:00+09:00",
            "end": "2026-03-03T12:00:00+09:00",
        },
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "confirmed"
    again = client.post(
        "/api/v1/reservations",
        headers=world.headers("other"),
        json={
            "resource_id": world.id("printer"),
            "start": "2026-03-03T11:00:00+09:00",
            "end": "2026-03-03T13:00:00+09:00",
        },
    )
    assert again.status_code == 409, again.json
    assert again.json["error"]["details"]["conflicting_reservation"]["id"] == answer.json["id"]
    assert CURRENT_TIME
