"""The staff's machine pages: list, one machine (chart data, bookings, runs, commands),
maintenance blackouts and switching by hand, on the pages and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from service.models import (
    Blackout,
    Device,
    ReservationStatus,
)
from service.rules.availability import free_intervals
from service.rules.commands import CommandSpec, create_commands
from service.rules.maintenance import create_blackout
from telemetry.sqlstore import SqlTelemetryStore
from telemetry.store import Point
from tests.conftest import CURRENT_TIME
from tests.factories import make_reservation, make_run, principal_of, seoul
from tests.pages import csrf_token, login

LASER = "/ops/machines/seongsu/laser-1"
SQLITE = pytest.mark.sqlite_only


def as_staff(client, who: str = "operator") -> None:
    """Log in as `who`, reading the pages in English."""
    emails = {"mullae_operator": "mullae@example.com"}
    login(client, emails.get(who, f"{who}@example.com"))
    token = csrf_token(client, "/ops/machines" if who != "maker" else "/me/reservations")
    client.post("/language", data={"locale": "en", "next": "/", "csrf_token": token})


# -- rendering (SQLite only) -------------------------------------------------------------


@SQLITE
def test_the_list_shows_the_operators_site_only(client, world):
    as_staff(client)
    page = client.get("/ops/machines").get_data(as_text=True)
    assert LASER in page
    assert "/ops/machines/seongsu/meeting-1" in page
    assert "lathe-1" not in page


@SQLITE
def test_an_admin_sees_every_site(client, world):
    as_staff(client, "admin")
    page = client.get("/ops/machines").get_data(as_text=True)
    assert LASER in page and "/ops/machines/mullae/lathe-1" in page


@SQLITE
def test_another_sites_operator_is_refused_and_unknown_is_404(client, world):
    as_staff(client, "mullae_operator")
    assert client.get(LASER).status_code == 403
    assert client.get("/ops/machines/seongsu/nothing").status_code == 404


@SQLITE
def test_the_machine_page_lists_bookings_with_names_runs_and_commands(
    client, session, world, devices
):
    make_reservation(
        session,
        world,
        "maker",
        "laser",
        "2026-03-02 09:00",
        "2026-03-02 10:00",
        ReservationStatus.active,
    )
    make_reservation(
        session,
        world,
        "other",
        "laser",
        "2026-03-02 13:00",
        "2026-03-02 14:00",
        ReservationStatus.confirmed,
    )
    make_run(session, world, "laser", "2026-03-01 14:00", 5400, who="maker", energy_wh=2500.0)
    device = session.exec(select(Device).where(Device.slug == "laser-1")).one()
    create_commands(
        session=session,
        now=CURRENT_TIME,
        specs=[
            CommandSpec(
                key="enable:test",
                device_id=device.id,
                resource_id=world.id("laser"),
                action="enable",
                due_at=CURRENT_TIME,
            )
        ],
    )
    session.commit()
    as_staff(client)
    answer = client.get(LASER)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "maker@example.com" in page and "other@example.com" in page
    assert "2026-03-02 13:00 KST" in page  # booking times in the site's zone
    assert "<td>90</td>" in page and "2.50" in page  # minutes and kWh of the run
    assert "Waiting to be sent" in page
    assert "Switch on" in page


@SQLITE
def test_without_telemetry_the_page_says_so_and_offers_no_chart(client, world):
    as_staff(client)
    page = client.get(LASER).get_data(as_text=True)
    assert "No telemetry received yet." in page
    assert 'id="chart"' not in page


@pytest.fixture
def power(engine, world) -> None:
    """A day of the laser's power, one sample every 10 minutes up to now."""
    store = SqlTelemetryStore(engine)
    start = CURRENT_TIME - timedelta(hours=24)
    store.write(
        [
            Point(
                "seongsu",
                "laser-1",
                "machine",
                start + timedelta(minutes=10 * i),
                {"power_w": float(i), "temp_c": 20.0},
            )
            for i in range(144)
        ]
    )
    store.close()


@SQLITE
def test_the_chart_reads_the_same_history_as_the_api(client, world, power):
    as_staff(client)
    page = client.get(LASER + "?field=power_w").get_data(as_text=True)
    assert 'id="chart"' in page
    assert '<option value="temp_c"' in page
    assert '<th scope="row">power_w</th><td>143.0</td>' in page  # the latest value table
    query = "?field=power_w&from=2026-03-01T00:00:00%2B00:00&to=2026-03-02T00:00:00%2B00:00"
    mine = client.get(LASER + "/telemetry" + query + "&every=1h")
    api = client.get(
        f"/api/v1/resources/{world.id('laser')}/telemetry" + query + "&every=1h",
        headers=world.headers("operator"),
    )
    assert mine.status_code == 200, mine.json
    assert mine.json == api.json
    assert len(mine.json["points"]) == 24


@SQLITE
def test_the_chart_data_refuses_bad_queries_as_json(client, world, power):
    as_staff(client)
    answer = client.get(LASER + "/telemetry?field=power_w&every=nonsense")
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "validation_error"
    as_staff(client, "mullae_operator")
    assert client.get(LASER + "/telemetry?field=power_w").status_code == 403


@SQLITE
def test_a_chosen_range_is_read_in_the_sites_zone(client, world, power):
    as_staff(client)
    page = client.get(LASER + "?field=power_w&from=2026-03-01T09:00&to=2026-03-01T21:00")
    text = page.get_data(as_text=True)
    # 09:00 in Seoul is midnight UTC.
    assert "from=2026-03-01T09:00:00%2B09:00" in text
    assert "to=2026-03-01T21:00:00%2B09:00" in text


