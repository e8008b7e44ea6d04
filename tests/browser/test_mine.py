"""A maker's own pages in a real browser: usage, invoices, trainings and the calendar link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import Session, select

from service.config import load_settings
from service.models import Account, Device, Resource, UsageSession
from service.rules.credit_notes import credit_invoice
from service.rules.invoicing import issue_invoices
from service.rules.pricing import BillingTerms
from tests.browser.conftest import (
    PHONE,
    ROOT,
    axe_violations,
    log_in,
    switch_language,
    wait_for_path,
)

# The freelance designer: a member (a monthly fee), and a lapsed laser-cutter training.
DESIGNER = "seoyeon.jang@smartfab.example"
PAGES = ["/me/usage?month={month}", "/me/invoices", "{invoice}", "/me/trainings", "/me/settings"]


def _previous_month(now: datetime, terms: BillingTerms, back: int = 1) -> tuple[str, datetime]:
    """`back` months before this one at the site: its name and the 10th at 14:00 local time."""
    local = now.astimezone(terms.zone)
    year, month = local.year, local.month - back
    while month < 1:
        year, month = year - 1, month + 12
    tenth = datetime(year, month, 10, 14, 0, tzinfo=terms.zone)
    return f"{year:04d}-{month:02d}", tenth


@pytest.fixture(scope="module")
def papers(live_server) -> dict[str, str]:
    """The designer ran the Seongsu laser last month and the month before; both were invoiced
    and the older invoice was cancelled by a credit note."""
    terms = BillingTerms.from_settings(load_settings(path=ROOT / "config.toml", environ={}))
    now = datetime.now(UTC)
    with Session(live_server.engine) as session:
        designer = session.exec(select(Account).where(Account.email == DESIGNER)).one()
        laser = session.exec(select(Resource).where(Resource.slug == "laser-1")).first()
        assert laser is not None
        device = session.exec(select(Device).where(Device.resource_id == laser.id)).first()
        assert device is not None
        found = {}
        for back, seconds, wh in ((2, 1800, 650.0), (1, 2700, 1875.5)):
            month, start = _previous_month(now, terms, back)
            session.add(
                UsageSession(
                    resource_id=laser.id or 0,
                    device_id=device.id or 0,
                    account_id=designer.id,
                    start_at=start,
                    end_at=start + timedelta(seconds=seconds),
                    run_seconds=seconds,
                    energy_wh=wh,
                    last_sample_at=start + timedelta(seconds=seconds),
                )
            )
            session.commit()
            done = issue_invoices(
                session=session, now=now, terms=terms, period=month, actor_id=None
            )
            session.commit()
            (invoice,) = [i for i in done.created + done.existing if i.account_id == designer.id]
            found[f"month{back}"] = month
            found[f"invoice{back}"] = f"/me/invoices/{invoice.id}"
        credit = credit_invoice(
            session=session,
            now=now,
            terms=terms,
            invoice_id=int(found["invoice2"].rsplit("/", 1)[1]),
            actor_id=None,
            reason="demo correction",
        )
        session.commit()
        found["credit"] = f"/me/invoices/{credit.id}"
    return found


def _paths(papers: dict[str, str]) -> list[str]:
    return [p.format(month=papers["month1"], invoice=papers["invoice1"]) for p in PAGES]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_my_pages_render_in_both_languages_without_accessibility_problems(
    browser, live_server, papers, lang
):
    log_in(browser, live_server, DESIGNER)
    switch_language(browser, lang)
    found = {}
    for path in [*_paths(papers), papers["credit"]]:
        browser.get(live_server(path))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
        if problems := axe_violations(browser):
            found[path] = problems
    assert found == {}


def test_usage_shows_the_run_with_its_energy(browser, live_server, papers):
    log_in(browser, live_server, DESIGNER)
    switch_language(browser, "ko")
    browser.get(live_server(f"/me/usage?month={papers['month1']}"))
    table = browser.find_element(By.CSS_SELECTOR, "#results table").text
    assert "45분" in table and "1.88 kWh" in table


def test_the_month_form_and_the_month_links_move_between_months(browser, live_server, papers):
    log_in(browser, live_server, DESIGNER)
    switch_language(browser, "ko")
    browser.get(live_server(f"/me/usage?month={papers['month1']}"))
    browser.find_element(By.CSS_SELECTOR, ".pager a:first-child").click()
    WebDriverWait(browser, 10).until(lambda b: f"month={papers['month2']}" in b.current_url)
    WebDriverWait(browser, 10).until(lambda b: "30분" in b.find_element(By.ID, "results").text)


def test_the_credit_note_links_to_the_invoice_it_cancels(browser, live_server, papers):
    log_in(browser, live_server, DESIGNER)
    switch_language(browser, "ko")
    browser.get(live_server(papers["credit"]))
    assert "취소 계산서" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.CSS_SELECTOR, f".notice a[href='{papers['invoice2']}']").click()
    wait_for_path(browser, papers["invoice2"])
    assert "취소됨" in browser.find_element(By.CSS_SELECTOR, ".facts").text


def test_an_expired_training_is_marked_by_text(browser, live_server):
    log_in(browser, live_server, DESIGNER)
    switch_language(browser, "ko")
    browser.get(live_server("/me/trainings"))
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    expired = [r.text for r in rows if "laser_cutter" in r.text]
    assert expired and "만료됨" in expired[0]


def test_the_copy_button_copies_the_calendar_link(browser, live_server):
    log_in(browser, live_server, DESIGNER)
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {
            "origin": live_server.url,
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
        },
    )
    browser.get(live_server("/me/settings"))
    link = browser.find_element(By.ID, "ical-url").get_attribute("value")
    assert link and link.startswith(live_server("/ical/"))
    button = browser.find_element(By.CSS_SELECTOR, "button[data-copy]")
    assert button.is_displayed()
    button.click()
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "copy-status").text)
    copied = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('failed: ' + e));"
    )
    assert copied == link


def test_a_new_calendar_link_replaces_the_old_one(browser, live_server):
    log_in(browser, live_server, "jiwoo.park@smartfab.example")
    browser.get(live_server("/me/settings"))
    old = browser.find_element(By.ID, "ical-url").get_attribute("value")
    browser.find_element(By.CSS_SELECTOR, "form[action$='calendar-link'] button").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".notice"))
    new = browser.find_element(By.ID, "ical-url").get_attribute("value")
    assert new and new != old


def test_my_pages_fit_a_phone_screen(browser, live_server, papers):
    browser.set_window_size(*PHONE)
    log_in(browser, live_server, DESIGNER)
    wide = {}
    for path in _paths(papers):
        browser.get(live_server(path))
        sizes = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if sizes[0] > sizes[1]:
            wide[path] = sizes
    assert wide == {}
