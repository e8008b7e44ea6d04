"""The utilisation report, checked against a small world worked out by hand.

The world (tests/factories.build_world): Seongsu has four machines (laser, cnc, printer,
embroidery) and a meeting room; Mullae has a lathe. Both are open 09:00-21:00 Monday to
Saturday, so every resource is open 12 hours a day.

The period is Monday 2026-02-16 and Tuesday 2026-02-17 (Seoul), by day; the report is
read at Tuesday 16:00. The laser is in maintenance Tuesday 09:00-13:00 (open 8 hours).

Reservations (booked hours per day):
  R1 laser      Mon 10-12   completed            Mon 2
  R2 cnc        Mon 13-14   no_show              Mon 1   (started, a no-show)
  R3 printer    Tue 10-13   completed            Tue 3
  R4 lathe      Mon 09-11   completed            Mon 2   (Mullae)
  R5 laser      Tue 14-15   cancelled            -       (not booked, not started)
  R6 room       Tue 15-17   confirmed            Tue 2   (started 15:00, before 16:00)
  R7 cnc        Tue 18-19   confirmed            Tue 1   (not yet started at 16:00)
  R8 laser      Mon 23 - Tue 01  completed       Mon 1, Tue 1 (cut at midnight)
  R9 laser      Sun 23 - Mon 01  completed       Mon 1   (began before the period: not started)
Usage sessions (run seconds, energy):
  U1 laser      Mon 10:05  6000 s  1500 Wh
  U2 lathe      Mon 09:10  3600 s  2000 Wh
  U3 printer    Tue 10:00  7200 s   800 Wh
  U4 laser      Mon 23:30  3600 s  1000 Wh   half (1800 s, 500 Wh) on each day
  U5 laser      Sun 10:00  3600 s   900 Wh   before the period: not counted
  U6 laser      Sun 23:30  3600 s   600 Wh   its second half (1800 s, 300 Wh) on Monday
"""

from __future__ import annotations

import csv
import io

import pytest

from service.errors import Forbidden, RuleViolation
from service.models import ReservationStatus
from service.rules.accounts import Principal
from service.rules.reports import utilisation
from tests.factories import SEOUL, make_blackout, make_reservation, make_run, seoul

START, END = seoul("2026-02-16 00:00"), seoul("2026-02-18 00:00")
NOW = seoul("2026-02-17 16:00")
S = ReservationStatus


@pytest.fixture
def history(session, world) -> None:
    make_blackout(
        session,
        world.sites["seongsu"],
        seoul("2026-02-17 09:00"),
        seoul("2026-02-17 13:00"),
        resource=world.resources["laser"],
    )
    r1 = make_reservation(session, world, "maker", "laser", "2026-02-16 10:00", "2026-02-16 12:00")
    make_reservation(
        session, world, "maker", "cnc", "2026-02-16 13:00", "2026-02-16 14:00", S.no_show
    )
    make_reservation(session, world, "other", "printer", "2026-02-17 10:00", "2026-02-17 13:00")
    make_reservation(session, world, "maker", "lathe", "2026-02-16 09:00", "2026-02-16 11:00")
    make_reservation(
        session, world, "maker", "laser", "2026-02-17 14:00", "2026-02-17 15:00", S.cancelled
    )
    make_reservation(
        session, world, "maker", "room", "2026-02-17 15:00", "2026-02-17 17:00", S.confirmed
    )
    make_reservation(
        session, world, "maker", "cnc", "2026-02-17 18:00", "2026-02-17 19:00", S.confirmed
    )
    make_reservation(session, world, "maker", "laser", "2026-02-16 23:00", "2026-02-17 01:00")
    make_reservation(session, world, "maker", "laser", "2026-02-15 23:00", "2026-02-16 01:00")
    make_run(session, world, "laser", "2026-02-16 10:05", 6000, "maker", r1, energy_wh=1500.0)
    make_run(session, world, "lathe", "2026-02-16 09:10", 3600, "maker", energy_wh=2000.0)
    make_run(session, world, "printer", "2026-02-17 10:00", 7200, "other", energy_wh=800.0)
    make_run(session, world, "laser", "2026-02-16 23:30", 3600, energy_wh=1000.0)
    make_run(session, world, "laser", "2026-02-15 10:00", 3600, energy_wh=900.0)
    make_run(session, world, "laser", "2026-02-15 23:30", 3600, energy_wh=600.0)
    session.commit()


ADMIN = Principal(id=1, admin=True)


def report(session, group, actor=ADMIN, every="day"):
    return utilisation(
        session=session,
        now=NOW,
        actor=actor,
        group=group,
        every=every,
        start=START,
        end=END,
        zone=SEOUL,
    )


