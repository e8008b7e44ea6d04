"""Free intervals of a resource, and that what is shown free is what may be booked."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from service.errors import DomainError
from service.rules.booking import Target, check_booking
from service.rules.intervals import Interval
from tests.conftest import CURRENT_TIME
from tests.factories import SEOUL, book, make_blackout, make_training, refused, seoul


def free(
    client, world, resource: str, start: str | datetime, end: str | datetime
) -> list[Interval]:
    """The free intervals the API shows for `resource`; text times are Seoul wall-clock."""
    start, end = (seoul(t) if isinstance(t, str) else t for t in (start, end))
    answer = client.get(
        f"/api/v1/resources/{world.id(resource)}/availability",
        headers=world.headers("maker"),
        query_string={"from": start.isoformat(), "to": end.isoformat()},
    )
    assert answer.status_code == 200, answer.json
    return [
        Interval(datetime.fromisoformat(f["start"]), datetime.fromisoformat(f["end"]))
        for f in answer.json["free"]
    ]


def spans(*pairs: tuple[str, str]) -> list[Interval]:
    return [Interval(seoul(a), seoul(b)) for a, b in pairs]


def test_an_empty_open_day_is_free_from_opening_to_closing(client, world):
    found = free(client, world, "laser", "2026-03-03 00:00", "2026-03-04 00:00")
    assert found == spans(("2026-03-03 09:00", "2026-03-03 21:00"))


def test_a_week_shows_six_open_days_and_no_sunday(client, world):
    found = free(client, world, "printer", "2026-03-03 00:00", "2026-03-10 00:00")
    assert [iv.start.astimezone(SEOUL).day for iv in found] == [3, 4, 5, 6, 7, 9]
    assert all(iv.end - iv.start == timedelta(hours=12) for iv in found)


def test_availability_answer_names_the_time_zone_and_slot_size(client, world):
    answer = client.get(
        f"/api/v1/resources/{world.id('printer')}/availability",
        headers=world.headers("maker"),
        query_string={
            "from": seoul("2026-03-03 00:00").isoformat(),
            "to": seoul("2026-03-04 00:00").isoformat(),
        },
    )
    assert answer.status_code == 200, answer.json
    assert (answer.json["timezone"], answer.json["slot_minutes"]) == ("Asia/Seoul", 60)


def test_a_booking_and_its_buffer_are_not_free(client, world):
    made = book(client, world, "maker", "cnc", "2026-03-03 10:00", "2026-03-03 11:00")
    assert made.status_code == 201, made.json
    found = free(client, world, "cnc", "2026-03-03 00:00", "2026-03-04 00:00")
    assert found == spans(
        ("2026-03-03 09:00", "2026-03-03 09:30"), ("2026-03-03 11:30", "2026-03-03 21:00")
    )


def test_free_time_snaps_to_the_slot_grid(client, world, session):
    # The buffer ends at 11:15 and a maintenance window at 14:10: neither is a slot boundary.
    made = book(client, world, "maker", "cnc", "2026-03-03 10:00", "2026-03-03 11:00")
    assert made.status_code == 201, made.json
    make_blackout(
        session,
        world.sites["seongsu"],
        seoul("2026-03-03 13:20"),
        seoul("2026-03-03 14:10"),
        resource=world.resources["cnc"],
    )
    found = free(client, world, "cnc", "2026-03-03 00:00", "2026-03-04 00:00")
    assert found == spans(
        ("2026-03-03 09:00", "2026-03-03 09:30"),
        ("2026-03-03 11:30", "2026-03-03 13:00"),
        ("2026-03-03 14:30", "2026-03-03 21:00"),
    )


def test_gap_too_short_for_a_booking_is_not_shown_free(client, world):
    # Buffers leave 11:15-11:45 between these two: no 30-minute slot fits.
    for start, end in (("10:00", "11:00"), ("12:00", "12:30")):
        made = book(client, world, "maker", "cnc", f"2026-03-03 {start}", f"2026-03-03 {end}")
        assert made.status_code == 201, made.json
    found = free(client, world, "cnc", "2026-03-03 11:00", "2026-03-03 13:00")
    assert found == []


def test_site_and_resource_blackouts_are_not_free(client, world, session):
    site = world.sites["seongsu"]
    make_blackout(session, site, seoul("2026-03-03 12:00"), seoul("2026-03-03 13:00"))
    make_blackout(
        session,
        site,
        seoul("2026-03-03 15:00"),
        seoul("2026-03-03 17:00"),
        resource=world.resources["laser"],
    )
    laser = free(client, world, "laser", "2026-03-03 00:00", "2026-03-04 00:00")
    assert laser == spans(
        ("2026-03-03 09:00", "2026-03-03 12:00"),
        ("2026-03-03 13:00", "2026-03-03 15:00"),
        ("2026-03-03 17:00", "2026-03-03 21:00"),
    )
    printer = free(client, world, "printer", "2026-03-03 00:00", "2026-03-04 00:00")
    assert printer == spans(
        ("2026-03-03 09:00", "2026-03-03 12:00"), ("2026-03-03 13:00", "2026-03-03 21:00")
    )


def test_pending_bookings_are_not_free_and_cancelled_ones_are(client, world):
    pending = book(client, world, "maker", "embroidery", "2026-03-03 10:00", "2026-03-03 11:00")
    assert pending.json["status"] == "pending"
    found = free(client, world, "embroidery", "2026-03-03 09:00", "2026-03-03 12:00")
    assert found == spans(
        ("2026-03-03 09:00", "2026-03-03 10:00"), ("2026-03-03 11:00", "2026-03-03 12:00")
    )
    cancelled = client.delete(
        f"/api/v1/reservations/{pending.json['id']}", headers=world.headers("maker")
    )
    assert cancelled.status_code == 200, cancelled.json
    found = free(client, world, "embroidery", "2026-03-03 09:00", "2026-03-03 12:00")
    assert found == spans(("2026-03-03 09:00", "2026-03-03 12:00"))


def test_free_time_starts_no_earlier_than_now(client, world):
    found = free(client, world, "printer", "2026-02-27 00:00", "2026-03-03 00:00")
    assert found == spans(("2026-03-02 09:00", "2026-03-02 21:00"))


def test_free_time_starts_no_earlier_than_the_lead_time(client, world, session):
    world.resources["cnc"].lead_minutes = 150
    session.add(world.resources["cnc"])
    session.commit()
    found = free(client, world, "cnc", "2026-03-02 00:00", "2026-03-03 00:00")
    assert found == spans(("2026-03-02 11:30", "2026-03-02 21:00"))


def test_free_time_ends_at_the_furthest_day_ahead(client, world):
    # Sixty days ahead of Monday 2 March 09:00 is Friday 1 May 09:00, the opening time.
    found = free(client, world, "printer", "2026-04-30 00:00", "2026-05-03 00:00")
    assert found == spans(("2026-04-30 09:00", "2026-04-30 21:00"))


def test_availability_with_to_before_from_is_422_invalid_range(client, world):
    answer = client.get(
        f"/api/v1/resources/{world.id('printer')}/availability",
        headers=world.headers("maker"),
        query_string={
            "from": seoul("2026-03-04 00:00").isoformat(),
            "to": seoul("2026-03-03 00:00").isoformat(),
        },
    )
    refused(answer, 422, "invalid_range")


def test_availability_of_an_unknown_resource_is_404(client, world):
    answer = client.get(
        "/api/v1/resources/999999/availability",
        headers=world.headers("maker"),
        query_string={
            "from": seoul("2026-03-03 00:00").isoformat(),
            "to": seoul("2026-03-04 00:00").isoformat(),
        },
    )
    refused(answer, 404, "not_found")


# --- what is shown free is exactly what may be booked ----------------------------------

# Each layout: the resource, the day looked at, bookings held by another maker and
# blackouts (None: site-wide, else the resource's own), as Seoul wall-clock times.
LAYOUTS = {
    "empty laser day": ("laser", "2026-03-03", [], []),
    "cnc with buffers": (
        "cnc",
        "2026-03-03",
        [("10:00", "11:00"), ("12:00", "12:30"), ("13:30", "15:00")],
        [],
    ),
    "printer with an off-grid holiday": (
        "printer",
        "2026-03-03",
        [("09:00", "11:00"), ("16:00", "18:00")],
        [("13:10", "14:40", None)],
    ),
    "laser with off-grid maintenance": (
        "laser",
        "2026-03-03",
        [("15:00", "16:00")],
        [("11:10", "12:20", "laser"), ("19:45", "23:00", None)],
    ),
    "room on a busy day": (
        "room",
        "2026-03-04",
        [("09:00", "10:00"), ("12:00", "15:00"), ("20:00", "21:00")],
        [("17:00", "18:00", None)],
    ),
    "cnc this morning": ("cnc", "2026-03-02", [("09:30", "10:00"), ("11:00", "13:00")], []),
    "sunday": ("printer", "2026-03-08", [], []),
}


def candidate_slots(day: datetime, slot: int, min_minutes: int) -> list[Interval]:
    """Every on-grid slot of the day lasting the minimum or one step more."""
    step = timedelta(minutes=slot)
    found = []
    for n in range(24 * 60 // slot):
        start = day + n * step
        for length in (min_minutes, min_minutes + slot):
            end = start + timedelta(minutes=length)
            if end <= day + timedelta(days=1):
                found.append(Interval(start, end))
    return found


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_slot_shown_free_can_be_booked_and_every_other_is_refused(
    client, world, session, engine, layout
):
    name, day_text, bookings, blackouts = LAYOUTS[layout]
    resource, site = world.resources[name], world.sites["seongsu"]
    make_training(session, world.accounts["other"], "laser_cutter")
    session.commit()
    for start, end in bookings:
        made = book(client, world, "other", name, f"{day_text} {start}", f"{day_text} {end}")
        assert made.status_code == 201, made.json
    for start, end, only in blackouts:
        make_blackout(
            session,
            site,
            seoul(f"{day_text} {start}"),
            seoul(f"{day_text} {end}"),
            resource=world.resources[only] if only else None,
        )
    day = seoul(f"{day_text} 00:00")
    shown = free(client, world, name, day, day + timedelta(days=1))

    # The domain check, over every on-grid slot of the day.
    target = Target(resource, site, world.id("maker"))
    wrong = []
    with Session(engine) as fresh:
        for slot in candidate_slots(day, resource.slot_minutes, resource.min_minutes):
            try:
                check_booking(
                    session=fresh, now=CURRENT_TIME, target=target, start=slot.start, end=slot.end
                )
                bookable = True
            except DomainError:
                bookable = False
            if bookable != any(iv.contains(*slot) for iv in shown):
                wrong.append((slot.start.isoformat(), slot.end.isoformat(), bookable))
    assert wrong == []

    # And through the API: the first slot of each free interval is booked (then let go),
    # and a slot reaching just past each free interval is refused.
    length = timedelta(minutes=resource.min_minutes)
    for iv in shown:
        made = client.post(
            "/api/v1/reservations",
            headers=world.headers("maker"),
            json={
                "resource_id": resource.id,
                "start": iv.start.isoformat(),
                "end": (iv.start + length).isoformat(),
            },
        )
        assert made.status_code == 201, (iv, made.json)
        gone = client.delete(
            f"/api/v1/reservations/{made.json['id']}", headers=world.headers("maker")
        )
        assert gone.status_code == 200, gone.json
        past_end = client.post(
            "/api/v1/reservations",
            headers=world.headers("maker"),
            json={
                "resource_id": resource.id,
                "start": (iv.end - length + timedelta(minutes=resource.slot_minutes)).isoformat(),
                "end": (iv.end + timedelta(minutes=resource.slot_minutes)).isoformat(),
            },
        )
        assert past_end.status_code in (409, 422), (iv, past_end.json)
        assert past_end.json["error"]["code"] in {
            "conflict",
            "blackout",
            "outside_opening_hours",
            "too_far_ahead",
        }


def test_availability_of_every_resource_matches_each_resources_own(client, world):
    booked = client.post(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        json={
            "resource_id": world.id("cnc"),
            "start": "2026-03-03T10:00:00+09:00",
            "end": "2026-03-03T11:00:00+09:00",
        },
    )
    assert booked.status_code == 201
    window = {"from": "2026-03-02T00:00:00+00:00", "to": "2026-03-09T00:00:00+00:00"}
    every = client.get(
        "/api/v1/availability",
        query_string={**window, "site": "seongsu"},
        headers=world.headers("maker"),
    )
    assert every.status_code == 200
    assert {a["resource_id"] for a in every.json} == {
        world.id(n) for n in ("laser", "cnc", "printer", "embroidery", "room")
    }
    for entry in every.json:
        own = client.get(
            f"/api/v1/resources/{entry['resource_id']}/availability",
            query_string=window,
            headers=world.headers("maker"),
        )
        assert own.json["free"] == entry["free"]
