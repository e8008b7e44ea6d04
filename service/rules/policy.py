"""The per-booking rules: slot grid, duration, lead time, training and quota."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, or_, select

from ..errors import RuleViolation
from ..models import (
    OCCUPYING,
    Account,
    Reservation,
    Resource,
    ResourceKind,
    Site,
    Training,
)
from .availability import bookable_window
from .sitetime import SlotGrid


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise RuleViolation("end must be after start", code="invalid_range")


def check_grid(
    *, resource: Resource, site: Site, start: datetime, end: datetime, start_on_grid: bool = True
) -> None:
    """Start and end fall on the resource's slot grid, counted from local midnight.

    A walk-in (`start_on_grid=False`) starts when the card is tapped; only its end is checked.
    """
    step, grid = resource.slot_minutes, SlotGrid.of(resource, site)
    edges = (("start", start), ("end", end)) if start_on_grid else (("end", end),)
    for label, value in edges:
        if grid.offset(value):
            raise RuleViolation(
                f"{label} must be on a {step}-minute slot boundary",
                {"slot_minutes": step},
                code="slot_alignment",
            )


def check_duration(*, resource: Resource, start: datetime, end: datetime) -> None:
    minutes = (end - start) / timedelta(minutes=1)
    if not resource.min_minutes <= minutes <= resource.max_minutes:
        raise RuleViolation(
            f"a booking of {resource.name} lasts {resource.min_minutes} to "
            f"{resource.max_minutes} minutes",
            {"min_minutes": resource.min_minutes, "max_minutes": resource.max_minutes},
            code="duration",
        )


def check_window(
    *, resource: Resource, start: datetime, end: datetime, now: datetime, new_start: bool = True
) -> None:
    """Lead time (for a start being chosen now) and the furthest day ahead."""
    window = bookable_window(resource=resource, now=now)
    if new_start and start < window.start:
        raise RuleViolation(
            f"book at least {resource.lead_minutes} minutes ahead",
            {"earliest": window.start.isoformat()},
            code="lead_time",
        )
    if end > window.end:
        raise RuleViolation(
            f"book at most {resource.max_days_ahead} days ahead",
            {"latest": window.end.isoformat()},
            code="too_far_ahead",
        )


def check_training(
    *, session: Session, resource: Resource, site: Site, account_id: int, end: datetime
) -> None:
    if not resource.requires_training:
        return
    last_day = end.astimezone(site.zone).date()
    trained = session.exec(
        select(Training.id).where(
            Training.account_id == account_id,
            Training.category == resource.category,
            or_(col(Training.expires_on).is_(None), col(Training.expires_on) >= last_day),
        )
    ).first()
    if trained is None:
        raise RuleViolation(
            f"a valid training for {resource.category or resource.name} is required",
            {"category": resource.category},
            code="training_required",
        )


@dataclass(frozen=True)
class TrainingState:
    """A person's training for a kind of machine, as of one day at the site."""

    training: Training
    expired: bool
    # The machines of its category, for people to recognise it by.
    resources: list[Resource]


def trained_on(training: Training, day: date) -> bool:
    """Whether a training still counts on `day` (its last valid day included)."""
    return training.expires_on is None or training.expires_on >= day


def list_trainings(
    *, session: Session, account_id: int, now: datetime, zone: ZoneInfo
) -> list[TrainingState]:
    """An account's trainings, valid ones first, each judged by the site's date today."""
    today = now.astimezone(zone).date()
    trainings = session.exec(
        select(Training)
        .where(Training.account_id == account_id)
        .order_by(col(Training.category), col(Training.id))
    ).all()
    categories = {t.category for t in trainings}
    machines = session.exec(
        select(Resource)
        .where(col(Resource.category).in_(categories), col(Resource.active))
        .order_by(col(Resource.site_id), col(Resource.id))
    ).all()
    found = [
        TrainingState(
            training=t,
            expired=not trained_on(t, today),
            resources=[r for r in machines if r.category == t.category],
        )
        for t in trainings
    ]
    return sorted(found, key=lambda state: state.expired)


def week_bounds(site: Site, moment: datetime) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 in the site's time zone."""
    local = moment.astimezone(site.zone)
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(0), tzinfo=site.zone)
    return start, datetime.combine(monday + timedelta(days=7), time(0), tzinfo=site.zone)


def check_quota(
    *,
    session: Session,
    resource: Resource,
    site: Site,
    account_id: int,
    start: datetime,
    end: datetime,
    ignore_reservation_id: int | None = None,
) -> None:
    quota = (
        site.machine_quota_hours
        if resource.kind == ResourceKind.machine
        else (site.room_quota_hours)
    )
    if not quota:
        return
    # Bookings of one account on different resources do not clash, so the exclusion
    # constraint cannot serialise them: lock the account's row while its hours are
    # summed (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises every write).
    session.exec(select(Account.id).where(Account.id == account_id).with_for_update()).first()
    week_start, week_end = week_bounds(site, start)
    query = (
        select(Reservation.start_at, Reservation.end_at)
        .join(Resource, Resource.id == Reservation.resource_id)  # type: ignore[arg-type]
        .where(
            Reservation.account_id == account_id,
            col(Reservation.status).in_(OCCUPYING),
            Resource.site_id == site.id,
            Resource.kind == resource.kind,
            Reservation.start_at < week_end,
            Reservation.end_at > week_start,
        )
    )
    if ignore_reservation_id is not None:
        query = query.where(Reservation.id != ignore_reservation_id)
    held = sum(
        ((min(e, week_end) - max(s, week_start)) for s, e in session.exec(query)), timedelta()
    )
    asked = min(end, week_end) - max(start, week_start)
    if held + asked > timedelta(hours=quota):
        raise RuleViolation(
            f"this week's quota of {quota} hours for {resource.kind.value}s would be exceeded",
            {"quota_hours": quota, "held_hours": round(held / timedelta(hours=1), 2)},
            code="quota_exceeded",
        )
