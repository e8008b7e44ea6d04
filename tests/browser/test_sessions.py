"""A maker's sessions and tokens on the settings page, in a real browser, in both languages."""

from __future__ import annotations

import re

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from service.demo_data import DEMO_PASSWORD
from tests.browser.conftest import (
    ARTIFACTS,
    DESKTOP,
    MAKER,
    PHONE,
    axe_violations,
    log_in,
    switch_language,
    wait_for_path,
)

SETTINGS = "/me/settings"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
HEADINGS = {"ko": "로그인된 세션과 API 토큰", "en": "Signed-in sessions and API tokens"}
WIDTHS = "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _phone_logs_in(live_server) -> requests.Session:
    """A second browser (a phone) logged in as the same maker."""
    phone = requests.Session()
    phone.headers["User-Agent"] = IPHONE
    found = _CSRF.search(phone.get(live_server("/login"), timeout=10).text)
    assert found
    data = {"email": MAKER, "password": DEMO_PASSWORD, "csrf_token": found.group(1)}
    answer = phone.post(live_server("/login"), data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    return phone


def _rows(browser) -> list[str]:
    return [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#tokens tbody tr")]


def test_the_settings_page_lists_sessions_readably_in_both_languages(browser, live_server):
    _phone_logs_in(live_server)
    log_in(browser, live_server)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for lang in ("ko", "en"):
        browser.get(live_server(SETTINGS))
        switch_language(browser, lang)
        heading = browser.find_element(By.ID, "tokens-heading").text
        assert (
            heading
            == {"ko": "로그인된 세션과 API 토큰", "en": "Signed-in sessions and API tokens"}[lang]
        )
        assert any("Safari · iOS" in row for row in _rows(browser))
        assert axe_violations(browser) == []
        for width, size in (("1280", DESKTOP), ("375", PHONE)):
            browser.set_window_size(*size)
            browser.get(live_server(SETTINGS))
            section = browser.find_element(
                By.CSS_SELECTOR, "section[aria-labelledby=tokens-heading]"
            )
            browser.execute_script("arguments[0].scrollIntoView()", section)
            sizes = browser.execute_script(WIDTHS)
            assert sizes[0] <= sizes[1], (lang, width, sizes)
            browser.save_screenshot(str(ARTIFACTS / f"settings-sessions-{lang}-{width}.png"))
        browser.set_window_size(*DESKTOP)
    switch_language(browser, "ko")


def test_revoking_the_phones_session_signs_the_phone_out(browser, live_server):
    phone = _phone_logs_in(live_server)
    assert phone.get(live_server(SETTINGS), allow_redirects=False, timeout=10).status_code == 200
    log_in(browser, live_server)
    browser.get(live_server(SETTINGS))
    switch_language(browser, "en")
    rows = browser.find_elements(By.CSS_SELECTOR, "#tokens tbody tr")
    # The newest phone session is listed before older ones of earlier tests.
    target = next(row for row in rows if "iOS" in row.text)
    target_id = target.get_attribute("id")
    target.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # The same path comes back: wait for the old page to go, then read the new one.
    WebDriverWait(browser, 10).until(staleness_of(target))
    wait_for_path(browser, SETTINGS)
    WebDriverWait(browser, 10).until(
        lambda b: "no longer opens anything" in b.find_element(By.CSS_SELECTOR, "main").text
    )
    assert not browser.find_elements(By.ID, target_id)
    assert phone.get(live_server(SETTINGS), allow_redirects=False, timeout=10).status_code == 302


def test_sign_out_here_ends_this_browsers_session(browser, live_server):
    log_in(browser, live_server)
    browser.get(live_server(SETTINGS))
    switch_language(browser, "en")
    current = browser.find_element(By.CSS_SELECTOR, "#tokens tr:has(.badge-current)")
    current.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for_path(browser, "/login")
    assert "Log in again" in browser.find_element(By.CSS_SELECTOR, "main").text
    browser.get(live_server(SETTINGS))
    wait_for_path(browser, "/login")
