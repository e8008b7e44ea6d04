"""The API's interactive docs render the OpenAPI 3.1 document in a real browser."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import axe_violations

OPERATIONS = "return [...document.querySelectorAll('.opblock-summary')].map(o => o.innerText);"


def _operations(browser) -> list[str]:
    # Read in one script call: Swagger UI may re-render between two WebDriver calls.
    return [" ".join(text.split()) for text in browser.execute_script(OPERATIONS)]


def test_the_docs_page_lists_the_reservation_operations(browser, live_server):
    browser.get_log("browser")  # what earlier pages logged
    browser.get(live_server("/api/v1/docs"))
    WebDriverWait(browser, 20).until(lambda b: len(_operations(b)) > 20)
    listed = _operations(browser)
    for expected in (
        "POST /api/v1/reservations",
        "GET /api/v1/reservations",
        "GET /api/v1/reservations/{reservation_id}",
        "PATCH /api/v1/reservations/{reservation_id}",
        "DELETE /api/v1/reservations/{reservation_id}",
        "POST /api/v1/reservations/{reservation_id}/check-in",
    ):
        assert any(text.startswith(expected) for text in listed), (expected, listed)
    title = browser.find_element(By.CSS_SELECTOR, ".information-container .title").text
    assert "smartfab API" in title
    assert "OAS 3.1" in title
    # No error box from Swagger UI, no CSP refusal or failed load in the console.
    assert browser.find_elements(By.CSS_SELECTOR, ".errors-wrapper") == []
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


def test_an_operation_opens_with_its_request_schema(browser, live_server):
    browser.get(live_server("/api/v1/docs"))
    WebDriverWait(browser, 20).until(lambda b: _operations(b))
    post = browser.find_element(By.ID, "operations-reservations-reservations_create")
    post.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    WebDriverWait(browser, 10).until(
        lambda b: "resource_id" in post.find_element(By.CSS_SELECTOR, ".opblock-body").text
    )
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


def test_the_docs_page_has_no_serious_accessibility_problem(browser, live_server):
    browser.get(live_server("/api/v1/docs"))
    WebDriverWait(browser, 20).until(lambda b: _operations(b))
    assert axe_violations(browser) == []
