"""Demo rental contracts: resident firms hold the incubation offices of Seongsu.

Each contract is added once (a room already let is left as it is); the firms'
people bill to their company, so each firm gets one invoice a month with a section
per person, and the firm's representative is named on it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time

from sqlmodel import Session, select

from ..models import Account, Company, RentalContract, Resource

# (site slug, room slug) -> (company, first day, monthly fee in won, VAT included)
CONTRACTS: dict[tuple[str, str], tuple[str, date, int]] = {
    ("seongsu", "incubator-301"): ("한결수제화", date(2026, 1, 1), 300_000),
    ("seongsu", "incubator-302"): ("성수슈즈랩", date(2026, 3, 11), 300_000),
    ("seongsu", "incubator-303"): ("봉익골드공방", date(2026, 6, 1), 450_000),
}

# company -> representative (대표자), shown on its invoices; fictional people.
REPRESENTATIVES: dict[str, str] = {
    "한결수제화": "김한결",
    "성수슈즈랩": "박성수",
    "봉익골드공방": "이봉익",
}


def seed_rentals(
    *,
    session: Session,
    resources: dict[tuple[str, str], Resource],
    companies: dict[str, Company],
    tally: Counter[str],
) -> None:
    """Let the offices to their firms and have the firms' people bill to them."""
    let = set(session.exec(select(RentalContract.resource_id)))
    for key, (firm, start, fee) in CONTRACTS.items():
        room, company = resources[key], companies[firm]
        if room.id in let:
            continue
        session.add(
            RentalContract(
                resource_id=room.id or 0,
                company_id=company.id,
                start_date=start,
                monthly_fee=fee,
                created_at=datetime.combine(start, time(0), tzinfo=UTC),
            )
        )
        tally["rental contracts"] += 1
        if not company.representative:
            company.representative = REPRESENTATIVES.get(firm, "")
            session.add(company)
        for person in session.exec(select(Account).where(Account.company_id == company.id)):
            if not person.bills_to_company:
                person.bills_to_company = True
                session.add(person)
    session.flush()
