"""Every page: no serious or critical axe-core finding, and no sideways scroll on a phone."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import PHONE, axe_violations, log_in, switch_language
from tests.browser.records import add_alert_records

PAGES = ["/", "/resources", "/resources?kind=room", "/free", "{resource}"]
PAGES += ["/me/usage", "/me/invoices", "/me/trainings", "/me/settings"]
PAGES += ["/me/reservations", "/me/reservations/new-series"]
PAGES += ["/book?site=seongsu&kind=machine", "/book?site=bongik&kind=machine&view=week"]
# Rooms let to other firms than the tester's (incubator-301 to 303) show as rented.
PAGES += ["/book?site=seongsu&kind=room", "/book?site=seongsu&kind=room&view=week"]
# Staff pages, opened as the Seongsu operator; "{display}" is a machine's display.
STAFF_PAGES = ["/ops/today", "/ops/approvals", "{display}"]
STAFF_PAGES += ["/ops/machines", "/ops/machines/seongsu/laser-1"]
STAFF_PAGES += ["/ops/alerts", "/ops/alerts?state=all", "/ops/dead-letters"]
OPERATOR = "operator@smartfab.example"
# The admin pages, opened by the demo's administrator.
ADMIN = "admin@smartfab.example"
ADMIN_PAGES = ["/admin/accounts", "/admin/accounts/new", "/admin/resources"]
ADMIN_PAGES += ["/admin/resources/new", "/admin/sites", "/admin/sites/new", "/admin/devices"]
ADMIN_PAGES += ["/admin/devices/new", "/admin/trainings", "/admin/invoices", "/admin/plans"]
ADMIN_PAGES += ["/admin/rentals"]
# Pages for staff: checked logged in as the demo admin.
ADMIN_PAGES += ["/admin/regional", "/admin/regional?every=week"]
STAFF_PAGES += ["/ops/floor", "/ops/floor?kind=room"]


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


WIDTHS = "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def _display_path(live_server) -> str:
    from sqlmodel import Session, col, select

    from service.models import Resource

    with Session(live_server.engine) as session:
        secret = session.exec(
            select(Resource.display_secret).where(col(Resource.active).is_(True))
        ).first()
    return f"/display/{secret}"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_staff_pages_have_no_serious_accessibility_problem_and_fit_a_phone(
    browser, live_server, lang
):
    add_alert_records(live_server.engine)
    browser.get(live_server("/login"))
    switch_language(browser, lang)
    log_in(browser, live_server, OPERATOR)
    switch_language(browser, lang)
    display = _display_path(live_server)
    found, wide = {}, {}
    for size in (None, PHONE):
        if size:
            browser.set_window_size(*size)
        for path in STAFF_PAGES:
            url = path.format(display=display)
            # The display speaks the site's language unless asked otherwise.
            browser.get(
                live_server(url + ("?lang=en" if path == "{display}" and lang == "en" else ""))
            )
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
            if size is None and (problems := axe_violations(browser)):
                found[path] = problems
            sizes = browser.execute_script(WIDTHS)
            if size and sizes[0] > sizes[1]:
                wide[path] = sizes
    assert found == {}


def _admin_pages(browser, live_server) -> list[str]:
    """The list pages, and the first account, resource, site and device each links to."""
    pages = list(ADMIN_PAGES)
    for listing, prefix in [
        ("/admin/accounts", "/admin/accounts/"),
        ("/admin/resources", "/admin/resources/"),
        ("/admin/sites", "/admin/sites/"),
        ("/admin/devices", "/admin/devices/"),
    ]:
        browser.get(live_server(listing))
        links = browser.execute_script(
            "return [...document.querySelectorAll('main td a')].map(a => a.pathname);"
        )
        pages += [link for link in links if link.startswith(prefix)][:1]
    return pages


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_admin_pages_have_no_serious_accessibility_problem(browser, live_server, lang):
    log_in(browser, live_server, ADMIN)
    # After the login: the language an account chose before outlives a logout.
    switch_language(browser, lang)
    found = {}
    for path in _admin_pages(browser, live_server):
        browser.get(live_server(path))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
        if problems := axe_violations(browser):
            found[path] = problems
    assert found == {}


def test_admin_pages_fit_a_phone_screen(browser, live_server):
    browser.set_window_size(*PHONE)
    log_in(browser, live_server, ADMIN)
    wide = {}
    for path in _admin_pages(browser, live_server):
        browser.get(live_server(path))
        sizes = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if sizes[0] > sizes[1]:
            wide[path] = sizes
    assert wide == {}
