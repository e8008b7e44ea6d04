"""Every page: no serious or critical axe-core finding, and no sideways scroll on a phone."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import PHONE, axe_violations, log_in, switch_language

PAGES = ["/", "/resources", "/resources?kind=room", "/free", "{resource}"]
PAGES += ["/me/usage", "/me/invoices", "/me/trainings", "/me/settings"]
PAGES += ["/me/reservations", "/me/reservations/new-series"]
PAGES += ["/book?site=seongsu&kind=machine", "/book?site=bongik&kind=machine&view=week"]
# Staff pages, checked as the Seongsu operator.
STAFF_PAGES = ["/ops/floor", "/ops/floor?kind=room"]
OPERATOR = "operator@smartfab.example"


def _resource_path(browser, live_server) -> str:
    browser.get(live_server("/resources"))
    link = browser.find_element(By.CSS_SELECTOR, "#results .card a")
    return str(link.get_attribute("href")).removeprefix(live_server.url)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_login_page_has_no_serious_accessibility_problem(browser, live_server, lang):
    browser.get(live_server("/login"))
    switch_language(browser, lang)
    assert axe_violations(browser) == []


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_page_has_no_serious_accessibility_problem(browser, live_server, lang):
    browser.get(live_server("/login"))
    switch_language(browser, lang)
    log_in(browser, live_server, "hyunwoo.choi@smartfab.example")
    resource = _resource_path(browser, live_server)
    found = {}
    for path in PAGES:
        browser.get(live_server(path.format(resource=resource)))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
        if problems := axe_violations(browser):
            found[path] = problems
    assert found == {}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_staff_page_has_no_serious_accessibility_problem(browser, live_server, lang):
    browser.get(live_server("/login"))
    switch_language(browser, lang)
    log_in(browser, live_server, OPERATOR)
    found = {}
    for path in STAFF_PAGES:
        browser.get(live_server(path))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
        if problems := axe_violations(browser):
            found[path] = problems
    assert found == {}


def test_staff_pages_fit_a_phone_screen(browser, live_server):
    browser.set_window_size(*PHONE)
    log_in(browser, live_server, OPERATOR)
    wide = {}
    for path in STAFF_PAGES:
        browser.get(live_server(path))
        sizes = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if sizes[0] > sizes[1]:
            wide[path] = sizes
    assert wide == {}


def test_pages_fit_a_phone_screen(browser, live_server):
    browser.set_window_size(*PHONE)
    browser.get(live_server("/login"))
    pages = ["/login"]
    log_in(browser, live_server)
    pages += [path.format(resource=_resource_path(browser, live_server)) for path in PAGES]
    wide = {}
    for path in pages:
        browser.get(live_server(path))
        sizes = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if sizes[0] > sizes[1]:
            wide[path] = sizes
    assert wide == {}


def test_the_keyboard_reaches_the_skip_link_first_with_a_visible_focus(browser, live_server):
    browser.get(live_server("/login"))
    browser.find_element(By.TAG_NAME, "body").send_keys("\ue004")  # Tab
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip"
    outline = browser.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
