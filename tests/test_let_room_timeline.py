"""A let room looks let to everyone but its tenant: on the timeline, the week and the free list."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service.rules.availability import free_intervals_many
from service.rules.catalogue import resources_with_sites
from service.rules.timeline import State, day_timeline, week_timeline
from tests.conftest import CURRENT_TIME
from tests.factories import book
from tests.rental import company, contract, join

TUESDAY = date(2026, 3, 3)  # the tests' clock reads Monday 2026-03-02 09:00 in Seoul


@pytest.fixture
def let(session, world):
    """The meeting room let to 성수가죽공방 on Tuesday and Wednesday; the maker works there."""
    firm = company(session)
    join(session, world, "maker", firm, bills=False)
    return contract(session, world, "2026-03-03", "2026-03-04", firm=firm)


def _rooms(session):
    return resources_with_sites(session=session, site="seongsu", kind=None)


def _room_row(found, world):
    (row,) = [r for r in found.rows if r.resource.id == world.id("room")]
    return row


def _day(session, world, who):
    return day_timeline(
        session=session,
        site=world.sites["seongsu"],
        resources=_rooms(session),
        day=TUESDAY,
        now=CURRENT_TIME,
        account_id=world.id(who) if who else None,
    )


def test_a_let_day_is_rented_to_others_and_free_to_the_tenants_people(session, world, let):
    # Open 09:00 to 21:00, an hour a cell: twelve cells.
    assert [c.state for c in _room_row(_day(session, world, "other"), world).cells] == [
        State.rented
    ] * 12
    assert [c.state for c in _room_row(_day(session, world, None), world).cells] == [
        State.rented
    ] * 12
    mine = _room_row(_day(session, world, "maker"), world).cells
    assert [c.state for c in mine] == [State.free] * 12
    assert mine[1].pick is not None and mine[1].pick.start == mine[1].start
    # The machines are nobody's tenancy.
    laser = [r for r in _day(session, world, "other").rows if r.resource.slug == "laser-1"]
    assert State.rented not in {c.state for c in laser[0].cells}


def test_the_tenants_booking_shows_reserved_and_the_rest_rented(session, world, client, let):
    answer = book(client, world, "maker", "room", "2026-03-03 10:00", "2026-03-03 12:00")
    assert answer.status_code == 201
    states = [c.state for c in _room_row(_day(session, world, "other"), world).cells]
    assert states == [State.rented] + [State.reserved] * 2 + [State.rented] * 9


def test_rented_cells_are_exactly_what_the_availability_api_keeps_from_others(session, world, let):
    found = _day(session, world, "other")
    for who in ("other", "maker"):
        free = free_intervals_many(
            session=session,
            resources=_rooms(session),
            start=found.start,
            end=found.end,
            now=CURRENT_TIME,
            account_id=world.id(who),
        )[world.id("room")]
        shown = [
            (c.start, c.end)
            for c in _room_row(_day(session, world, who), world).cells
            if c.state == State.free
        ]
        hours = [
            (iv.start + timedelta(hours=h), iv.start + timedelta(hours=h + 1))
            for iv in free
            for h in range(int((iv.end - iv.start) / timedelta(hours=1)))
        ]
        assert shown == hours, who
    assert hours and len(hours) == 12


def test_the_week_shows_the_let_days_rented_to_others_only(session, world, let):
    def week(who):
        return _room_row(
            week_timeline(
                session=session,
                site=world.sites["seongsu"],
                resources=_rooms(session),
                day=TUESDAY,
                now=CURRENT_TIME,
                account_id=world.id(who),
            ),
            world,
        ).cells

    # Three parts a day, Monday to Sunday: Tuesday and Wednesday are cells 3 to 8.
    others = [c.state for c in week("other")]
    assert others[3:9] == [State.rented] * 6
    assert State.rented not in others[:3] + others[9:]
    assert others[9] == State.free  # Thursday morning
    tenant = week("maker")
    assert [c.state for c in tenant[3:9]] == [State.free] * 6
    # Tuesday morning, 09:00 to 12:00, is three free hours to the tenant.
    assert tenant[3].free_minutes == 180
