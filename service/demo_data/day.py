"""Today at the demo sites: reservations for the demo makers from now until closing, and
what the simulated machines do about them.

`plan_day` is pure: given the sites' machines, the makers, `now` and a seed it always
makes the same day. Every open site gets bookings on the machines its makers are trained
for (and the rooms they may book), within today's opening hours (each site's own zone);
Seongsu, or else the first site still open, gets the day's incidents, one each, within
its first hour or so: a no-show, a fault, an overstay, a walk-in and one use of a machine
nobody enabled. `seed_day` stores the bookings; `DayPlan.scripts` tells the
simulator who comes when (devices.behaviour.Visit).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from devices.behaviour import Visit

from ..models import (
    ENTITLING,
    Account,
    Reservation,
    Resource,
    ResourceKind,
    Role,
    RoleName,
    Site,
    Training,
)
from ..rules.hours import opening_intervals
from ..rules.intervals import Interval

DEMO_SEED = 2026
# The first bookings start this long after the demo starts, on a five-minute mark.
LEAD = timedelta(minutes=2)
GRID = timedelta(minutes=5)
MAX_PER_MACHINE = 4
# After an overstay the machine stays free this long: the grace, then a clear hand-over.
AFTER_OVERSTAY = timedelta(minutes=45)
# When the incidents not booked happen, after the first booking, and for how long.
WALK_IN_AFTER, WALK_IN_FOR = timedelta(minutes=10), timedelta(minutes=40)
UNAUTHORISED_AFTER, UNAUTHORISED_FOR = timedelta(minutes=25), timedelta(minutes=20)
# Booked visits that end normally; the rest are the day's incidents, one each.
BOOKED_KINDS = ("booked", "fault", "overstay", "no_show")


@dataclass(frozen=True)
class Machine:
    """A machine, or a room (`kind`), that the demo makers book."""

    site: str
    slug: str
    resource_id: int
    category: str
    slot_minutes: int
    buffer_minutes: int
    requires_training: bool
    walk_in_allowed: bool
    kind: str = "machine"


@dataclass(frozen=True)
class Maker:
    account_id: int
    email: str
    card: str
    # Categories the maker is trained for today.
    trained: frozenset[str]

    def may_use(self, machine: Machine) -> bool:
        return not machine.requires_training or machine.category in self.trained


@dataclass(frozen=True)
class SiteDay:
    """A site today: its machines and its opening hours left, in UTC."""

    slug: str
    day: date
    open: tuple[Interval, ...]
    machines: tuple[Machine, ...]


@dataclass(frozen=True)
class PlannedVisit:
    machine: Machine
    kind: str
    start: datetime
    end: datetime
    maker: Maker | None = None

    @property
    def booked(self) -> bool:
        return self.kind in BOOKED_KINDS

    def visit(self) -> Visit:
        card = self.maker.card if self.maker is not None else None
        return Visit(self.kind, self.start.timestamp(), self.end.timestamp(), card)


@dataclass(frozen=True)
class DayPlan:
    visits: tuple[PlannedVisit, ...]

    def bookings(self) -> list[PlannedVisit]:
        return [v for v in self.visits if v.booked]

    def count(self, kind: str) -> int:
        return sum(1 for v in self.visits if v.kind == kind)

    def scripts(self) -> dict[str, list[Visit]]:
        """The visits of each machine, by "site/device" (devices are named after machines)."""
        found: dict[str, list[Visit]] = {}
        for planned in self.visits:
            key = f"{planned.machine.site}/{planned.machine.slug}"
            found.setdefault(key, []).append(planned.visit())
        return found

    def without(self, dropped: Sequence[PlannedVisit]) -> DayPlan:
        return DayPlan(tuple(v for v in self.visits if v not in dropped))


def _ceil(moment: datetime, grid: timedelta = GRID) -> datetime:
    step = grid.total_seconds()
    return datetime.fromtimestamp(-(-moment.timestamp() // step) * step, UTC)


def plan_day(
    sites: Sequence[SiteDay], makers: Sequence[Maker], *, now: datetime, seed: int = DEMO_SEED
) -> DayPlan:
    """Today's visits at every site, from `now` (rounded up) until each site closes."""
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    start = _ceil(now + LEAD)
    busy: dict[int, list[tuple[datetime, datetime]]] = {m.account_id: [] for m in makers}
    visits: list[PlannedVisit] = []
    incidents_at: str | None = None
    for site in sorted(sites, key=lambda s: s.slug != "seongsu"):
        hours = [Interval(max(i.start, start), i.end) for i in site.open if i.end > start]
        if not hours:
            continue
        machines = sorted(site.machines, key=lambda m: m.slug)
        spare: list[Machine] = []
        if incidents_at is None:
            # Two machines stay unbooked: one for the walk-in, one for the unauthorised use.
            tools = [m for m in machines if m.kind == "machine"]
            walk_in = next((m for m in tools if m.walk_in_allowed), None)
            other = next((m for m in tools if m is not walk_in), None)
            spare = [m for m in (walk_in, other) if m is not None]
            walker = _walker(walk_in, makers, busy, hours[0].start) if walk_in else None
        booked = [
            _book(machine, hours, makers, busy, rng, offset=index)
            for index, machine in enumerate(m for m in machines if m not in spare)
        ]
        site_visits = sorted((v for row in booked for v in row), key=lambda v: v.start)
        used = [v for v in site_visits if v.machine.kind == "machine"]
        if incidents_at is None and len(used) >= 4 and len(spare) == 2:
            incidents_at = site.slug
            site_visits = _incidents(site_visits, spare, walker, hours)
        visits += site_visits
    return DayPlan(tuple(sorted(visits, key=lambda v: (v.start, v.machine.site, v.machine.slug))))


