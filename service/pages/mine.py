"""A person's own things: what they used, their invoices, trainings and settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ..api.context import now
from ..db import get_session
from ..models import Company, Invoice, InvoiceLine, LineBasis, Resource, Site, UsageSession
from ..rules.accounts import reset_ical_secret, token_digest
from ..rules.invoicing import (
    credit_note_of,
    get_invoice,
    invoice_lines,
    list_invoices,
    replacement_of,
)
from ..rules.payers import payer_names, sections
from ..rules.payments import may_record, payment_states
from ..rules.policy import list_trainings
from ..rules.pricing import parse_period
from ..rules.tokens import list_tokens, revoke_token_by_id
from ..rules.usage import usage_with_places
from .auth import login_required
from .cells import duration
from .i18n import LOCALES, site_zone
from .i18n import language as page_language
from .invoice_pdf import FontMissing
from .invoice_pdf import invoice_pdf as invoice_pdf_bytes
from .invoice_sheet import billing_terms, sheet_of
from .messages import PAY_METHODS, PAY_STATES
from .render import render_page

bp = Blueprint("mine", __name__, template_folder="templates", url_prefix="/me")

ID = re.compile(r"[1-9][0-9]{0,8}")
# Each language named in itself, so a reader finds theirs whatever the page speaks.
LANGUAGE_NAMES = (("ko", "한국어"), ("en", "English"))
# Lines billed by the minute; the others are monthly fees.
TIMED = frozenset({LineBasis.run_time, LineBasis.booked_time, LineBasis.no_show})


@dataclass(frozen=True)
class Run:
    """A usage session with the machine and center it was on."""

    session: UsageSession
    resource: Resource
    site: Site

    @property
    def minutes(self) -> int:
        # Whole minutes, rounded up as the invoice counts them.
        return -(-self.session.run_seconds // 60)


@dataclass(frozen=True)
class Paper:
    """An invoice or credit note as a reader sees it: what it is now, and its counterpart."""

    invoice: Invoice
    # "issued", "cancelled" (a credit note cancels all of it), "corrected" (a credit note
    # cancels some of its lines) or "credit_note" (it cancels all or part of `other`).
    state: str
    other: Invoice | None = None
    # A credit note for only some lines of `other`.
    partial: bool = False


def _paper(invoice: Invoice, cancels: Invoice | None, credited_by: Invoice | None) -> Paper:
    if invoice.corrects_id is not None:
        partial = cancels is not None and invoice.total != -cancels.total
        return Paper(invoice, "credit_note", cancels, partial)
    if credited_by is not None:
        partial = credited_by.total != -invoice.total
        return Paper(invoice, "corrected" if partial else "cancelled", credited_by, partial)
    return Paper(invoice, "issued")


@bp.app_template_filter("energy")
def energy(watt_hours: float) -> str:
    """Energy as people read a meter: Wh below one kWh, kWh with two decimals above."""
    if watt_hours < 1000:
        return f"{watt_hours:,.0f} Wh"
    return f"{watt_hours / 1000:,.2f} kWh"


# Minutes as people say them (1 h 30 min / 1시간 30분), the same words as the timeline's.
bp.add_app_template_filter(duration, "duration")


@bp.get("/usage")
@login_required
def usage() -> str:
    zone = site_zone()
    month = request.args.get("month") or now().astimezone(zone).strftime("%Y-%m")
    period = parse_period(month, zone)
    runs = [
        Run(*row)
        for row in usage_with_places(
            session=get_session(),
            actor=g.principal,
            account_id=g.principal.id,
            start=period.start,
            end=period.end,
        )
    ]
    return render_page(
        "mine/usage.html",
        block="results",
        month=month,
        previous=(period.start - timedelta(days=1)).strftime("%Y-%m"),
        following=period.end.strftime("%Y-%m"),
        runs=runs,
        total_minutes=sum(run.minutes for run in runs),
        total_wh=sum(run.session.energy_wh for run in runs),
    )


@bp.get("/invoices")
@login_required
def invoices() -> str:
    db = get_session()
    found = list_invoices(session=db, actor=g.principal, period=None, account_id=None)
    # Newest first; who may read which is the rule's answer, not this page's.
    found.reverse()
    by_id = {i.id or 0: i for i in found}
    credits = {i.corrects_id: i for i in found if i.corrects_id is not None}
    # Who pays is shown once anyone else does: another person (for staff) or a company.
    theirs = [i for i in found if i.account_id != g.principal.id]
    return render_page(
        "mine/invoices.html",
        papers=[_paper(i, by_id.get(i.corrects_id or 0), credits.get(i.id or 0)) for i in found],
        names=payer_names(session=db, invoices=theirs),
        payments=payment_states(session=db, now=now(), terms=billing_terms(), invoices=found),
        pay_states=PAY_STATES,
    )


def _readable(invoice_id: str) -> Invoice:
    # Only what a stored id can be: no other digits, nothing past the column's range.
    if not ID.fullmatch(invoice_id):
        abort(404)
    found = get_invoice(session=get_session(), actor=g.principal, invoice_id=int(invoice_id))
    assert found.id is not None  # noqa: S101 - a stored invoice has its id
    return found


@bp.get("/invoices/<invoice_id>.pdf")
@login_required
def invoice_pdf(invoice_id: str) -> BaseResponse | tuple[str, int]:
    sheet = sheet_of(session=get_session(), invoice=_readable(invoice_id))
    try:
        document = invoice_pdf_bytes(sheet)
    except FontMissing:
        # The page still shows the invoice; only its PDF waits for a font with Hangul.
        current_app.logger.exception("invoice PDF without a font")
        message = _(
            "The PDF cannot be made here: the server has no font with Hangul. "
            "The invoice page shows everything the PDF would."
        )
        return render_template("error.html", message=message), 503
    return Response(
        document,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{sheet.invoice.number}.pdf"'},
    )


@bp.get("/invoices/<invoice_id>")
@login_required
def invoice(invoice_id: str) -> str:
    found = _readable(invoice_id)
    assert found.id is not None  # noqa: S101 - a stored invoice has its id
    db = get_session()
    cancels: Invoice | None = None
    if found.corrects_id is not None:
        cancels = get_invoice(session=db, actor=g.principal, invoice_id=found.corrects_id)
    lines: list[InvoiceLine] = invoice_lines(session=db, invoice_id=found.id)
    credited_by = credit_note_of(session=db, actor=g.principal, invoice_id=found.id)
    replaces: Invoice | None = None
    if found.replaces_id is not None:
        replaces = get_invoice(session=db, actor=g.principal, invoice_id=found.replaces_id)
    sheet = sheet_of(session=db, invoice=found)
    return render_page(
        "mine/invoice.html",
        paper=_paper(found, cancels, credited_by),
        replaces=replaces,
        replaced_by=replacement_of(session=db, actor=g.principal, invoice_id=found.id),
        invoice=found,
        lines=lines,
        sheet=sheet,
        timed=TIMED,
        pay_states=PAY_STATES,
        methods=PAY_METHODS,
        can_record=may_record(g.principal, sheet.payment),
        owner=payer_names(session=db, invoices=[found]).get(found.id or 0),
        company=db.get(Company, found.company_id) if found.company_id else None,
        sections=sections(session=db, lines=lines) if found.company_id else [],
    )


@bp.get("/trainings")
@login_required
def trainings() -> str:
    return render_page(
        "mine/trainings.html",
        trainings=list_trainings(
            session=get_session(), account_id=g.principal.id, now=now(), zone=site_zone()
        ),
        today=now().astimezone(site_zone()).date(),
    )


@bp.get("/settings")
@login_required
def settings() -> str:
    return render_page(
        "mine/settings.html",
        feed=url_for("home.ical", secret=g.account.ical_secret, _external=True),
        languages=[(code, name) for code, name in LANGUAGE_NAMES if code in LOCALES],
        tokens=list_tokens(
            session=get_session(),
            now=now(),
            account_id=g.principal.id,
            current=session.get("token"),
        ),
    )


@bp.post("/settings/calendar-link")
def reset_calendar_link() -> BaseResponse:
    if g.get("account") is None:
        # After the login, back to the page with the button: this address only takes a POST.
        return redirect(url_for("signin.login", next=url_for("mine.settings")))
    db = get_session()
    reset_ical_secret(session=db, now=now(), account_id=g.principal.id)
    db.commit()
    flash(_("Your calendar has a new link. The old link no longer works."))
    return redirect(url_for("mine.settings"))


@bp.post("/settings/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> BaseResponse:
    if g.get("account") is None:
        return redirect(url_for("signin.login", next=url_for("mine.settings")))
    db = get_session()
    ended = revoke_token_by_id(session=db, now=now(), actor=g.principal, token_id=token_id)
    db.commit()
    current = session.get("token")
    if current and ended.token_hash == token_digest(current):
        # Ending this browser's own login signs it out at once, as logging out does.
        # The login page that follows speaks the language this page spoke.
        spoken = page_language()
        session.clear()
        session["locale"] = spoken
        flash(_("You ended this browser's session. Log in again to continue."))
        return redirect(url_for("signin.login"))
    flash(_("That session or token is ended: it no longer opens anything."))
    return redirect(url_for("mine.settings"))
