"""Demo machines and rooms, per site; rates are integer won per hour, VAT included."""

# The tables below keep one resource per line so that they read as a table.
# ruff: noqa: E501

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import Session, select

from ..models import Resource, ResourceKind, Site
from .rows import stored_id


def _common(
    kind: ResourceKind,
    slug: str,
    names: tuple[str, str],
    category: str,
    rate: int,
    slot: int,
    longest: int,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "slug": slug,
        "name": names[0],
        "name_en": names[1],
        "category": category,
        "rate_per_hour": rate,
        "slot_minutes": slot,
        "min_minutes": slot,
        "max_minutes": longest,
    }


def machine(
    slug: str,
    name: str,
    name_en: str,
    category: str,
    rate: int,
    *,
    slot: int = 30,
    longest: int = 240,
    buffer: int = 0,
    training: bool = False,
    approval: bool = False,
    walk_in: bool = False,
) -> dict[str, Any]:
    """One machine; the shortest booking is one slot."""
    common = _common(ResourceKind.machine, slug, (name, name_en), category, rate, slot, longest)
    return common | {
        "buffer_minutes": buffer,
        "requires_training": training,
        "requires_approval": approval,
        "walk_in_allowed": walk_in,
        "max_days_ahead": 30,
    }


def room(
    slug: str,
    name: str,
    name_en: str,
    category: str,
    rate: int,
    *,
    capacity: int,
    slot: int = 60,
    longest: int = 240,
    approval: bool = False,
    walk_in: bool = False,
    days_ahead: int = 30,
) -> dict[str, Any]:
    """One room; the shortest booking is one slot."""
    common = _common(ResourceKind.room, slug, (name, name_en), category, rate, slot, longest)
    return common | {
        "capacity": capacity,
        "requires_approval": approval,
        "walk_in_allowed": walk_in,
        "max_days_ahead": days_ahead,
    }


# fmt: off
# Buffers: lasers need the fume extraction to clear, resin parts washing and curing,
# routers and machining centers chip clean-up, casting flasks cooling.
MACHINES: dict[str, list[dict[str, Any]]] = {
    "seongsu": [
        machine("laser-1", "CO2 레이저 커터 1호기 (100W, 1300×900)", "CO2 laser cutter #1 (100 W, 1300×900)", "laser_cutter", 25_000, buffer=15, training=True),
        machine("laser-2", "CO2 레이저 커터 2호기 (60W, 가죽·원단용)", "CO2 laser cutter #2 (60 W, leather and fabric)", "laser_cutter", 20_000, buffer=15, training=True),
        machine("cnc-router-1", "CNC 라우터 (1325)", "CNC router (1300×2500)", "cnc_router", 45_000, slot=60, longest=480, buffer=30, training=True, approval=True),
        machine("fdm-1", "FDM 3D 프린터 1호기", "FDM 3D printer #1", "3d_printer_fdm", 5_000, slot=60, longest=720, walk_in=True),
        machine("fdm-2", "FDM 3D 프린터 2호기", "FDM 3D printer #2", "3d_printer_fdm", 5_000, slot=60, longest=720, walk_in=True),
        machine("fdm-large-1", "대형 FDM 3D 프린터 (500mm)", "Large-format FDM 3D printer (500 mm)", "3d_printer_fdm", 8_000, slot=60, longest=720),
        machine("resin-1", "레진 3D 프린터 (SLA)", "Resin 3D printer (SLA)", "3d_printer_resin", 8_000, slot=60, longest=480, buffer=30, training=True),
        machine("uv-printer-1", "UV 평판 프린터", "UV flatbed printer", "uv_printer", 28_000, longest=180, training=True),
        machine("embroidery-1", "컴퓨터 자수기 (1두 12침)", "Embroidery machine (1 head, 12 needles)", "embroidery", 10_000),
        machine("sewing-1", "공업용 본봉 미싱 1호기", "Industrial lockstitch sewing machine #1", "sewing_machine", 3_000, walk_in=True),
        machine("sewing-2", "공업용 본봉 미싱 2호기", "Industrial lockstitch sewing machine #2", "sewing_machine", 3_000, walk_in=True),
        machine("post-bed-1", "제화용 포스트 미싱", "Post-bed sewing machine for shoe uppers", "sewing_machine", 4_000, walk_in=True),
        machine("lasting-1", "토라스팅기 (앞코 성형기)", "Toe-lasting machine", "shoe_lasting", 15_000, longest=180, training=True),
        machine("skiving-1", "가죽 피할기", "Leather skiving machine", "leather_skiving", 5_000, training=True),
    ],
    "mullae": [
        machine("lathe-1", "범용 선반", "Manual lathe", "lathe", 20_000, slot=60, longest=480, training=True),
        machine("cnc-lathe-1", "CNC 선반", "CNC lathe", "cnc_lathe", 40_000, slot=60, longest=480, buffer=30, training=True),
        machine("milling-1", "범용 밀링 머신", "Manual milling machine", "milling", 20_000, slot=60, longest=480, training=True),
        machine("mct-1", "수직형 머시닝센터 (MCT)", "Vertical machining center", "machining_center", 50_000, slot=60, longest=480, buffer=30, training=True, approval=True),
        machine("fiber-laser-1", "파이버 레이저 금속 절단기 (3kW)", "Fiber laser metal cutter (3 kW)", "fiber_laser", 45_000, buffer=15, training=True),
        machine("press-brake-1", "CNC 절곡기 (프레스 브레이크)", "CNC press brake", "press_brake", 30_000, slot=60, longest=240, training=True),
        machine("welder-1", "TIG 용접기", "TIG welder", "welding", 8_000, training=True),
    ],
    "euljiro": [
        machine("offset-1", "4색 오프셋 인쇄기 (국전지)", "Four-colour offset press (B1)", "offset_press", 60_000, slot=60, longest=480, training=True, approval=True),
        machine("digital-press-1", "디지털 인쇄기 (토너 방식)", "Digital production press (toner)", "digital_press", 30_000, training=True),
        machine("large-format-1", "대형 잉크젯 출력기", "Large-format inkjet printer", "large_format_printer", 15_000, walk_in=True),
        machine("paper-cutter-1", "유압식 자동 재단기", "Hydraulic guillotine paper cutter", "paper_cutter", 10_000, training=True),
        machine("binder-1", "무선 제본기", "Perfect binder", "bookbinding", 6_000, walk_in=True),
    ],
    "changsin": [
        machine("sewing-1", "공업용 본봉 미싱", "Industrial lockstitch sewing machine", "sewing_machine", 3_000, walk_in=True),
        machine("overlock-1", "공업용 오버록 미싱", "Industrial overlock machine", "overlock", 3_000, walk_in=True),
        machine("cad-cutter-1", "CAD 원단 자동 재단기", "Automatic CAD fabric cutter", "cad_cutter", 30_000, training=True),
        machine("embroidery-1", "컴퓨터 자수기 (6두)", "Embroidery machine (6 heads)", "embroidery", 15_000, slot=60, longest=480, training=True),
        machine("dtf-1", "DTF 디지털 전사 프린터", "DTF digital transfer printer", "dtf_printer", 20_000, training=True),
    ],
    "bongik": [
        machine("wax-printer-1", "주얼리 왁스 3D 프린터 (DLP)", "Jewelry wax 3D printer (DLP)", "3d_printer_resin", 10_000, slot=60, longest=360, buffer=30, training=True),
        machine("laser-welder-1", "주얼리 레이저 용접기", "Jewelry laser welder", "laser_welder", 15_000, training=True),
        machine("casting-1", "진공 주조기", "Vacuum casting machine", "vacuum_casting", 20_000, slot=60, longest=120, buffer=60, training=True),
        machine("engraver-1", "파이버 레이저 각인기", "Fiber laser engraver", "laser_engraver", 10_000, training=True),
    ],
}

