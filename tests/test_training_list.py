"""A person's trainings as the site sees them today: expired ones marked and listed last."""

from __future__ import annotations

from datetime import UTC, date, datetime

from service.models import Training
from service.rules.policy import list_trainings, trained_on
from tests.factories import make_resource, make_training

SEOUL_MIDNIGHT = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)  # 2026-03-02 00:00 in Seoul


def test_a_training_counts_through_its_last_day():
    training = Training(account_id=1, category="laser_cutter", expires_on=date(2026, 3, 2))
    assert trained_on(training, date(2026, 3, 2))
    assert not trained_on(training, date(2026, 3, 3))
    assert trained_on(Training(account_id=1, category="lathe", expires_on=None), date(2099, 1, 1))


def test_trainings_are_judged_by_the_sites_date_valid_first_with_their_machines(session, world):
    other = world.accounts["other"]
    make_training(session, other, "lathe", date(2026, 3, 1))  # the day before, in Seoul
    make_training(session, other, "laser_cutter", date(2026, 3, 2))  # today in Seoul
    make_training(session, other, "cnc_router", None)
    session.commit()

    states = list_trainings(
        session=session,
        account_id=world.id("other"),
        now=SEOUL_MIDNIGHT,
        zone=world.sites["seongsu"].zone,
    )

    assert [(s.training.category, s.expired) for s in states] == [
        ("cnc_router", False),
        ("laser_cutter", False),
        ("lathe", True),
    ]
    machines = {s.training.category: [r.slug for r in s.resources] for s in states}
    assert machines == {"cnc_router": ["cnc-1"], "laser_cutter": ["laser-1"], "lathe": ["lathe-1"]}


def test_only_the_persons_own_trainings_are_listed(session, world):
    states = list_trainings(
        session=session,
        account_id=world.id("maker"),
        now=SEOUL_MIDNIGHT,
        zone=world.sites["seongsu"].zone,
    )
    assert [(s.training.category, s.expired) for s in states] == [("laser_cutter", False)]


def test_a_trainings_machines_are_the_active_ones_listed_by_center(session, world):
    other = world.accounts["other"]
    make_training(session, other, "lathe", None)
    # A lathe at Seongsu added after Mullae's, and one at Mullae taken out of service.
    make_resource(session, world.sites["seongsu"], "lathe-2", category="lathe")
    make_resource(session, world.sites["mullae"], "lathe-3", category="lathe", active=False)
    session.commit()

    (state,) = list_trainings(
        session=session,
        account_id=world.id("other"),
        now=SEOUL_MIDNIGHT,
        zone=world.sites["seongsu"].zone,
    )

    assert [r.slug for r in state.resources] == ["lathe-2", "lathe-1"]
