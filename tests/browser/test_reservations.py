"""My reservations in a real browser: see a booking by its machine's name, move it, cancel it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from service.demo_data import DEMO_PASSWORD
from tests.browser.conftest import (
    MAKER,
    PHONE,
    LiveServer,
    axe_violations,
    log_in,
    switch_language,
    wait_for_path,
)

SEOUL = ZoneInfo("Asia/Seoul")
PAGE = "/me/reservations"


def _call(live_server: LiveServer, method: str, path: str, body: Any, token: str = "") -> Any:
    answer = requests.request(
        method,
        live_server(path),
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    if not answer.ok:
        return {"error": answer.status_code}
    return answer.json() if answer.content else None


@dataclass
class Booking:
    id: int
    resource: dict[str, Any]
    free: datetime  # the start of a slot just seen to be free, to move to


def _book(live_server: LiveServer) -> Booking:
    """Through the API: a booking for the maker, and a second slot known to be free."""
    token = _call(
        live_server, "POST", "/api/v1/auth/token", {"email": MAKER, "password": DEMO_PASSWORD}
    )["token"]
    resources = _call(live_server, "GET", "/api/v1/resources", None, token)
    plain = [
        r
        for r in resources
        if r["kind"] == "machine"
        and not r["requires_training"]
        and not r["requires_approval"]
        and 60 % r["slot_minutes"] == 0
        and r["min_minutes"] <= 60 <= r["max_minutes"]
    ]
    made: list[tuple[int, datetime, dict[str, Any]]] = []
    day = datetime.now(SEOUL).date()
    for ahead in range(2, 14):
        when = day + timedelta(days=ahead)
        if when.weekday() >= 5:
            continue
        for resource in plain:
            for hour in (10, 13, 15):
                start = datetime(when.year, when.month, when.day, hour, tzinfo=SEOUL)
                body = {
                    "resource_id": resource["id"],
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(),
                }
                answer = _call(live_server, "POST", "/api/v1/reservations", body, token)
                if "id" in answer:
                    made.append((answer["id"], start, resource))
                    if len(made) == 2:
                        spare, free, _ = made[1]
                        _call(live_server, "DELETE", f"/api/v1/reservations/{spare}", None, token)
                        return Booking(made[0][0], resource, free)
            made.clear()
    pytest.fail("no free hour for the maker in the demo data")


def _name(resource: dict[str, Any], lang: str) -> str:
    return str(resource["name_en"] if lang == "en" and resource["name_en"] else resource["name"])


def _card(browser, booking: Booking):
    return browser.find_element(By.ID, f"reservation-{booking.id}")


@pytest.mark.parametrize(("lang", "size"), [("ko", None), ("en", PHONE)])
def test_a_maker_moves_then_cancels_a_booking(browser, live_server, lang, size):
    if size:
        browser.set_window_size(*size)
    booking = _book(live_server)
    # The account's own choice: earlier tests may have left it set to another language.
    log_in(browser, live_server)
    switch_language(browser, lang)
    browser.find_element(By.CSS_SELECTOR, f'nav a[href="{PAGE}"]').click()
    wait_for_path(browser, PAGE)
    card = _card(browser, booking)
    assert _name(booking.resource, lang) in card.text
    assert browser.find_element(By.ID, "upcoming").is_displayed()
    assert axe_violations(browser) == []
    sizes = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1]

    # Move: the form takes the site's local day and times.
    card.find_element(By.CSS_SELECTOR, "details:has(form[action$='/move']) summary").click()
    form = card.find_element(By.CSS_SELECTOR, "form[action$='/move']")
    free = booking.free
    for name, value in (
        ("day", free.date().isoformat()),
        ("start", free.strftime("%H:%M")),
        ("end", (free + timedelta(hours=1)).strftime("%H:%M")),
    ):
        field = form.find_element(By.NAME, name)
        browser.execute_script("arguments[0].value = arguments[1];", field, value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "main [role=status]")
    )
    moved = _card(browser, booking)
    assert free.strftime("%Y-%m-%d %H:%M") in moved.text

    # Cancel: it leaves the upcoming list and shows among the cancelled.
    moved.find_element(By.CSS_SELECTOR, "form[action$='/cancel'] button").click()
    WebDriverWait(browser, 10).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, f"#apart ~ * #reservation-{booking.id}")
    )
    row = browser.find_element(By.CSS_SELECTOR, f"#apart ~ * #reservation-{booking.id}")
    assert _name(booking.resource, lang) in row.text
    assert ("취소됨" if lang == "ko" else "Cancelled") in row.text
    assert axe_violations(browser) == []


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_series_form_has_no_serious_accessibility_problem(browser, live_server, lang):
    log_in(browser, live_server)
    switch_language(browser, lang)
    browser.get(live_server(f"{PAGE}/new-series"))
    assert browser.find_element(By.TAG_NAME, "h1").is_displayed()
    assert axe_violations(browser) == []
