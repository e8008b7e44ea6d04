"""Logging in and out in a real browser, and the forms' safety."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from service.demo_data import DEMO_PASSWORD
from tests.browser.conftest import left_login, log_in


def test_login_shows_the_makers_bookings_in_korean(browser, live_server):
    log_in(browser, live_server)
    assert urlsplit(browser.current_url).path == "/"
    assert browser.find_element(By.TAG_NAME, "h1").text == "내 예약"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ko"
    assert "김민준" in browser.find_element(By.CSS_SELECTOR, "header").text


def test_a_wrong_password_says_so(browser, live_server):
    browser.get(live_server("/login"))
    browser.find_element(By.ID, "f-email").send_keys("maker@smartfab.example")
    browser.find_element(By.ID, "f-password").send_keys("not the password")
    browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    alert = WebDriverWait(browser, 10).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "[role=alert]")
    )
    assert "올바르지 않습니다" in alert[0].text


def test_logout_returns_to_the_login(browser, live_server):
    log_in(browser, live_server)
    browser.find_element(By.CSS_SELECTOR, ".who button").click()
    WebDriverWait(browser, 10).until(lambda b: urlsplit(b.current_url).path == "/login")
    browser.get(live_server("/"))
    assert urlsplit(browser.current_url).path == "/login"


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/%5Cevil.example"])
def test_login_stays_on_the_site_whatever_next_says(browser, live_server, target):
    browser.get(live_server(f"/login?next={target}"))
    browser.find_element(By.ID, "f-email").send_keys("maker@smartfab.example")
    browser.find_element(By.ID, "f-password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    left_login(browser)
    assert browser.current_url == live_server("/")


def test_a_form_without_its_csrf_token_is_refused(browser, live_server):
    browser.get(live_server("/login"))
    browser.execute_script(
        "document.querySelectorAll('main input[name=csrf_token]').forEach(e => e.remove())"
    )
    browser.find_element(By.ID, "f-email").send_keys("maker@smartfab.example")
    browser.find_element(By.ID, "f-password").send_keys("whatever")
    browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "요청을 처리하지 못했습니다"
    status = browser.execute_script(
        "return performance.getEntriesByType('navigation')[0].responseStatus"
    )
    assert status == 400
