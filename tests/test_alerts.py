"""Storing alerts: at most one open alert per kind and subject, whoever raises it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from service.models import Alert, AlertKind
from service.rules.devices import new_alert
from service.rules.devices import open_alerts as store_alerts
from tests.conftest import CURRENT_TIME

T0 = CURRENT_TIME - timedelta(hours=1)


def test_an_alert_another_process_opened_meanwhile_is_kept_once(session, world):
    """The batch reads the open alerts first; one opened after that (by the scheduler,
    say) makes the batch's insert collide, and the batch keeps the one already open
    while still storing its other alerts."""

    session.add(
        new_alert(
            now=T0 - timedelta(minutes=5),
            kind=AlertKind.offline,
            subject="seongsu/laser-1",
            message="first",
        )
    )
    session.commit()
    store_alerts(
        session=session,
        alerts=[
            new_alert(now=T0, kind=AlertKind.offline, subject="seongsu/laser-1", message="second"),
            new_alert(now=T0, kind=AlertKind.fault, subject="seongsu/laser-1", message="fault"),
        ],
    )
    session.commit()
    session.expire_all()
    found = session.exec(select(Alert.kind, Alert.message).order_by(col(Alert.id))).all()
    assert sorted(found) == [("fault", "fault"), ("offline", "first")]
