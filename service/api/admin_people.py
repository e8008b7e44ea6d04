"""Administering people: accounts and the trainings they hold (staff only, audited)."""

from __future__ import annotations

from flask import Blueprint, Response

from ..db import get_session
from ..models.admin import (
    AccountCreate,
    AccountUpdate,
    NewPassword,
    PasswordReset,
    PersonCreated,
    PersonPublic,
    Revoked,
    TrainingGrant,
    TrainingPublic,
    TrainingUpdate,
)
from ..rules import admin_accounts, admin_trainings
from ..rules.admin_accounts import Person
from .context import current_principal, now
from .openapi import operation

bp = Blueprint("admin_people", __name__, url_prefix="/api/v1")


def _public(person: Person) -> PersonPublic:
    account = person.account
    return PersonPublic(
        id=account.id or 0,
        email=account.email,
        name=account.name,
        role=person.role,
        site_id=person.site_id,
        active=account.active,
        card_uid=account.card_uid,
        company_id=account.company_id,
        bills_to_company=account.bills_to_company,
    )


@operation(
    bp,
    "/accounts",
    "GET",
    summary="Accounts the caller manages",
    response=list[PersonPublic],
    errors=(403,),
)
def list_accounts() -> list[PersonPublic]:
    people = admin_accounts.list_people(session=get_session(), actor=current_principal())
    return [_public(p) for p in people]


@operation(
    bp,
    "/accounts",
    "POST",
    summary="Create an account (a made-up password is shown once)",
    body=AccountCreate,
    response=PersonCreated,
    status=201,
    errors=(403, 409),
)
def create_account(body: AccountCreate) -> PersonCreated:
    person, password = admin_accounts.create_person(
        session=get_session(), now=now(), actor=current_principal(), body=body
    )
    return PersonCreated(**_public(person).model_dump(), password=password)


@operation(
    bp,
    "/accounts/<int:account_id>",
    "PATCH",
    summary="Change an account's name, role, site, card or active (deactivating revokes "
    "its tokens, page logins and calendar link)",
    body=AccountUpdate,
    response=PersonPublic,
    errors=(403, 404, 409),
)
def update_account(account_id: int, body: AccountUpdate) -> PersonPublic:
    person = admin_accounts.update_person(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        account_id=account_id,
        body=body,
    )
    return _public(person)


@operation(
    bp,
    "/accounts/<int:account_id>/password",
    "POST",
    summary="Set a new password, or make one up (shown once); ends the account's logins",
    body=PasswordReset,
    response=NewPassword,
    errors=(403, 404),
)
def reset_password(account_id: int, body: PasswordReset) -> NewPassword:
    password = admin_accounts.reset_password(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        account_id=account_id,
        body=body,
    )
    return NewPassword(password=password)


@operation(
    bp,
    "/accounts/<int:account_id>/revoke-tokens",
    "POST",
    summary="Revoke every API token and page login of an account",
    response=Revoked,
    errors=(403, 404),
)
def revoke_tokens(account_id: int) -> Revoked:
    count = admin_accounts.revoke_tokens(
        session=get_session(), now=now(), actor=current_principal(), account_id=account_id
    )
    return Revoked(revoked=count)


def _training(training: object) -> TrainingPublic:
    return TrainingPublic.model_validate(training, from_attributes=True)


@operation(
    bp,
    "/trainings",
    "GET",
    summary="Trainings held, with their expiry",
    response=list[TrainingPublic],
    errors=(403,),
)
def list_trainings() -> list[TrainingPublic]:
    rows = admin_trainings.held_trainings(session=get_session(), actor=current_principal())
    return [_training(t) for t, _ in rows]


@operation(
    bp,
    "/trainings",
    "POST",
    summary="Grant a training (or renew one held)",
    body=TrainingGrant,
    response=TrainingPublic,
    status=201,
    errors=(403, 404),
)
def grant_training(body: TrainingGrant) -> TrainingPublic:
    training = admin_trainings.grant_training(
        session=get_session(), now=now(), actor=current_principal(), body=body
    )
    return _training(training)


@operation(
    bp,
    "/trainings/<int:training_id>",
    "PATCH",
    summary="Extend or shorten a training",
    body=TrainingUpdate,
    response=TrainingPublic,
    errors=(403, 404),
)
def extend_training(training_id: int, body: TrainingUpdate) -> TrainingPublic:
    training = admin_trainings.extend_training(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        training_id=training_id,
        body=body,
    )
    return _training(training)


@operation(
    bp,
    "/trainings/<int:training_id>",
    "DELETE",
    summary="Revoke a training",
    status=204,
    errors=(403, 404),
)
def revoke_training(training_id: int) -> Response:
    admin_trainings.revoke_training(
        session=get_session(), now=now(), actor=current_principal(), training_id=training_id
    )
    return Response(status=204)