def _book(
    machine: Machine,
    hours: list[Interval],
    makers: Sequence[Maker],
    busy: dict[int, list[tuple[datetime, datetime]]],
    rng: random.Random,
    *,
    offset: int,
) -> list[PlannedVisit]:
    """Bookings one after another on a machine, with gaps, inside the opening hours."""
    able = [m for m in makers if m.may_use(machine)]
    found: list[PlannedVisit] = []
    slot = timedelta(minutes=machine.slot_minutes)
    buffer = timedelta(minutes=machine.buffer_minutes)
    for interval in hours:
        cursor = interval.start + GRID * (offset % 6)
        while len(found) < MAX_PER_MACHINE and able:
            length = slot * rng.choice((1, 2))
            end = cursor + length
            if end > interval.end:
                break
            free = [m for m in able if _free(busy[m.account_id], cursor, end)]
            if free:
                maker = rng.choice(free)
                busy[maker.account_id].append((cursor, end))
                found.append(PlannedVisit(machine, "booked", cursor, end, maker))
            cursor = end + buffer + timedelta(minutes=rng.choice((15, 30, 45, 60)))
    return found


def _free(spans: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return all(end <= s or e <= start for s, e in spans)


def _walker(
    machine: Machine,
    makers: Sequence[Maker],
    busy: dict[int, list[tuple[datetime, datetime]]],
    opens: datetime,
) -> Maker | None:
    """Who walks in, kept free of bookings then."""
    start, end = opens + WALK_IN_AFTER, opens + WALK_IN_AFTER + WALK_IN_FOR
    walker = next((m for m in makers if m.may_use(machine)), None)
    if walker is not None:
        busy[walker.account_id].append((start, end))
    return walker


def _incidents(
    visits: list[PlannedVisit],
    spare: list[Machine],
    walker: Maker | None,
    hours: list[Interval],
) -> list[PlannedVisit]:
    """Turn the second, third and fourth machine bookings into a no-show, a fault and an
    overstay, and add a walk-in and an unauthorised use on the spare machines."""
    visits = list(visits)
    used = [index for index, v in enumerate(visits) if v.machine.kind == "machine"]
    for index, kind in ((used[1], "no_show"), (used[2], "fault"), (used[3], "overstay")):
        # One slot each, so the incident comes soon after the demo starts.
        shortest = timedelta(minutes=visits[index].machine.slot_minutes)
        visits[index] = replace(visits[index], kind=kind, end=visits[index].start + shortest)
    overstay = visits[used[3]]
    # Nobody else is booked on the machine while it overstays.
    visits = [
        v
        for v in visits
        if v is overstay
        or v.machine != overstay.machine
        or not overstay.end <= v.start < overstay.end + AFTER_OVERSTAY
    ]
    opens, closes = hours[0].start, hours[0].end
    walk_machine, other = spare
    if walker is not None and opens + WALK_IN_AFTER + WALK_IN_FOR <= closes:
        start = opens + WALK_IN_AFTER
        visits.append(PlannedVisit(walk_machine, "walk_in", start, start + WALK_IN_FOR, walker))
    if opens + UNAUTHORISED_AFTER + UNAUTHORISED_FOR <= closes:
        start = opens + UNAUTHORISED_AFTER
        visits.append(PlannedVisit(other, "unauthorised", start, start + UNAUTHORISED_FOR))
    return sorted(visits, key=lambda v: v.start)


# -- from and to the database ---------------------------------------------------------------


def day_inputs(*, session: Session, now: datetime) -> tuple[list[SiteDay], list[Maker]]:
    """Every site's machines and opening hours left today, and the demo makers."""
    sites = []
    for site in session.exec(select(Site).order_by(col(Site.slug))):
        day = now.astimezone(site.zone).date()
        midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), site.zone)
        hours = opening_intervals(session=session, site=site, start=now, end=midnight)
        machines = tuple(
            Machine(
                site.slug,
                r.slug,
                r.id or 0,
                r.category,
                r.slot_minutes,
                r.buffer_minutes,
                r.requires_training,
                r.walk_in_allowed,
                str(r.kind),
            )
            for r in session.exec(
                select(Resource).where(
                    Resource.site_id == site.id,
                    col(Resource.active).is_(True),
                    # Rooms a maker books for an hour or two (not offices, nothing approved).
                    or_(
                        col(Resource.kind) == ResourceKind.machine,
                        and_(
                            col(Resource.requires_approval).is_(False),
                            col(Resource.category) != "incubation_office",
                        ),
                    ),
                )
            )
        )
        sites.append(SiteDay(site.slug, day, tuple(hours), machines))
    # Trainings count if valid on the day of the first site (all the demo's are in Seoul).
    today = sites[0].day if sites else now.astimezone(UTC).date()
    makers = []
    accounts = session.exec(
        select(Account)
        .join(Role, col(Role.account_id) == col(Account.id))
        .where(Role.role == RoleName.maker, col(Account.active).is_(True))
        .where(col(Account.card_uid).is_not(None), col(Account.email).like("%@smartfab.example"))
        .order_by(col(Account.id))
    ).all()
    for account in accounts:
        trained = frozenset(
            t.category
            for t in session.exec(select(Training).where(Training.account_id == account.id))
            if t.expires_on is None or t.expires_on >= today
        )
        makers.append(Maker(account.id or 0, account.email, account.card_uid or "", trained))
    return sites, makers


def seed_day(
    *, session: Session, now: datetime, seed: int = DEMO_SEED, tally: Counter[str] | None = None
) -> DayPlan:
    """Book today's plan for the demo makers; a booking that would overlap one already
    there (the demo ran earlier today) is left out, of the plan too. The caller commits."""
    sites, makers = day_inputs(session=session, now=now)
    plan = plan_day(sites, makers, now=now, seed=seed)
    dropped = []
    for planned in plan.bookings():
        machine = planned.machine
        blocked = planned.end + timedelta(minutes=machine.buffer_minutes)
        clash = session.exec(
            select(Reservation.id).where(
                Reservation.resource_id == machine.resource_id,
                col(Reservation.status).in_(ENTITLING),
                Reservation.start_at < blocked,
                Reservation.blocked_until > planned.start,
            )
        ).first()
        if clash is not None or planned.maker is None:
            dropped.append(planned)
            continue
        session.add(
            Reservation(
                resource_id=machine.resource_id,
                start_at=planned.start,
                end_at=planned.end,
                account_id=planned.maker.account_id,
                created_by_id=planned.maker.account_id,
                blocked_until=blocked,
                note="demo",
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        if tally is not None:
            tally["reservations today"] += 1
    return plan.without(dropped)