def figures(line):
    """(open, booked, run hours, started, no-shows, kWh) per day, then for the period."""
    return [
        (f.open_hours, f.booked_hours, f.run_hours, f.started, f.no_shows, f.energy_kwh)
        for f in (*line.per_bucket, line.total)
    ]


def test_buckets_are_the_two_local_days(session, history):
    found = report(session, "site")
    assert [(b.start, b.end) for b in found.buckets] == [
        (START, seoul("2026-02-17 00:00")),
        (seoul("2026-02-17 00:00"), END),
    ]


def test_by_site_every_figure_matches_the_hand_count(session, world, history):
    lines = {line.key: line for line in report(session, "site").lines}
    seongsu = lines[str(world.sites["seongsu"].id)]
    mullae = lines[str(world.sites["mullae"].id)]
    assert seongsu.name == "성수 광역센터"
    # Seongsu Mon: open 5 x 12 = 60 h; booked R1 2 + R2 1 + R8 1 + R9 1 = 5 h; run U1 6000 s
    # + half of U4 1800 s + half of U6 1800 s = 9600 s = 2.67 h; started R1, R2, R8 = 3, one
    # no-show; 1500 + 500 + 300 Wh = 2.3 kWh.
    # Seongsu Tue: open 60 - 4 (laser maintenance) = 56 h; booked R8 1 + R3 3 + R6 2 + R7 1 =
    # 7 h; run 1800 + 7200 = 9000 s = 2.5 h; started R3, R6 = 2; 500 + 800 Wh = 1.3 kWh.
    # Period: 116 h open, 12 booked, 18600 s = 5.17 h run, 5 started, 1 no-show, 3.6 kWh.
    assert figures(seongsu) == [
        (60.0, 5.0, 2.67, 3, 1, 2.3),
        (56.0, 7.0, 2.5, 2, 0, 1.3),
        (116.0, 12.0, 5.17, 5, 1, 3.6),
    ]
    # 12 / 116 = 0.10345; 18600 s / 43200 s = 0.43056; 1 / 5 = 0.2
    assert seongsu.total.booked_ratio == 0.1034
    assert seongsu.total.run_ratio == 0.4306
    assert seongsu.total.no_show_rate == 0.2
    # Mullae: the lathe, 12 h a day; R4 2 h, U2 3600 s and 2000 Wh on Monday.
    assert figures(mullae) == [
        (12.0, 2.0, 1.0, 1, 0, 2.0),
        (12.0, 0.0, 0.0, 0, 0, 0.0),
        (24.0, 2.0, 1.0, 1, 0, 2.0),
    ]
    # 2 / 24 = 0.08333; 1 h run of 2 h booked; no no-show in one start; Tuesday has no
    # booking to divide by.
    assert (mullae.total.booked_ratio, mullae.total.run_ratio) == (0.0833, 0.5)
    assert mullae.total.no_show_rate == 0.0
    assert mullae.per_bucket[1].run_ratio is None
    assert mullae.per_bucket[1].no_show_rate is None


def test_by_kind_machines_and_rooms(session, history):
    lines = {line.key: line for line in report(session, "kind").lines}
    # Machines Mon: 5 machines x 12 = 60 h open; booked R1 2 + R2 1 + R4 2 + R8 1 + R9 1 =
    # 7 h; run 6000 + 3600 + 1800 + 1800 = 13200 s = 3.67 h; started R1, R2, R4, R8;
    # 1500 + 2000 + 500 + 300 Wh.
    # Machines Tue: 60 - 4 = 56 h; booked R8 1 + R3 3 + R7 1 = 5 h; run 1800 + 7200 = 2.5 h;
    # started R3; 500 + 800 Wh.
    assert figures(lines["machine"]) == [
        (60.0, 7.0, 3.67, 4, 1, 4.3),
        (56.0, 5.0, 2.5, 1, 0, 1.3),
        (116.0, 12.0, 6.17, 5, 1, 5.6),
    ]
    # The room: 12 h a day; R6 2 h on Tuesday, started; no machine runs in a room.
    assert figures(lines["room"]) == [
        (12.0, 0.0, 0.0, 0, 0, 0.0),
        (12.0, 2.0, 0.0, 1, 0, 0.0),
        (24.0, 2.0, 0.0, 1, 0, 0.0),
    ]


def test_by_resource_the_laser(session, world, history):
    lines = {line.key: line for line in report(session, "resource").lines}
    laser = lines[str(world.id("laser"))]
    # Mon: 12 h open; R1 2 + R8 1 + R9 1 h booked; U1 6000 + 1800 + 1800 s = 2.67 h run;
    # R1, R8 started (R9 before the period).
    # Tue: 8 h open (maintenance 09-13); R8 1 h (R5 cancelled); U4's other 1800 s = 0.5 h.
    assert figures(laser) == [
        (12.0, 4.0, 2.67, 2, 0, 2.3),
        (8.0, 1.0, 0.5, 0, 0, 0.5),
        (20.0, 5.0, 3.17, 2, 0, 2.8),
    ]
    assert len(lines) == 6


