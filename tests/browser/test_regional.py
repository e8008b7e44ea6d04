"""The regional view in a real browser: an admin lands on it and sees every center."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import PHONE, axe_violations, log_in, switch_language, wait_for_path

ADMIN = "admin@smartfab.example"


def test_admin_lands_on_the_regional_view_with_the_centers(browser, live_server):
    log_in(browser, live_server, ADMIN)
    browser.get(live_server("/"))
    wait_for_path(browser, "/admin/regional")
    switch_language(browser, "en")
    cards = browser.find_elements(By.CSS_SELECTOR, "ul.centers > li h3")
    names = [card.text for card in cards]
    assert len(names) >= 2
    assert any("Seongsu" in name for name in names)
    assert any("Mullae" in name for name in names)
    # The report names each center in a row, its figures written out as text.
    rows = browser.find_elements(By.CSS_SELECTOR, "table.report tbody tr")
    assert len(rows) >= len(names)
    assert " h" in rows[0].text


def test_choosing_a_period_shows_it(browser, live_server):
    log_in(browser, live_server, ADMIN)
    browser.get(live_server("/admin/regional"))
    switch_language(browser, "en")
    browser.execute_script(
        "document.getElementById('f-from').value = '2026-10-01';"
        "document.getElementById('f-to').value = '2026-10-31';"
    )
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()

    def shown(b) -> bool:
        # A script, not an element: htmx may replace the report between finding and reading.
        text = b.execute_script("return document.querySelector('table.report caption').textContent")
        return "2026-10-01" in text and "2026-10-31" in text

    WebDriverWait(browser, 10).until(shown)
    assert "from=2026-10-01" in browser.current_url


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_regional_view_is_accessible_and_fits_a_phone(browser, live_server, lang):
    log_in(browser, live_server, ADMIN)
    browser.get(live_server("/admin/regional"))
    switch_language(browser, lang)
    assert axe_violations(browser) == []
    browser.set_window_size(*PHONE)
    browser.get(live_server("/admin/regional"))
    sizes = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1]
