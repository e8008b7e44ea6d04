"""Invoices of a month for staff: payment state, mark paid, the accounting and e-tax files."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ...api.context import now
from ...api.invoice_files import csv_download, etax_csv, ledger_for, tax_invoices_for
from ...db import get_session
from ...errors import DomainError
from ...rules.invoice_exports import period_papers
from ...rules.payments import may_record, payment_states, record_payment
from ...rules.pricing import parse_period
from ..auth import staff_required
from ..i18n import money
from ..invoice_sheet import billing_terms
from ..messages import PAY_STATES, refusal
from ..render import render_page
from .base import bp


def _period() -> str:
    """The month asked for; by default the last one that has ended at the site."""
    terms = billing_terms()
    asked = request.args.get("period")
    if asked:
        return parse_period(asked, terms.zone).name
    first = now().astimezone(terms.zone).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@bp.get("/invoices")
@staff_required
def invoices() -> str:
    db, terms, period = get_session(), billing_terms(), _period()
    month = parse_period(period, terms.zone)
    found = period_papers(session=db, actor=g.principal, terms=terms, period=period)
    states = payment_states(session=db, now=now(), terms=terms, invoices=[p.invoice for p in found])
    rows = [(p, states[p.invoice.id or 0]) for p in found]
    return render_page(
        "admin/invoices.html",
        period=period,
        previous=(month.start - timedelta(days=1)).strftime("%Y-%m"),
        following=month.end.strftime("%Y-%m"),
        rows=rows,
        can_record={p.invoice.id: may_record(g.principal, s) for p, s in rows},
        pay_states=PAY_STATES,
        owed=sum(s.outstanding for _p, s in rows),
    )


@bp.get("/invoices/export.csv")
@staff_required
def invoices_csv() -> BaseResponse:
    period = _period()
    text = ledger_for(
        session=get_session(), now=now(), actor=g.principal, terms=billing_terms(), period=period
    )
    return csv_download(text, f"invoices-{period}.csv")


@bp.get("/invoices/etax.csv")
@staff_required
def invoices_etax() -> BaseResponse:
    period = _period()
    docs = tax_invoices_for(
        session=get_session(),
        now=now(),
        actor=g.principal,
        terms=billing_terms(),
        supplier=current_app.config["SMARTFAB"].billing.supplier,
        period=period,
    )
    return csv_download(etax_csv(docs), f"etax-{period}.csv")


@bp.post("/invoices/<int:invoice_id>/payments")
@staff_required
def mark_paid(invoice_id: int) -> BaseResponse:
    """Record that everything still owed was paid today; back where the button was."""
    db = get_session()
    try:
        payment = record_payment(
            session=db,
            now=now(),
            terms=billing_terms(),
            actor=g.principal,
            invoice_id=invoice_id,
            note=_("marked paid on the invoices page"),
        )
    except DomainError as exc:
        db.rollback()
        flash(refusal(exc), "error")
    else:
        db.commit()
        flash(_("Payment of %(amount)s recorded.", amount=money(payment.amount_won)))
    if request.form.get("back") == "invoice":
        return redirect(url_for("mine.invoice", invoice_id=invoice_id))
    period = request.form.get("period") or None
    return redirect(url_for("admin.invoices", period=period))
