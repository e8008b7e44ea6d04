"""The catalogue and the free search in a real browser, in both languages."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import log_in, switch_language, wait_for_path

SEOUL = ZoneInfo("Asia/Seoul")
SECOND_MAKER = "jiwoo.park@smartfab.example"


def _next_weekday(days_ahead: int = 3) -> str:
    day = datetime.now(SEOUL).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.isoformat()


def _card_centers(browser) -> set[str]:
    # Read in one script call: htmx may swap the results between two WebDriver calls.
    texts = browser.execute_script(
        "return [...document.querySelectorAll('#results .facts dt:first-child + dd')]"
        ".map(dd => dd.innerText.trim());"
    )
    return set(texts)


def test_choosing_a_center_filters_the_catalogue(browser, live_server):
    log_in(browser, live_server)
    browser.get(live_server("/resources"))
    # The account keeps the language an earlier test chose; these read the Korean page.
    switch_language(browser, "ko")
    everything = len(browser.find_elements(By.CSS_SELECTOR, "#results .card"))
    Select(browser.find_element(By.ID, "f-site")).select_by_value("mullae")
    # htmx swaps the results and puts the filter in the address; without it, Show does.
    if "site=mullae" not in browser.current_url:
        browser.find_element(By.CSS_SELECTOR, ".filters button").click()
    WebDriverWait(browser, 10).until(lambda b: "site=mullae" in b.current_url)
    WebDriverWait(browser, 10).until(lambda b: len(_card_centers(b)) == 1)
    assert _card_centers(browser) == {"문래 소공인특화지원센터 (기계금속)"}
    shown = browser.execute_script("return document.querySelectorAll('#results .card').length;")
    assert 0 < shown < everything


def test_rooms_only_lists_rooms_with_won_rates(browser, live_server):
    log_in(browser, live_server)
    browser.get(live_server("/resources?kind=room"))
    # The account keeps the language an earlier test chose; these read the Korean page.
    switch_language(browser, "ko")
    kinds = browser.find_elements(By.CSS_SELECTOR, "#results .facts dd:nth-of-type(2)")
    assert kinds and {k.text for k in kinds} == {"공간"}
    assert "원" in browser.find_element(By.ID, "results").text


def test_free_search_lists_machines_free_for_the_span(browser, live_server):
    log_in(browser, live_server)
    day = _next_weekday()
    browser.get(live_server(f"/free?day={day}&from=10:00&to=12:00&kind=machine&site=seongsu"))
    cards = browser.find_elements(By.CSS_SELECTOR, "#results .card")
    assert cards, browser.find_element(By.ID, "results").text
    # Following a card opens that machine's page.
    cards[0].find_element(By.TAG_NAME, "a").click()
    WebDriverWait(browser, 10).until(lambda b: "/resources/" in b.current_url)


def test_free_search_form_sends_the_span(browser, live_server):
    log_in(browser, live_server)
    browser.get(live_server("/free"))
    Select(browser.find_element(By.ID, "f-kind")).select_by_value("room")
    browser.find_element(By.CSS_SELECTOR, ".filters button").click()
    WebDriverWait(browser, 10).until(lambda b: "kind=room" in b.current_url)
    asked = parse_qs(urlsplit(browser.current_url).query)
    assert asked["kind"] == ["room"] and asked["from"] == ["10:00"]


def test_the_language_switch_works_both_ways_and_is_remembered(browser, live_server):
    log_in(browser, live_server, SECOND_MAKER)
    browser.get(live_server("/resources"))
    switch_language(browser, "en")
    assert urlsplit(browser.current_url).path == "/resources"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Machines and rooms"
    assert "₩" in browser.find_element(By.ID, "results").text

    browser.find_element(By.CSS_SELECTOR, ".who button").click()
    wait_for_path(browser, "/login")
    browser.delete_all_cookies()
    log_in(browser, live_server, SECOND_MAKER)
    assert browser.find_element(By.TAG_NAME, "h1").text == "My bookings"

    switch_language(browser, "ko")
    assert browser.find_element(By.TAG_NAME, "h1").text == "내 예약"
