"""An administrator changes a machine's rate and the catalogue shows the new price."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.browser.conftest import log_in, switch_language, wait_for_path


def test_admin_edits_a_rate_and_the_catalogue_shows_it(browser, live_server):
    log_in(browser, live_server, "admin@smartfab.example")
    browser.get(live_server("/admin/resources"))
    switch_language(browser, "en")
    link = browser.find_element(By.CSS_SELECTOR, "#results td.lead a")
    name = link.text
    link.click()
    rate = browser.find_element(By.ID, "f-rate_per_hour")
    rate.clear()
    rate.send_keys("12345")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_path(browser, "/admin/resources")
    assert "has been saved" in browser.find_element(By.CSS_SELECTOR, "p.notice").text
    browser.get(live_server("/resources"))
    card = browser.find_element(
        By.XPATH, f"//li[contains(@class, 'card')][.//h2/a[normalize-space()='{name}']]"
    )
    assert "₩12,345" in card.text
