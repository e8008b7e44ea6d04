"""Schema, accounts and demo data."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import click

from . import _Context, cli, pass_context

if TYPE_CHECKING:
    from ..errors import DomainError
    from ..models import Invoice


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_context
def db_upgrade(ctx: _Context, revision: str) -> None:
    """Apply the migrations."""
    from ..db import make_engine
    from ..migrate import upgrade

    engine = make_engine(ctx.settings.database.url)
    upgrade(engine, revision)
    click.echo(f"database at {revision}: {engine.url.render_as_string(hide_password=True)}")


@cli.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True)
@click.option("--name", default="")
@click.option(
    "--role", type=click.Choice(["maker", "operator", "admin"]), default="maker", show_default=True
)
@click.option("--site", "site_slug", default=None, help="Site slug (operators).")
@pass_context
def users_create(
    ctx: _Context, email: str, password: str, name: str, role: str, site_slug: str | None
) -> None:
    """Create an account with a role."""
    from ..db import make_engine, write_session
    from ..errors import DomainError
    from ..models import RoleName
    from ..rules.accounts import create_account

    # The write lock first (BEGIN IMMEDIATE on SQLite): a listener writing meanwhile is
    # waited for, instead of failing the command with "database is locked".
    with write_session(make_engine(ctx.settings.database.url)) as session:
        try:
            account = create_account(
                session=session,
                email=email,
                password=password,
                name=name or email.split("@")[0],
                role=RoleName(role),
                site_slug=site_slug,
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(f"created {role} {account.email} (id {account.id})")


@cli.command()
@click.option("--demo", is_flag=True, required=True, help="Load the Seongsu demo data set.")
@pass_context
def seed(ctx: _Context, demo: bool) -> None:
    """Load demo data (sites, machines, rooms, people); safe to run twice."""
    from ..clock import utcnow
    from ..db import make_engine, write_session
    from ..demo_data import seed_demo
    from ..demo_data.day import seed_day

    with write_session(make_engine(ctx.settings.database.url)) as session:
        summary = seed_demo(session=session)
        # Today's bookings for the demo makers, from now until the sites close.
        booked = len(seed_day(session=session, now=utcnow()).bookings())
        session.commit()
    click.echo(summary)
    if booked:
        click.echo(f"booked {booked} reservations for today")


@cli.group()
def invoices() -> None:
    """Billing."""


@invoices.command("issue")
@click.option("--period", required=True, help="A month that has ended, YYYY-MM.")
@pass_context
def invoices_issue(ctx: _Context, period: str) -> None:
    """Invoice every account that owes something for the month; safe to run twice."""
    from sqlmodel import Session

    from ..clock import utcnow
    from ..db import make_engine
    from ..errors import DomainError
    from ..rules.invoicing import issue_invoices
    from ..rules.pricing import BillingTerms

    terms = BillingTerms.from_settings(ctx.settings)
    engine = make_engine(ctx.settings.database.url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            done = issue_invoices(
                session=session, now=utcnow(), terms=terms, period=period, actor_id=None
            )
            session.commit()
    except DomainError as exc:
        raise click.ClickException(_refusal(exc)) from exc
    finally:
        engine.dispose()
    for invoice in done.created:
        payer = f"account {invoice.account_id}"
        if invoice.company_id:
            payer = f"company {invoice.company_id}"
        click.echo(f"{invoice.number}  {payer}  {invoice.total:,} {invoice.currency}")
    click.echo(
        f"{period}: {len(done.created)} invoice(s) issued, "
        f"{len(done.existing)} already issued before"
    )


def _refusal(exc: DomainError) -> str:
    """The refusal's sentence, and for a month held back, the runs that hold it."""
    if exc.code != "month_open":
        return exc.message
    held = [
        f"  session {run['id']}  {run['resource']}  started {run['started_at']}"
        for run in exc.details["sessions"]
    ]
    return "\n".join([exc.message, *held])


def _in_one_transaction(ctx: _Context, work: Callable[..., Invoice]) -> Invoice:
    """Run a billing rule as one unit of work; a refusal is a clean error, not a traceback."""
    from sqlmodel import Session

    from ..clock import utcnow
    from ..db import make_engine
    from ..errors import DomainError
    from ..rules.pricing import BillingTerms

    engine = make_engine(ctx.settings.database.url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            done = work(
                session=session,
                now=utcnow(),
                terms=BillingTerms.from_settings(ctx.settings),
                actor_id=None,
            )
            session.commit()
            return done
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        engine.dispose()


@invoices.command("credit")
@click.argument("invoice_id", type=int)
@click.option("--reason", required=True, help="Why the invoice is corrected.")
@click.option("--line", "line_ids", type=int, multiple=True, help="A line id; all if left out.")
@pass_context
def invoices_credit(ctx: _Context, invoice_id: int, reason: str, line_ids: tuple[int, ...]) -> None:
    """Correct an invoice with a credit note for all or the chosen lines."""
    from ..rules.credit_notes import credit_invoice

    note = _in_one_transaction(
        ctx,
        partial(
            credit_invoice,
            invoice_id=invoice_id,
            reason=reason,
            line_ids=list(line_ids) if line_ids else None,
        ),
    )
    click.echo(f"{note.number}  corrects invoice {invoice_id}  {note.total:,} {note.currency}")


@invoices.command("reissue")
@click.argument("invoice_id", type=int)
@pass_context
def invoices_reissue(ctx: _Context, invoice_id: int) -> None:
    """Invoice a credited invoice's month again, with a new number."""
    from ..rules.credit_notes import reissue_invoice

    invoice = _in_one_transaction(ctx, partial(reissue_invoice, invoice_id=invoice_id))
    click.echo(
        f"{invoice.number}  replaces invoice {invoice_id}  {invoice.total:,} {invoice.currency}"
    )


@invoices.command("reconcile")
@click.option("--period", required=True, help="An issued month, YYYY-MM.")
@pass_context
def invoices_reconcile(ctx: _Context, period: str) -> None:
    """What an issued month invoiced against what the rules bill today, by source."""
    from sqlmodel import Session

    from ..db import make_engine
    from ..errors import DomainError
    from ..rules.accounts import Principal
    from ..rules.pricing import BillingTerms
    from ..rules.reconcile import reconcile

    engine = make_engine(ctx.settings.database.url)
    try:
        with Session(engine) as session:
            report = reconcile(
                session=session,
                terms=BillingTerms.from_settings(ctx.settings),
                actor=Principal(id=0, admin=True),
                period=period,
            )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        engine.dispose()
    for row in report.items:
        if row.difference or row.credited:
            click.echo(
                f"{'company ' if row.company_id else 'account '}"
                f"{row.company_id or row.account_id}  {row.source} {row.source_id}  "
                f"invoiced {row.invoiced:,}  today {row.billed_today:,}  "
                f"difference {row.difference:,}{'  (credited)' if row.credited else ''}"
            )
    click.echo(
        f"{period}: invoiced {report.invoiced:,}, billed today {report.billed_today:,}, "
        f"difference {report.difference:,}"
    )
