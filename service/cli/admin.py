"""Schema, accounts and demo data."""

from __future__ import annotations

import click

from . import _Context, cli, pass_context


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
    from sqlmodel import Session

    from ..db import make_engine
    from ..errors import DomainError
    from ..models import RoleName
    from ..rules.accounts import create_account

    with Session(make_engine(ctx.settings.database.url)) as session:
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
    from sqlmodel import Session

    from ..db import make_engine
    from ..demo_data import seed_demo

    with Session(make_engine(ctx.settings.database.url)) as session:
        summary = seed_demo(session=session)
    click.echo(summary)
