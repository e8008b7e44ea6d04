"""The operators' alerts and dead-letters pages, and the count of open alerts in the header."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from devices.contract import topic_for
from service.models import Alert, AlertKind, AuditLog
from service.rules.devices import new_alert
from telemetry.deadletters import dead_letters
from tests.conftest import CURRENT_TIME
from tests.pages import csrf_token, login

# Rendering, not SQL semantics: SQLite is enough.
pytestmark = pytest.mark.sqlite_only

T0 = CURRENT_TIME - timedelta(hours=2)


@pytest.fixture
def alerts(session, world) -> dict[str, int]:
    seongsu, mullae = world.sites["seongsu"].id, world.sites["mullae"].id
    made = {
        "laser": new_alert(
            now=T0,
            kind=AlertKind.offline,
            subject="seongsu/laser-1",
            message="seongsu/laser-1 went offline",
            site_id=seongsu,
            resource_id=world.id("laser"),
        ),
        "cnc": new_alert(
            now=T0 + timedelta(minutes=30),
            kind=AlertKind.fault,
            subject="seongsu/cnc-1",
            message="seongsu/cnc-1 reports a fault",
            site_id=seongsu,
            resource_id=world.id("cnc"),
        ),
        "lathe": new_alert(
            now=T0,
            kind=AlertKind.offline,
            subject="mullae/lathe-1",
            message="mullae/lathe-1 went offline",
            site_id=mullae,
            resource_id=world.id("lathe"),
        ),
        "ghosts": new_alert(
            now=T0,
            kind=AlertKind.unknown_device,
            subject="seongsu/*",
            message="messages from devices nobody registered at seongsu",
            site_id=seongsu,
        ),
    }
    made["ghosts"].count, made["ghosts"].recent = 42, ["seongsu/ghost-9", "seongsu/ghost-8"]
    made["ghosts"].last_at = T0 + timedelta(minutes=5)
    made["cnc"].closed_at = T0 + timedelta(hours=1)
    session.add_all(made.values())
    session.commit()
    return {name: alert.id for name, alert in made.items()}


def text(answer) -> str:
    return answer.get_data(as_text=True)


def english(client, email: str) -> None:
    login(client, email=email)
    client.post(
        "/language", data={"locale": "en", "next": "/", "csrf_token": csrf_token(client, "/")}
    )


def post(client, path: str, **form) -> object:
    token = csrf_token(client, "/ops/alerts?state=all")
    return client.post(path, data={"csrf_token": token, **form})


def test_an_operator_sees_the_open_alerts_of_their_site(client, world, alerts):
    english(client, "operator@example.com")
    page = text(client.get("/ops/alerts"))
    assert f'id="alert-{alerts["laser"]}"' in page
    assert f'id="alert-{alerts["ghosts"]}"' in page
    assert f'id="alert-{alerts["lathe"]}"' not in page  # another site
    assert f'id="alert-{alerts["cnc"]}"' not in page  # resolved
    assert "Device offline" in page and "Unregistered devices" in page
    assert "2026-03-02 07:00 KST" in page  # opened, in the site's zone
    assert "seongsu/ghost-9" in page and ">42<" in page


def test_the_filters_show_resolved_alerts_of_a_kind(client, world, alerts):
    english(client, "admin@example.com")
    page = text(client.get("/ops/alerts?state=closed&kind=fault&site=seongsu"))
    assert f'id="alert-{alerts["cnc"]}"' in page
    assert page.count('class="card"') == 1
    assert "Resolved" in page and "automatically" in page


@pytest.mark.parametrize("query", ["kind=flood", "state=ajar", "site=mullae", "since=yesterday"])
def test_a_filter_the_page_does_not_offer_is_refused(client, world, alerts, query):
    login(client, email="operator@example.com")
    assert client.get(f"/ops/alerts?{query}").status_code == 400


def test_acknowledging_from_the_page_records_the_note_and_comes_back(
    client, session, world, alerts
):
    english(client, "operator@example.com")
    laser = alerts["laser"]
    answer = post(
        client, f"/ops/alerts/{laser}/ack", note="on my way", next="/ops/alerts?kind=offline"
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/ops/alerts?kind=offline"
    page = text(client.get("/ops/alerts?kind=offline"))
    assert "The alert is acknowledged." in page
    assert "on my way" in page and "operator" in page
    session.expire_all()
    stored = session.get(Alert, laser)
    assert (stored.acknowledged_by, stored.acknowledged_at, stored.ack_note) == (
        world.id("operator"),
        CURRENT_TIME,
        "on my way",
    )
    [entry] = session.exec(select(AuditLog).where(AuditLog.action == "alert.acknowledge")).all()
    assert (entry.actor_id, entry.subject) == (world.id("operator"), f"alert:{laser}")


def test_resolving_twice_says_it_is_resolved_already(client, session, world, alerts):
    english(client, "operator@example.com")
    laser = alerts["laser"]
    assert post(client, f"/ops/alerts/{laser}/resolve", note="cable").status_code == 302
    again = post(client, f"/ops/alerts/{laser}/resolve")
    assert again.status_code == 302
    page = text(client.get(again.headers["Location"]))
    assert "This alert has already been resolved." in page
    session.expire_all()
    assert session.get(Alert, laser).close_note == "cable"


def test_a_note_too_long_is_refused_with_a_sentence(client, session, world, alerts):
    english(client, "operator@example.com")
    answer = post(client, f"/ops/alerts/{alerts['laser']}/ack", note="x" * 501)
    page = text(client.get(answer.headers["Location"]))
    assert "The note is too long." in page
    session.expire_all()
    assert session.get(Alert, alerts["laser"]).acknowledged_at is None


def test_an_alert_of_another_site_cannot_be_handled_from_the_page(client, session, world, alerts):
    login(client, email="operator@example.com")
    assert post(client, f"/ops/alerts/{alerts['lathe']}/resolve").status_code == 404
    session.expire_all()
    assert session.get(Alert, alerts["lathe"]).closed_at is None


def test_a_form_without_its_csrf_token_is_refused(client, session, world, alerts):
    login(client, email="operator@example.com")
    answer = client.post(f"/ops/alerts/{alerts['laser']}/ack", data={"note": "x"})
    assert answer.status_code == 400
    session.expire_all()
    assert session.get(Alert, alerts["laser"]).acknowledged_at is None


def test_the_way_back_stays_on_the_site(client, world, alerts):
    login(client, email="operator@example.com")
    answer = post(client, f"/ops/alerts/{alerts['laser']}/ack", next="https://evil.example/")
    assert answer.headers["Location"] == "/ops/alerts"


def test_staff_see_their_count_of_open_alerts_in_the_header(client, world, alerts):
    english(client, "operator@example.com")
    page = text(client.get("/resources"))
    assert "2 open alerts" in page  # laser and the unregistered devices; not Mullae's
    client.post("/logout", data={"csrf_token": csrf_token(client, "/resources")})
    english(client, "mullae@example.com")
    assert "1 open alert<" in text(client.get("/resources"))


def test_makers_see_no_alert_count(client, world, alerts):
    login(client, email="maker@example.com")
    page = text(client.get("/resources"))
    assert "open alert" not in page and 'class="alert-count' not in page


# -- dead letters -------------------------------------------------------------------------


@pytest.fixture
def letters(session, world) -> None:
    dead_letters(
        session=session,
        now=T0,
        letters=[
            (
                topic_for("smartfab", "seongsu", "laser-1", "telemetry"),
                "not_json",
                b"<script>alert(1)</script>",
            ),
            (topic_for("smartfab", "seongsu", "laser-1", "telemetry"), "not_json", b"\xff{"),
            (topic_for("smartfab", "mullae", "lathe-1", "status"), "bad_status", b"maybe"),
            ("garbage/topic", "unknown_topic", b"x" * 1000),
        ],
    )
    session.commit()


def test_a_payload_is_shown_as_text_never_as_markup(client, world, letters):
    login(client, email="operator@example.com")
    page = text(client.get("/ops/dead-letters"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "\\xff{" in page


def test_an_operator_sees_their_sites_letters_and_counts_per_reason(client, world, letters):
    english(client, "operator@example.com")
    page = text(client.get("/ops/dead-letters"))
    assert "smartfab/seongsu/laser-1/telemetry" in page
    assert "mullae" not in page.split("<main")[1].replace("문래", "")
    assert "garbage/topic" not in page
    assert (
        '<td class="lead"><code>not_json</code></td><td class="num" data-label="Messages">2<'
        in (page.replace("\n", "").replace("  ", ""))
    )


def test_an_admin_sees_every_letter_and_may_narrow_by_reason(client, world, letters):
    english(client, "admin@example.com")
    page = text(client.get("/ops/dead-letters?reason=unknown_topic"))
    assert "garbage/topic" in page
    assert "smartfab/seongsu/laser-1/telemetry" not in page
    assert "1000 bytes" in page


def test_an_operator_may_not_ask_for_another_sites_letters(client, world, letters):
    login(client, email="operator@example.com")
    assert client.get("/ops/dead-letters?site=mullae").status_code == 400
    assert client.get("/ops/dead-letters?before=abc").status_code == 400