# -- blackouts and switching through the pages -----------------------------------------------


def post(client, path: str, **form):
    return client.post(path, data={"csrf_token": csrf_token(client, LASER), **form})


@SQLITE
def test_planning_maintenance_on_the_page_closes_those_slots(client, session, world):
    as_staff(client)
    answer = post(
        client,
        LASER + "/blackouts",
        start="2026-03-03T10:00",
        end="2026-03-03T12:00",
        reason="lens cleaning",
    )
    assert answer.status_code == 302
    page = client.get(LASER).get_data(as_text=True)
    assert "Maintenance planned" in page and "lens cleaning" in page
    free = free_intervals(
        session=session,
        resource=world.resources["laser"],
        site=world.sites["seongsu"],
        start=seoul("2026-03-03 09:00"),
        end=seoul("2026-03-03 14:00"),
        now=CURRENT_TIME,
    )
    assert [(f.start, f.end) for f in free] == [
        (seoul("2026-03-03 09:00"), seoul("2026-03-03 10:00")),
        (seoul("2026-03-03 12:00"), seoul("2026-03-03 14:00")),
    ]


@SQLITE
def test_maintenance_without_a_reason_is_refused_on_the_page(client, session, world):
    as_staff(client)
    answer = post(client, LASER + "/blackouts", start="2026-03-03T10:00", end="2026-03-03T12:00")
    assert answer.status_code == 422
    assert "Write the reason" in answer.get_data(as_text=True)
    assert session.exec(select(Blackout)).all() == []


@SQLITE
def test_switching_by_hand_queues_a_command_shown_in_the_list(
    client, session, world, registered_devices
):
    as_staff(client)
    answer = post(client, LASER + "/switch", action="disable", reason="smoke from the bed")
    assert answer.status_code == 302
    page = client.get(LASER).get_data(as_text=True)
    assert "will be switched off" in page
    assert "By hand: smoke from the bed" in page


@SQLITE
def test_switching_a_machine_without_a_device_is_refused(client, world):
    as_staff(client)
    answer = post(client, LASER + "/switch", action="enable", reason="test")
    assert answer.status_code == 422
    assert "no device" in answer.get_data(as_text=True)


@SQLITE
def test_a_maker_cannot_post_to_the_machine_page(client, session, world):
    as_staff(client, "maker")
    token = csrf_token(client, "/me/reservations")
    answer = client.post(
        LASER + "/blackouts",
        data={
            "csrf_token": token,
            "start": "2026-03-03T10:00",
            "end": "2026-03-03T12:00",
            "reason": "x",
        },
    )
    assert answer.status_code == 403
    assert session.exec(select(Blackout)).all() == []


@SQLITE
def test_maintenance_over_a_booking_names_the_booking_to_sort_out(client, session, world):
    make_reservation(
        session,
        world,
        "other",
        "laser",
        "2026-03-03 10:30",
        "2026-03-03 11:30",
        ReservationStatus.confirmed,
    )
    session.commit()
    as_staff(client)
    post(
        client,
        LASER + "/blackouts",
        start="2026-03-03T10:00",
        end="2026-03-03T12:00",
        reason="lens cleaning",
    )
    page = client.get(LASER).get_data(as_text=True)
    assert "1 booking(s) fall in this time" in page
    card = page[page.index('id="blackout-') :]
    card = card[: card.index("Plan maintenance")]
    assert "1 booking falls in this time and stays booked" in card
    assert "2026-03-03 10:30 KST</time>–11:30" in card and "other@example.com" in card


@SQLITE
def test_the_list_says_which_are_online_and_which_are_closed_now(
    client, session, world, registered_devices
):
    create_blackout(
        session=session,
        now=CURRENT_TIME,
        actor=principal_of(session, world, "operator"),
        resource_id=world.id("cnc"),
        start=CURRENT_TIME - timedelta(hours=1),
        end=CURRENT_TIME + timedelta(hours=1),
        reason="belt",
    )
    session.commit()
    as_staff(client)
    page = client.get("/ops/machines").get_data(as_text=True)
    cnc = page[page.index('id="machine-cnc-1"') :]
    cnc = cnc[: cnc.index("</li>")]
    laser = page[page.index('id="machine-laser-1"') :]
    laser = laser[: laser.index("</li>")]
    assert "Offline" in cnc and "Closed for maintenance now" in cnc
    assert "Closed for maintenance now" not in laser


@SQLITE
def test_ending_maintenance_early_on_the_page_opens_the_machine_again(client, session, world):
    running = create_blackout(
        session=session,
        now=CURRENT_TIME,
        actor=principal_of(session, world, "operator"),
        resource_id=world.id("laser"),
        start=CURRENT_TIME - timedelta(hours=1),
        end=CURRENT_TIME + timedelta(hours=4),
        reason="repair",
    )
    session.commit()
    as_staff(client)
    assert "End now" in client.get(LASER).get_data(as_text=True)
    answer = post(client, f"{LASER}/blackouts/{running.id}/end")
    assert answer.status_code == 302
    assert "Maintenance ended" in client.get(LASER).get_data(as_text=True)
    session.expire_all()
    assert session.get(Blackout, running.id).end_at == CURRENT_TIME
    again = post(client, f"{LASER}/blackouts/{running.id}/end")
    assert again.status_code == 422
    assert "over already" in again.get_data(as_text=True)
