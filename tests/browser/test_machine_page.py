"""The staff's machine page in a real browser: the chart draws, and maintenance planned on
the page closes those slots on the makers' timeline at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import Session, select

from service.models import Resource, Site
from telemetry.sqlstore import SqlTelemetryStore
from telemetry.store import Point
from tests.browser.conftest import log_in, switch_language, wait_for_path
from tests.browser.test_timeline import _open_day

OPERATOR = "operator@smartfab.example"
LASER = "/ops/machines/seongsu/laser-1"


def _laser_id(live_server) -> int:
    with Session(live_server.engine) as session:
        laser = session.exec(
            select(Resource)
            .join(Site, Site.id == Resource.site_id)
            .where(Site.slug == "seongsu", Resource.slug == "laser-1")
        ).one()
        return laser.id or 0


def _blackout_labels(browser, resource_id: int) -> list[str]:
    cells = browser.find_elements(By.CSS_SELECTOR, f"#r{resource_id} td.cell.blackout .sr-only")
    return [c.get_attribute("textContent") or "" for c in cells]


def test_the_chart_draws_the_last_day_of_a_field(browser, live_server):
    now = datetime.now(UTC)
    store = SqlTelemetryStore(live_server.engine)
    store.write(
        [
            Point(
                "seongsu",
                "laser-1",
                "machine",
                now - timedelta(minutes=10 * i),
                {"power_w": 1000.0 + i},
            )
            for i in range(100)
        ]
    )
    store.close()
    log_in(browser, live_server, OPERATOR)
    browser.get(live_server(LASER + "?field=power_w"))
    figure = browser.find_element(By.ID, "chart")
    WebDriverWait(browser, 10).until(lambda b: figure.get_attribute("data-drawn"))
    assert int(figure.get_attribute("data-drawn") or 0) > 50
    canvas = figure.find_element(By.TAG_NAME, "canvas")
    assert canvas.size["width"] > 200 and canvas.size["height"] > 100


def test_maintenance_planned_on_the_page_closes_the_makers_timeline(browser, live_server):
    day = _open_day(4)
    laser = _laser_id(live_server)
    timeline = f"/book?site=seongsu&kind=machine&day={day}"
    log_in(browser, live_server, OPERATOR)
    switch_language(browser, "en")
    browser.get(live_server(timeline))
    assert not [t for t in _blackout_labels(browser, laser) if "10:00" in t]

    browser.get(live_server(LASER))
    browser.find_element(By.CSS_SELECTOR, "#maintenance ~ details summary").click()
    for field, value in (("blackout-start", f"{day}T10:00"), ("blackout-end", f"{day}T12:00")):
        browser.execute_script(
            "document.getElementById(arguments[0]).value = arguments[1]", field, value
        )
    browser.find_element(By.ID, "blackout-reason").send_keys("spindle check")
    browser.find_element(By.ID, "blackout-reason").submit()
    wait_for_path(browser, LASER)
    assert "Maintenance planned" in browser.find_element(By.CSS_SELECTOR, ".done").text
    assert "spindle check" in browser.find_element(By.TAG_NAME, "main").text

    browser.delete_all_cookies()
    log_in(browser, live_server)
    switch_language(browser, "en")
    browser.get(live_server(timeline))
    closed = _blackout_labels(browser, laser)
    assert any("10:00" in t and "maintenance" in t for t in closed), closed
    free = browser.find_elements(By.CSS_SELECTOR, f"#r{laser} td.cell.free a")
    starts = [(a.get_attribute("aria-label") or "").split(", ")[-2] for a in free]
    assert not [s for s in starts if s.startswith(("10:", "11:"))], starts
