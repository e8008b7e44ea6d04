"""Accounts: the list, a new account, and one account's role, password and logins."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ...api.context import now
from ...db import get_session
from ...errors import BadRequest, DomainError
from ...models import RoleName
from ...models.admin import AccountCreate, AccountUpdate, PasswordReset
from ...rules import admin_accounts
from ...rules.admin_catalogue import managed_sites
from ..auth import staff_required
from ..i18n import local_name
from ..render import render_page
from .base import ROLES, Page, bp
from .forms import admin_refusal, form_values, validate


def _choices() -> dict[str, Any]:
    """The roles and sites the form offers this person."""
    roles = ROLES if g.principal.admin else {RoleName.maker: ROLES[RoleName.maker]}
    sites = managed_sites(session=get_session(), actor=g.principal) if g.principal.admin else []
    companies = admin_accounts.list_companies(session=get_session()) if g.principal.admin else []
    return {
        "role_options": [(r.value, label) for r, label in roles.items()],
        "sites": sites,
        "site_options": [(s.id, local_name(s)) for s in sites],
        "company_options": [(c.id, c.name) for c in companies],
    }


@bp.get("/accounts")
@staff_required
def accounts() -> str:
    people = admin_accounts.list_people(session=get_session(), actor=g.principal)
    sites = {s.id: s for s in managed_sites(session=get_session(), actor=g.principal)}
    return render_page("admin/accounts.html", people=people, roles=ROLES, sites=sites)


@bp.route("/accounts/new", methods=["GET", "POST"])
@staff_required
def new_account() -> Page:
    values: dict[str, Any] = {"role": RoleName.maker.value}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = form_values(optional=("site_id", "password", "card_uid"))
        body, errors = validate(AccountCreate, values)
        if body is not None:
            db = get_session()
            try:
                person, password = admin_accounts.create_person(
                    session=db, now=now(), actor=g.principal, body=body
                )
            except DomainError as exc:
                db.rollback()
                errors = {"": admin_refusal(exc)}
            else:
                db.commit()
                flash(_("The account of %(name)s has been created.", name=person.account.name))
                if password:
                    flash(
                        _("Their password, shown only this once: %(password)s", password=password)
                    )
                return redirect(url_for("admin.account", account_id=person.account.id))
    page = render_page("admin/account_new.html", values=values, errors=errors, **_choices())
    return (page, 422) if errors else page


@bp.route("/accounts/<int:account_id>", methods=["GET", "POST"])
@staff_required
def account(account_id: int) -> Page:
    db = get_session()
    person = admin_accounts.load_person(session=db, actor=g.principal, account_id=account_id)
    values: dict[str, Any] = {
        "name": person.account.name,
        "role": person.role.value,
        "site_id": person.site_id,
        "card_uid": person.account.card_uid or "",
        "active": person.account.active,
        "company_id": person.account.company_id,
        "bills_to_company": person.account.bills_to_company,
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        # Who pays is an admin's field; other staff's forms do not carry it.
        paying = ("company_id", "bills_to_company") if g.principal.admin else ()
        values = form_values(
            flags=("active", *paying[1:]), optional=("site_id", "card_uid", *paying[:1])
        )
        body, errors = validate(AccountUpdate, values)
        if body is not None:
            try:
                admin_accounts.update_person(
                    session=db, now=now(), actor=g.principal, account_id=account_id, body=body
                )
            except DomainError as exc:
                db.rollback()
                errors = {"": admin_refusal(exc)}
            else:
                db.commit()
                flash(_("Saved."))
                return redirect(url_for("admin.account", account_id=account_id))
    return _account_page(person, values, errors)


def _account_page(
    person: admin_accounts.Person, values: dict[str, Any], errors: dict[str, str]
) -> Page:
    page = render_page(
        "admin/account.html", person=person, values=values, errors=errors, **_choices()
    )
    return (page, 422) if errors else page


@bp.post("/accounts/<int:account_id>/password")
@staff_required
def reset_password(account_id: int) -> Page:
    db = get_session()
    body, errors = validate(PasswordReset, form_values(optional=("password",)))
    password = None
    if body is not None:
        try:
            password = admin_accounts.reset_password(
                session=db, now=now(), actor=g.principal, account_id=account_id, body=body
            )
        except BadRequest as exc:
            errors = {"password": admin_refusal(exc)}
    if errors:
        person = admin_accounts.load_person(session=db, actor=g.principal, account_id=account_id)
        values = {
            "name": person.account.name,
            "role": person.role.value,
            "site_id": person.site_id,
            "card_uid": person.account.card_uid or "",
            "active": person.account.active,
        }
        return _account_page(person, values, errors)
    db.commit()
    flash(_("The password has been changed and every login of the account has ended."))
    if password:
        flash(_("The new password, shown only this once: %(password)s", password=password))
    return redirect(url_for("admin.account", account_id=account_id))


@bp.post("/accounts/<int:account_id>/revoke-tokens")
@staff_required
def revoke_tokens(account_id: int) -> BaseResponse:
    db = get_session()
    count = admin_accounts.revoke_tokens(
        session=db, now=now(), actor=g.principal, account_id=account_id
    )
    db.commit()
    flash(_("%(count)d logins have ended.", count=count))
    return redirect(url_for("admin.account", account_id=account_id))
