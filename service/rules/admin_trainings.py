"""Who holds which training, until when: granting, extending and revoking.

Admins manage every training; an operator the trainings for the machine types of the
sites they operate, held by makers.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from ..errors import Forbidden, NotFound
from ..models import Account, Resource, Training
from ..models.admin import TrainingGrant, TrainingUpdate
from .accounts import Principal
from .admin_accounts import list_people, load_person, require_staff
from .audit import record


def categories_for(*, session: Session, actor: Principal) -> list[str]:
    """The machine types `actor` may train people for, sorted."""
    require_staff(actor)
    rows = session.exec(select(Resource.category, Resource.site_id).where(Resource.category != ""))
    return sorted({category for category, site_id in rows if actor.operates(site_id)})


def held_trainings(*, session: Session, actor: Principal) -> list[tuple[Training, Account]]:
    """The trainings `actor` manages with their holders, by holder and machine type.

    An operator sees the makers' trainings for the machine types of their sites.
    """
    allowed = set(categories_for(session=session, actor=actor))
    rows = session.exec(
        select(Training, Account)
        .join(Account, col(Account.id) == col(Training.account_id))
        .order_by(col(Account.name), col(Training.category))
    ).all()
    if actor.admin:
        return list(rows)
    makers = {p.account.id for p in list_people(session=session, actor=actor)}
    return [(t, a) for t, a in rows if t.category in allowed and a.id in makers]


def _check(session: Session, actor: Principal, account_id: int, category: str) -> None:
    load_person(session=session, actor=actor, account_id=account_id)
    if not actor.admin and category not in categories_for(session=session, actor=actor):
        raise Forbidden("you train people only for the machines of your site")


def load_training_for(*, session: Session, actor: Principal, training_id: int) -> Training:
    training = session.get(Training, training_id)
    if training is None:
        raise NotFound(f"no training {training_id}")
    _check(session, actor, training.account_id, training.category)
    return training


def grant_training(
    *, session: Session, now: datetime, actor: Principal, body: TrainingGrant
) -> Training:
    """Grant a training; one already held for the type gets the new expiry."""
    _check(session, actor, body.account_id, body.category)
    training = session.exec(
        select(Training).where(
            Training.account_id == body.account_id, Training.category == body.category
        )
    ).first()
    if training is None:
        training = Training(account_id=body.account_id, category=body.category)
    training.expires_on = body.expires_on
    session.add(training)
    session.flush()
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="training.granted",
        subject=f"account:{body.account_id}",
        training_id=training.id,
        **body.model_dump(mode="json"),
    )
    return training


def extend_training(
    *, session: Session, now: datetime, actor: Principal, training_id: int, body: TrainingUpdate
) -> Training:
    """Set a training's expiry (None: no end)."""
    training = load_training_for(session=session, actor=actor, training_id=training_id)
    before = training.expires_on
    training.expires_on = body.expires_on
    session.add(training)
    session.flush()
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="training.extended",
        subject=f"account:{training.account_id}",
        training_id=training.id,
        category=training.category,
        expires_on=[
            before.isoformat() if before else None,
            body.expires_on.isoformat() if body.expires_on else None,
        ],
    )
    return training


def revoke_training(*, session: Session, now: datetime, actor: Principal, training_id: int) -> None:
    training = load_training_for(session=session, actor=actor, training_id=training_id)
    session.delete(training)
    session.flush()
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="training.revoked",
        subject=f"account:{training.account_id}",
        training_id=training_id,
        category=training.category,
    )