@pytest.mark.parametrize("group", ["site", "resource"])
def test_least_and_most_used_machines(session, world, history, group):
    found = report(session, group)
    # Run over the period: laser 11400 s, printer 7200, lathe 3600, cnc and embroidery 0;
    # the room is no machine. Ties go by id (cnc before embroidery).
    order = ["cnc", "embroidery", "lathe", "printer", "laser"]
    assert [line.key for line in found.least_used] == [str(world.id(n)) for n in order]
    assert [line.key for line in found.most_used] == [str(world.id(n)) for n in order[::-1]]
    assert [line.total.run_hours for line in found.most_used] == [3.17, 2.0, 1.0, 0.0, 0.0]


def test_an_operator_sees_only_their_site(session, world, history):
    operator = Principal(id=2, operator_sites=frozenset({world.sites["mullae"].id}))
    lines = report(session, "resource", actor=operator).lines
    assert [line.key for line in lines] == [str(world.id("lathe"))]


def test_makers_get_no_report(session, world, history):
    with pytest.raises(Forbidden):
        report(session, "site", actor=Principal(id=3))


def test_month_buckets_cut_at_the_local_first():
    from service.rules.buckets import buckets

    found = buckets(seoul("2026-01-15 00:00"), seoul("2026-03-10 00:00"), "month", SEOUL)
    assert [b.start for b in found] == [
        seoul("2026-01-15 00:00"),
        seoul("2026-02-01 00:00"),
        seoul("2026-03-01 00:00"),
    ]
    assert found[-1].end == seoul("2026-03-10 00:00")
    weeks = buckets(seoul("2026-02-18 12:00"), seoul("2026-03-04 00:00"), "week", SEOUL)
    # Weeks begin on Monday: Feb 23 and Mar 2 are Mondays.
    assert [b.start for b in weeks[1:]] == [seoul("2026-02-23 00:00"), seoul("2026-03-02 00:00")]
    with pytest.raises(RuleViolation):
        buckets(seoul("2026-01-01 00:00"), seoul("2026-06-01 00:00"), "day", SEOUL)


# -- the API ---------------------------------------------------------------------------

URL = "/api/v1/reports/utilisation"
SPAN = "from=2026-02-16T00:00:00%2B09:00&to=2026-02-18T00:00:00%2B09:00"


def test_api_report_by_site(client, world, history):
    answer = client.get(f"{URL}?group=site&every=day&{SPAN}", headers=world.headers("admin"))
    assert answer.status_code == 200, answer.json
    body = answer.json
    seongsu = next(x for x in body["lines"] if x["key"] == str(world.sites["seongsu"].id))
    total = seongsu["total"]
    # As above, but read at the app's clock (Mon 2 March): R7 has started too.
    assert (total["open_hours"], total["booked_hours"], total["run_hours"]) == (116.0, 12.0, 5.17)
    assert (total["started"], total["no_shows"], total["energy_kwh"]) == (6, 1, 3.6)
    assert [b["start"] for b in seongsu["buckets"]] == [
        "2026-02-15T15:00:00Z",
        "2026-02-16T15:00:00Z",
    ]
    assert body["most_used"][0]["key"] == str(world.id("laser"))


def test_api_csv_export(client, world, history):
    answer = client.get(
        f"{URL}?group=kind&every=day&{SPAN}&format=csv", headers=world.headers("admin")
    )
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["key"], r["start"][:10], r["booked_hours"]) for r in rows] == [
        ("machine", "2026-02-16", "7.0"),
        ("machine", "2026-02-17", "5.0"),
        ("room", "2026-02-16", "0.0"),
        ("room", "2026-02-17", "2.0"),
    ]


@pytest.mark.parametrize(
    "query,code",
    [
        ("group=floor", "validation_error"),
        ("every=year", "validation_error"),
        ("from=yesterday", "validation_error"),
        ("from=2026-03-01T00:00:00Z&to=2026-02-01T00:00:00Z", "invalid_range"),
        ("every=day&from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z", "range_too_long"),
        ("format=pdf", "validation_error"),
    ],
)
def test_api_refuses_bad_parameters(client, world, query, code):
    answer = client.get(f"{URL}?{query}", headers=world.headers("admin"))
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == code


@pytest.mark.parametrize("actor,status", [("maker", 403), ("operator", 200), ("admin", 200)])
def test_api_roles(client, world, actor, status):
    answer = client.get(URL, headers=world.headers(actor))
    assert answer.status_code == status


