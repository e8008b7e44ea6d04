"""An operator approves a pending booking; the display beside a machine rides out a restart."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import Session, col, select
from werkzeug.serving import make_server

from service.app import create_app
from service.config import load_settings
from service.demo_data import DEMO_PASSWORD
from service.models import Resource
from service.pages import display
from tests.browser.conftest import MAKER, LiveServer, axe_violations, log_in, wait_for_path

SEOUL = ZoneInfo("Asia/Seoul")
OPERATOR = "operator@smartfab.example"
ROOT = Path(__file__).resolve().parents[2]


def _call(live_server: LiveServer, method: str, path: str, body: Any, token: str = "") -> Any:
    answer = requests.request(
        method,
        live_server(path),
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return answer.json() if answer.content else None


def _pending(live_server: LiveServer) -> int:
    """Through the API: the maker asks for the Seongsu showroom, which needs approval."""
    token = _call(
        live_server, "POST", "/api/v1/auth/token", {"email": MAKER, "password": DEMO_PASSWORD}
    )["token"]
    rooms = _call(live_server, "GET", "/api/v1/resources?site=seongsu&kind=room", None, token)
    showroom = next(r for r in rooms if r["requires_approval"])
    day = datetime.now(SEOUL).date()
    for ahead in range(2, 14):
        when = day + timedelta(days=ahead)
        if when.weekday() >= 5:
            continue
        for hour in (10, 13, 15):
            start = datetime(when.year, when.month, when.day, hour, tzinfo=SEOUL)
            body = {
                "resource_id": showroom["id"],
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
            }
            answer = _call(live_server, "POST", "/api/v1/reservations", body, token)
            if answer.get("status") == "pending":
                return int(answer["id"])
    pytest.fail("no free hour in the showroom in the demo data")


def test_an_operator_approves_a_pending_booking(browser, live_server):
    booking = _pending(live_server)
    log_in(browser, live_server, OPERATOR)
    browser.get(live_server("/ops/approvals"))
    card = browser.find_element(By.ID, f"reservation-{booking}")
    assert axe_violations(browser) == []
    card.find_element(By.CSS_SELECTOR, "form[action$='/approve'] button").click()
    wait_for_path(browser, "/ops/approvals")
    WebDriverWait(browser, 10).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "p.done[role=status]")
    )
    assert not browser.find_elements(By.ID, f"reservation-{booking}")
    token = _call(
        live_server, "POST", "/api/v1/auth/token", {"email": OPERATOR, "password": DEMO_PASSWORD}
    )["token"]
    read = _call(live_server, "GET", f"/api/v1/reservations/{booking}", None, token)
    assert read["status"] == "confirmed"


class Restartable:
    """The app on one fixed port, which can be stopped and started again."""

    def __init__(self, live_server: LiveServer) -> None:
        url = live_server.engine.url.render_as_string(hide_password=False)
        settings = load_settings(
            path=ROOT / "config.toml", environ={}, overrides={"database": {"url": url}}
        )
        self.app = create_app(settings, live_server.engine)
        self.port = 0
        self.server: Any = None

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_display_says_it_lost_contact_and_recovers_after_a_restart(
    browser, live_server, monkeypatch
):
    monkeypatch.setattr(display, "REFRESH_SECONDS", 1)
    with Session(live_server.engine) as session:
        secret = session.exec(
            select(Resource.display_secret).where(col(Resource.active).is_(True))
        ).first()
    server = Restartable(live_server)
    server.start()
    try:
        browser.get(f"http://127.0.0.1:{server.port}/display/{secret}")
        notice = browser.find_element(By.ID, "contact")
        assert not notice.is_displayed()
        assert browser.find_elements(By.CSS_SELECTOR, ".qr svg")
        server.stop()
        WebDriverWait(browser, 15).until(lambda b: notice.is_displayed())
        assert ":" in notice.text  # since HH:MM
        assert browser.find_element(By.CSS_SELECTOR, "#board h1").text  # the last board stays
        server.start()
        WebDriverWait(browser, 15).until(lambda b: not notice.is_displayed())
    finally:
        server.stop()
