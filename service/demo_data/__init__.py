"""The demo data set: Seoul's Seongsu regional center and four specialised centers.

`seed_demo` only adds what is missing (sites by slug, resources by site and slug,
accounts by e-mail, …), so running it again adds nothing.
"""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session

from ..rules.devices import ensure_devices
from .billing import seed_billing
from .people import DEMO_PASSWORD, seed_companies, seed_people, seed_trainings
from .rentals import seed_rentals
from .resources import seed_resources
from .sites import seed_blackouts, seed_sites

__all__ = ["DEMO_PASSWORD", "seed_demo"]

_ORDER = (
    "sites",
    "opening hours",
    "machines",
    "rooms",
    "holiday closures",
    "maintenance windows",
    "companies",
    "accounts",
    "trainings",
    "devices",
    "rate plans",
    "price versions",
    "priced resources",
    "memberships",
    "members",
    "rental contracts",
)


def seed_demo(*, session: Session) -> str:
    """Add the missing demo sites, resources, people and prices; commit; summarise."""
    tally: Counter[str] = Counter()
    sites = seed_sites(session=session, tally=tally)
    resources = seed_resources(session=session, sites=sites, tally=tally)
    seed_blackouts(session=session, sites=sites, resources=resources, tally=tally)
    companies = seed_companies(session=session, tally=tally)
    accounts = seed_people(session=session, sites=sites, companies=companies, tally=tally)
    seed_trainings(session=session, accounts=accounts, tally=tally)
    seed_billing(session=session, resources=resources, accounts=accounts, tally=tally)
    seed_rentals(session=session, resources=resources, companies=companies, tally=tally)
    for site in sites.values():
        if created := ensure_devices(session=session, site=site):
            tally["devices"] += len(created)
    session.commit()
    if not tally:
        return "demo data already present: nothing added"
    return "seeded " + ", ".join(f"{tally[kind]} {kind}" for kind in _ORDER if tally[kind])
