"""Demo sites: the Seongsu regional center and the specialised centers it coordinates."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from ..models import Blackout, OpeningHours, Resource, Site
from .rows import stored_id

# slug: (name, name_en, address, machine quota h/week, room quota h/week; 0 = no limit)
SITES: dict[str, tuple[str, str, str, int, int]] = {
    "seongsu": (
        "서울 광역 소공인특화지원센터",
        "Seoul Regional Support Center for Urban Small Manufacturers (Seongsu)",
        "서울특별시 성동구 성수이로 113 (성수동2가, 성수사거리 인근)",
        20,
        0,
    ),
    "mullae": (
        "문래 소공인특화지원센터 (기계금속)",
        "Mullae Metalworking Support Center",
        "서울특별시 영등포구 도림로 430 (문래동3가)",
        16,
        0,
    ),
    "euljiro": (
        "을지로 소공인특화지원센터 (인쇄)",
        "Euljiro Printing Support Center",
        "서울특별시 중구 충무로 29 (인현동2가)",
        12,
        0,
    ),
    "changsin": (
        "창신 소공인특화지원센터 (의류봉제)",
        "Changsin Garment Sewing Support Center",
        "서울특별시 종로구 지봉로 25 (창신동)",
        20,
        0,
    ),
    "bongik": (
        "봉익 소공인특화지원센터 (주얼리)",
        "Bongik Jewelry Support Center",
        "서울특별시 종로구 돈화문로 71 (봉익동)",
        10,
        0,
    ),
}

WEEKDAYS = range(5)
SATURDAY = (5,)

# slug: [(weekdays, opens, closes)], local time; a day may have several intervals.
HOURS: dict[str, list[tuple[tuple[int, ...] | range, time, time]]] = {
    "seongsu": [(WEEKDAYS, time(9), time(21)), (SATURDAY, time(10), time(17))],
    "mullae": [(WEEKDAYS, time(9), time(18)), (SATURDAY, time(9), time(13))],
    "euljiro": [(WEEKDAYS, time(9), time(19))],
    "changsin": [(WEEKDAYS, time(9), time(20)), (SATURDAY, time(9), time(15))],
    # The jewelry center closes over lunch: the casting room is shared with a class.
    "bongik": [
        (WEEKDAYS, time(10), time(12)),
        (WEEKDAYS, time(13), time(19)),
        (SATURDAY, time(10), time(15)),
    ],
}

# Public holidays on which every center closes: (first day, days, reason).
HOLIDAYS: list[tuple[date, int, str]] = [
    (date(2026, 3, 2), 1, "삼일절 대체공휴일"),
    (date(2026, 5, 5), 1, "어린이날"),
    (date(2026, 5, 25), 1, "부처님오신날 대체공휴일"),
    (date(2026, 6, 3), 1, "제9회 전국동시지방선거"),
    (date(2026, 6, 6), 1, "현충일"),
    (date(2026, 8, 15), 1, "광복절"),
    (date(2026, 8, 17), 1, "광복절 대체공휴일"),
    (date(2026, 9, 24), 3, "추석 연휴"),
    (date(2026, 10, 3), 1, "개천절"),
    (date(2026, 10, 5), 1, "개천절 대체공휴일"),
    (date(2026, 10, 9), 1, "한글날"),
    (date(2026, 12, 25), 1, "성탄절"),
    (date(2027, 1, 1), 1, "신정"),
]

# (site, resource slug, day, from, to, reason): planned servicing of single machines.
MAINTENANCE: list[tuple[str, str, date, time, time, str]] = [
    ("seongsu", "laser-1", date(2026, 3, 11), time(9), time(13), "레이저 튜브·미러 정기 점검"),
    ("mullae", "mct-1", date(2026, 3, 18), time(9), time(18), "주축 베어링 교체"),
]


def seed_sites(*, session: Session, tally: Counter[str]) -> dict[str, Site]:
    """Every demo site by slug, creating those missing with their opening hours."""
    found = {s.slug: s for s in session.exec(select(Site).where(col(Site.slug).in_(SITES)))}
    for slug, (name, name_en, address, machine_quota, room_quota) in SITES.items():
        if slug in found:
            continue
        site = Site(
            slug=slug,
            name=name,
            name_en=name_en,
            timezone="Asia/Seoul",
            address=address,
            machine_quota_hours=machine_quota,
            room_quota_hours=room_quota,
        )
        session.add(site)
        site_id = stored_id(session, site)
        for days, opens, closes in HOURS[slug]:
            for weekday in days:
                session.add(
                    OpeningHours(site_id=site_id, weekday=weekday, opens=opens, closes=closes)
                )
                tally["opening hours"] += 1
        found[slug] = site
        tally["sites"] += 1
    return found


def _add_blackout(session: Session, tally: Counter[str], blackout: Blackout, label: str) -> None:
    exists = session.exec(
        select(Blackout.id).where(
            Blackout.site_id == blackout.site_id,
            Blackout.resource_id == blackout.resource_id,
            Blackout.start_at == blackout.start_at,
        )
    ).first()
    if exists is None:
        session.add(blackout)
        tally[label] += 1


def seed_blackouts(
    *,
    session: Session,
    sites: dict[str, Site],
    resources: dict[tuple[str, str], Resource],
    tally: Counter[str],
) -> None:
    """Holidays close whole sites; maintenance closes one machine for some hours."""
    for site in sites.values():
        site_id = stored_id(session, site)
        for first, days, reason in HOLIDAYS:
            start = datetime.combine(first, time(0), tzinfo=site.zone)
            end = datetime.combine(first + timedelta(days=days), time(0), tzinfo=site.zone)
            _add_blackout(
                session,
                tally,
                Blackout(site_id=site_id, start_at=start, end_at=end, reason=reason),
                "holiday closures",
            )
    for site_slug, slug, day, start_time, end_time, reason in MAINTENANCE:
        site, resource = sites[site_slug], resources[(site_slug, slug)]
        blackout = Blackout(
            site_id=stored_id(session, site),
            resource_id=resource.id,
            start_at=datetime.combine(day, start_time, tzinfo=site.zone),
            end_at=datetime.combine(day, end_time, tzinfo=site.zone),
            reason=reason,
        )
        _add_blackout(session, tally, blackout, "maintenance windows")
