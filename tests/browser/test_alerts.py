"""An operator handles an alert in a real browser."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import Session

from service.models import Alert
from tests.browser.conftest import log_in, switch_language, wait_for_path
from tests.browser.records import add_alert_records

OPERATOR = "operator@smartfab.example"


def test_an_operator_acknowledges_an_alert_with_a_note(browser, live_server):
    alert_id = add_alert_records(live_server.engine)
    log_in(browser, live_server, OPERATOR)
    switch_language(browser, "en")
    browser.find_element(By.CSS_SELECTOR, "a.alert-count").click()
    wait_for_path(browser, "/ops/alerts")
    card = browser.find_element(By.ID, f"alert-{alert_id}")
    card.find_element(By.TAG_NAME, "textarea").send_keys("Cable checked, restarting")
    card.find_element(By.CSS_SELECTOR, "button[formaction$='/ack']").click()
    WebDriverWait(browser, 10).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "p.done[role=status]")
    )
    card = browser.find_element(By.ID, f"alert-{alert_id}")
    assert "Cable checked, restarting" in card.text
    assert "Acknowledged" in card.text
    assert not card.find_elements(By.CSS_SELECTOR, "button[formaction$='/ack']")
    with Session(live_server.engine) as session:
        stored = session.get(Alert, alert_id)
        assert stored is not None
        assert stored.ack_note == "Cable checked, restarting"
        assert stored.acknowledged_at is not None and stored.closed_at is None
