"""The reconcile report: for an issued month, what was invoiced against what the rules bill today.

Its differences are exactly the adjustment lines the account's next invoice will
carry (adjustments.py computes both), so after that invoice the month shows zero.
Operators see the sources on their sites' resources; administrators everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ..errors import Conflict, Forbidden
from ..models import Resource
from .accounts import Principal
from .adjustments import Balance, balances, issued_periods
from .pricing import BillingTerms, parse_period


@dataclass(frozen=True)
class Reconciliation:
    period: str
    items: list[Balance]

    @property
    def invoiced(self) -> int:
        return sum(row.invoiced for row in self.items)

    @property
    def billed_today(self) -> int:
        return sum(row.billed_today for row in self.items)

    @property
    def difference(self) -> int:
        """What later invoices still have to adjust for this month."""
        return sum(row.difference for row in self.items)


def reconcile(
    *, session: Session, terms: BillingTerms, actor: Principal, period: str
) -> Reconciliation:
    """The month's sources with invoiced, billed today and the difference; 409 if not issued."""
    if not actor.is_staff:
        raise Forbidden("only operators and administrators reconcile billing")
    parse_period(period, terms.zone)
    if period not in issued_periods(session=session):
        raise Conflict(
            f"{period} has not been issued: there is nothing to reconcile yet",
            details={"period": period},
            code="not_issued",
        )
    rows = balances(session=session, terms=terms, period=period)
    if not actor.admin:
        theirs = set(
            session.exec(select(Resource.id).where(col(Resource.site_id).in_(actor.operator_sites)))
        )
        rows = [row for row in rows if row.resource_id in theirs]
    return Reconciliation(period, rows)
