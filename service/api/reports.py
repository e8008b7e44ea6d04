"""Utilisation reports: open, booked and run hours, no-shows and energy, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app
from pydantic import BaseModel, Field

from ..db import get_session
from ..models.types import Moment
from ..rules.buckets import this_month
from ..rules.reports import Figures, Line, Report, utilisation
from .context import current_principal, now
from .openapi import operation
from .schemas import Strict

bp = Blueprint("reports", __name__, url_prefix="/api/v1")


class UtilisationQuery(Strict):
    group: Literal["site", "kind", "resource"] = "site"
    every: Literal["day", "week", "month"] = "month"
    from_: Moment | None = Field(default=None, alias="from", description="default: this month")
    to: Moment | None = Field(default=None, description="default: the end of this month")
    format: Literal["json", "csv"] = "json"


class FiguresPublic(BaseModel):
    open_hours: float
    booked_hours: float
    run_hours: float
    booked_ratio: float | None = Field(description="booked / open hours")
    run_ratio: float | None = Field(description="run / booked hours")
    started: int = Field(description="reservations that reached their start")
    no_shows: int
    no_show_rate: float | None
    energy_kwh: float


class BucketFigures(FiguresPublic):
    start: datetime
    end: datetime


class LinePublic(BaseModel):
    key: str = Field(description="site id, kind, or resource id")
    name: str
    name_en: str
    site_id: int | None
    total: FiguresPublic
    buckets: list[BucketFigures]


class UtilisationReport(BaseModel):
    group: str
    every: str
    start: datetime
    end: datetime
    lines: list[LinePublic]
    least_used: list[LinePublic] = Field(description="the ten machines that ran least")
    most_used: list[LinePublic] = Field(description="the ten machines that ran most")


FIELDS = tuple(FiguresPublic.model_fields)


def _figures(figures: Figures) -> dict[str, float | int | None]:
    return {name: getattr(figures, name) for name in FIELDS}


def _line(line: Line, report: Report, *, buckets: bool = True) -> LinePublic:
    return LinePublic(
        key=line.key,
        name=line.name,
        name_en=line.name_en,
        site_id=line.site_id,
        total=FiguresPublic.model_validate(_figures(line.total)),
        buckets=[
            BucketFigures(start=b.start, end=b.end, **_figures(f))
            for b, f in zip(report.buckets, line.per_bucket, strict=True)
        ]
        if buckets
        else [],
    )


def report_csv(report: Report, zone: ZoneInfo) -> str:
    """One row per group and bucket, bucket edges in the site's zone."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["group", "key", "name", "start", "end", *FIELDS])
    for line in report.lines:
        for bucket, figures in zip(report.buckets, line.per_bucket, strict=True):
            row = _figures(figures)
            writer.writerow(
                [
                    report.group,
                    line.key,
                    line.name,
                    bucket.start.astimezone(zone).isoformat(),
                    bucket.end.astimezone(zone).isoformat(),
                    *("" if row[name] is None else row[name] for name in FIELDS),
                ]
            )
    return out.getvalue()


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SMARTFAB"].site.default_timezone)


@operation(
    bp,
    "/reports/utilisation",
    "GET",
    summary="Utilisation per site, kind or resource (operators: their sites); format=csv",
    query=UtilisationQuery,
    response=UtilisationReport,
    errors=(403, 422),
    media=("text/csv",),
)
def utilisation_report(query: UtilisationQuery) -> UtilisationReport | Response:
    zone = site_zone()
    start, end = this_month(now(), zone)
    report = utilisation(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        group=query.group,
        every=query.every,
        start=query.from_ or start,
        end=query.to or end,
        zone=zone,
    )
    if query.format == "csv":
        name = f"utilisation-{report.group}-{report.every}.csv"
        return Response(
            report_csv(report, zone),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return UtilisationReport(
        group=report.group,
        every=report.every,
        start=report.start,
        end=report.end,
        lines=[_line(line, report) for line in report.lines],
        least_used=[_line(line, report, buckets=False) for line in report.least_used],
        most_used=[_line(line, report, buckets=False) for line in report.most_used],
    )
