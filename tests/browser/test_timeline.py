"""Booking on the timeline in a real browser: find a free laser cutter, confirm, and be refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from service.demo_data.sites import HOLIDAYS
from tests.browser.conftest import PHONE, axe_violations, log_in, switch_language, wait_for_path

SEOUL = ZoneInfo("Asia/Seoul")
LASER = {"ko": "CO2 레이저 커터 1호기", "en": "CO2 laser cutter #1"}
ROUTER = {"ko": "CNC 라우터", "en": "CNC router"}
BOOKED = {"ko": "예약을 마쳤습니다", "en": "Booked "}
TRAINING = {
    "ko": "이 장비를 쓰려면 유효한 교육 이수가 필요합니다.",
    "en": "You need a valid training for this machine.",
}


def _open_day(days_ahead: int) -> str:
    """A weekday at least `days_ahead` days from now that is not a demo holiday."""
    closed = {first + timedelta(days=i) for first, days, _ in HOLIDAYS for i in range(days)}
    day = datetime.now(SEOUL).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return day.isoformat()


def _free_cells(browser, machine: str) -> list:
    return [
        a
        for a in browser.find_elements(By.CSS_SELECTOR, "td.cell.free a")
        if (a.get_attribute("aria-label") or "").startswith(machine)
    ]


@pytest.mark.parametrize(("lang", "days_ahead"), [("ko", 2), ("en", 3)])
def test_a_maker_books_a_free_laser_cutter_through_the_confirmation(
    browser, live_server, lang, days_ahead
):
    log_in(browser, live_server)
    switch_language(browser, lang)
    day = _open_day(days_ahead)
    browser.get(live_server(f"/book?site=seongsu&kind=machine&day={day}"))
    cells = _free_cells(browser, LASER[lang])
    assert cells, browser.find_element(By.ID, "timeline").text
    name = cells[0].get_attribute("aria-label")
    # "<machine>, 10:00–10:30, free": the cell says what it is without its colour.
    assert name.endswith(", 예약 가능" if lang == "ko" else ", free")
    span = name.split(", ")[-2]
    cells[0].click()
    wait_for_path(browser, "/book/confirm")
    summary = browser.find_element(By.ID, "summary").text
    assert ("원" if lang == "ko" else "₩") in summary
    assert ("교육" if lang == "ko" else "Training") in summary
    browser.find_element(By.CSS_SELECTOR, "form.confirm button").click()
    wait_for_path(browser, "/book")
    assert BOOKED[lang] in browser.find_element(By.CSS_SELECTOR, ".done").text
    taken = ", 예약됨" if lang == "ko" else ", reserved"
    hidden = [
        e.get_attribute("textContent") for e in browser.find_elements(By.CLASS_NAME, "sr-only")
    ]
    assert any(
        text.startswith(LASER[lang]) and span in text and text.endswith(taken) for text in hidden
    )
    # The booking is among the maker's bookings.
    browser.find_element(By.CSS_SELECTOR, ".done a").click()
    wait_for_path(browser, "/")
    assert LASER[lang] in browser.find_element(By.TAG_NAME, "main").text


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_booking_refused_by_a_rule_says_which_rule(browser, live_server, lang):
    # The demo maker's router training lapsed at the end of 2025.
    log_in(browser, live_server)
    switch_language(browser, lang)
    browser.get(live_server(f"/book?site=seongsu&kind=machine&day={_open_day(4)}"))
    cells = _free_cells(browser, ROUTER[lang])
    assert cells
    cells[0].click()
    wait_for_path(browser, "/book/confirm")
    assert TRAINING[lang] in browser.find_element(By.CSS_SELECTOR, "#summary .warning").text
    assert axe_violations(browser) == []
    browser.find_element(By.CSS_SELECTOR, "form.confirm button").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert TRAINING[lang] in alert


def test_the_timeline_is_usable_on_a_phone(browser, live_server):
    browser.set_window_size(*PHONE)
    log_in(browser, live_server, "jiwoo.park@smartfab.example")
    for view in ("day", "week"):
        browser.get(live_server(f"/book?site=seongsu&kind=machine&day={_open_day(5)}&view={view}"))
        page = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert page[0] <= page[1], view  # the page itself never scrolls sideways
        box = browser.find_element(By.CSS_SELECTOR, ".timeline-scroll")
        assert browser.execute_script(
            "return arguments[0].scrollWidth > arguments[0].clientWidth", box
        )
    # A cell far to the right is reached by scrolling the timeline, then chosen.
    late = browser.find_elements(By.CSS_SELECTOR, "td.cell.free a")[-1]
    browser.execute_script("arguments[0].scrollIntoView({inline: 'center'})", late)
    late.click()
    WebDriverWait(browser, 10).until(lambda b: "view=week" not in b.current_url)
    first = browser.find_elements(By.CSS_SELECTOR, "td.cell.free a")[0]
    first.click()
    wait_for_path(browser, "/book/confirm")


def test_free_cells_are_reached_with_the_keyboard(browser, live_server):
    log_in(browser, live_server, "jiwoo.park@smartfab.example")
    browser.get(live_server(f"/book?site=seongsu&kind=machine&day={_open_day(6)}"))
    region = browser.find_element(By.CSS_SELECTOR, ".timeline-scroll")
    browser.execute_script("arguments[0].focus()", region)
    for _ in range(40):
        browser.switch_to.active_element.send_keys("\ue004")  # Tab
        focused = browser.switch_to.active_element
        if "cell" in (focused.find_element(By.XPATH, "..").get_attribute("class") or ""):
            break
    label = focused.get_attribute("aria-label") or ""
    assert label.endswith(", 예약 가능"), label
    outline = browser.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    focused.send_keys("\ue007")  # Enter
    wait_for_path(browser, "/book/confirm")