def test_weeks_of_a_month_share_out_a_row_across_their_edge(session, world, history):
    found = utilisation(
        session=session,
        now=NOW,
        actor=ADMIN,
        group="site",
        every="week",
        start=seoul("2026-02-01 00:00"),
        end=seoul("2026-03-01 00:00"),
        zone=SEOUL,
    )
    # Weeks from Sunday 1 Feb: [1, 2), [2, 9), [9, 16), [16, 23), [23, 1 Mar).
    assert [b.start.astimezone(SEOUL).day for b in found.buckets] == [1, 2, 9, 16, 23]
    seongsu = next(x for x in found.lines if x.key == str(world.sites["seongsu"].id))
    booked = [f.booked_hours for f in seongsu.per_bucket]
    ran = [f.run_hours for f in seongsu.per_bucket]
    # Week of the 9th: R9's Sunday hour; U5 3600 s and U6's first half 1800 s = 1.5 h.
    # Week of the 16th: the 12 booked hours and 18600 s = 5.17 h of the day-by-day report.
    assert booked == [0.0, 0.0, 1.0, 12.0, 0.0]
    assert ran == [0.0, 0.0, 1.5, 5.17, 0.0]


# -- months: on SQLite, one index range per resource and month -------------------------

QUARTER = (seoul("2026-01-01 00:00"), seoul("2026-04-01 00:00"))


@pytest.fixture
def quarter(session, world, history) -> None:
    """Rows across the quarter's edges, beside the February history."""
    make_reservation(session, world, "maker", "laser", "2025-12-31 22:00", "2026-01-01 01:00")
    make_reservation(session, world, "maker", "laser", "2026-01-31 23:00", "2026-02-01 02:00")
    make_run(session, world, "laser", "2026-03-31 23:30", 3600, energy_wh=1000.0)
    session.commit()


def by_month(session, group, actor=ADMIN):
    return utilisation(
        session=session,
        now=NOW,
        actor=actor,
        group=group,
        every="month",
        start=QUARTER[0],
        end=QUARTER[1],
        zone=SEOUL,
    )


def test_months_share_out_rows_across_month_ends_and_the_period_start(session, world, quarter):
    found = by_month(session, "site")
    seongsu = next(x for x in found.lines if x.key == str(world.sites["seongsu"].id))
    # January: the last hour of the Dec 31 booking (begun before the period, not started)
    # and the first hour of the Jan 31 one; February: the history's 13 hours and its 2 more.
    assert [f.booked_hours for f in seongsu.per_bucket] == [2.0, 15.0, 0.0]
    assert seongsu.per_bucket[0].started == 1
    # February: U1, U3, U4, U5, U6 (24,000 s, 4.8 kWh); March: half of the Mar 31 run.
    assert [f.run_hours for f in seongsu.per_bucket] == [0.0, 6.67, 0.5]
    assert [f.energy_kwh for f in seongsu.per_bucket] == [0.0, 4.8, 0.5]


@pytest.mark.parametrize("group", ["site", "kind", "resource"])
def test_months_by_index_ranges_match_the_grouped_sums(session, quarter, group, monkeypatch):
    from service.rules import report_sql

    ranged = by_month(session, group)
    monkeypatch.setattr(report_sql, "pays_off", lambda spans: False)
    grouped = by_month(session, group)
    assert [(x.key, figures(x)) for x in ranged.lines] == [
        (x.key, figures(x)) for x in grouped.lines
    ]
    assert [x.key for x in ranged.least_used] == [x.key for x in grouped.least_used]


def test_ranges_serve_month_buckets_and_not_days():
    from service.rules.buckets import buckets
    from service.rules.report_ranges import pays_off

    assert pays_off(buckets(*QUARTER, "month", SEOUL))
    assert not pays_off(buckets(START, END, "day", SEOUL))
    assert not pays_off(buckets(*QUARTER, "week", SEOUL))


def test_an_operator_s_months_count_only_their_site(session, world, quarter, monkeypatch):
    from service.rules import report_sql

    operator = Principal(id=2, operator_sites=frozenset({world.sites["seongsu"].id}))
    ranged = by_month(session, "resource", actor=operator)
    monkeypatch.setattr(report_sql, "pays_off", lambda spans: False)
    grouped = by_month(session, "resource", actor=operator)
    assert str(world.id("lathe")) not in [x.key for x in ranged.lines]
    assert [(x.key, figures(x)) for x in ranged.lines] == [
        (x.key, figures(x)) for x in grouped.lines
    ]
    laser = next(x for x in ranged.lines if x.key == str(world.id("laser")))
    # R1, R8, R9 two hours each, the Dec 31 booking's hour in the period and the Jan 31 three.
    assert laser.total.booked_hours == 10.0
