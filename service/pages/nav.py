"""The staff's navigation: one list of their pages, shown to whoever may open them.

An entry appears only when its page is registered, so an area can be added (or left
out of an app) without touching the layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ..rules.accounts import Principal


@dataclass(frozen=True)
class Entry:
    endpoint: str
    label: LazyString
    admin_only: bool = False


STAFF_PAGES = (
    Entry("ops_floor.floor", _l("Floor")),
    Entry("ops_today.today", _l("Today")),
    Entry("ops_today.approvals", _l("Approvals")),
    Entry("ops_alerts.alerts", _l("Alerts")),
    Entry("ops_machines.machines", _l("Machines")),
    Entry("ops_dead_letters.dead_letters", _l("Dead letters")),
    Entry("admin_regional.regional", _l("Regional view"), admin_only=True),
    Entry("admin.sites", _l("Sites"), admin_only=True),
    Entry("admin.resources", _l("Resources")),
    Entry("admin.devices", _l("Devices")),
    Entry("admin.trainings", _l("Trainings held")),
    Entry("admin.rentals", _l("Rental contracts"), admin_only=True),
    Entry("admin.accounts", _l("Accounts")),
    Entry("admin.plans", _l("Prices and memberships")),
    Entry("admin.invoices", _l("Invoices")),
)


@dataclass(frozen=True)
class Link:
    url: str
    label: LazyString
    current: bool


def staff_links(principal: Principal | None) -> list[Link]:
    """The staff pages this person may open, in the order of STAFF_PAGES."""
    if principal is None or not principal.is_staff:
        return []
    registered = current_app.view_functions
    return [
        Link(url_for(entry.endpoint), entry.label, request.endpoint == entry.endpoint)
        for entry in STAFF_PAGES
        if entry.endpoint in registered and (principal.admin or not entry.admin_only)
    ]


def role_home(principal: Principal) -> str | None:
    """Where `/` takes staff: an admin to the regional view, an operator to the floor."""
    registered = current_app.view_functions
    if principal.admin and "admin_regional.regional" in registered:
        return url_for("admin_regional.regional")
    if principal.is_staff and "ops_floor.floor" in registered:
        return url_for("ops_floor.floor")
    return None