# Incubation offices are held by resident firms for whole days, booked up to a quarter ahead.
ROOMS: dict[str, list[dict[str, Any]]] = {
    "seongsu": [
        room("incubator-301", "입주공간 301호", "Incubation office 301", "incubation_office", 0, capacity=2, longest=720, days_ahead=90),
        room("incubator-302", "입주공간 302호", "Incubation office 302", "incubation_office", 0, capacity=3, longest=720, days_ahead=90),
        room("incubator-303", "입주공간 303호", "Incubation office 303", "incubation_office", 0, capacity=4, longest=720, days_ahead=90),
        room("incubator-401", "입주공간 401호", "Incubation office 401", "incubation_office", 0, capacity=6, longest=720, days_ahead=90),
        room("meeting-1", "회의실", "Meeting room", "meeting_room", 10_000, capacity=8, slot=30, walk_in=True),
        room("studio-1", "제품 촬영 스튜디오", "Product photo studio", "photo_studio", 15_000, capacity=4),
        room("showroom", "VR·AR 쇼룸", "VR/AR showroom", "showroom", 50_000, capacity=20, longest=480, approval=True),
    ],
    "mullae": [
        room("meeting-1", "회의실", "Meeting room", "meeting_room", 5_000, capacity=6, slot=30, walk_in=True),
    ],
    "euljiro": [
        room("classroom-1", "교육장", "Training room", "classroom", 20_000, capacity=16),
    ],
}
# fmt: on


def seed_resources(
    *, session: Session, sites: dict[str, Site], tally: Counter[str]
) -> dict[tuple[str, str], Resource]:
    """Every demo machine and room by (site slug, slug), creating those missing."""
    found: dict[tuple[str, str], Resource] = {}
    for site_slug, site in sites.items():
        existing = {
            r.slug: r for r in session.exec(select(Resource).where(Resource.site_id == site.id))
        }
        for spec in [*MACHINES.get(site_slug, []), *ROOMS.get(site_slug, [])]:
            resource = existing.get(spec["slug"])
            if resource is None:
                resource = Resource(site_id=stored_id(session, site), **spec)
                session.add(resource)
                tally[f"{spec['kind'].value}s"] += 1
            found[(site_slug, spec["slug"])] = resource
    session.flush()
    return found
