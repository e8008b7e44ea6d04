"""A let incubation office reads "rented" in words to other firms, free to its tenant's people."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By

from service.demo_data.sites import HOLIDAYS
from tests.browser.conftest import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    axe_violations,
    log_in,
    switch_language,
)

SEOUL = ZoneInfo("Asia/Seoul")
OFFICE = {"ko": "입주공간 301호", "en": "Incubation office 301"}  # let to 한결수제화
RENTED = {"ko": "임대 중", "en": "rented"}
OTHER_FIRM = "hyunwoo.choi@smartfab.example"  # of 을지인쇄사
WIDTHS = "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def _open_day() -> str:
    closed = {first + timedelta(days=i) for first, days, _ in HOLIDAYS for i in range(days)}
    day = datetime.now(SEOUL).date() + timedelta(days=2)
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return day.isoformat()


def _office_cells(browser, lang: str) -> list:
    (row,) = [
        r
        for r in browser.find_elements(By.CSS_SELECTOR, "table.timeline tbody tr")
        if r.find_element(By.TAG_NAME, "th").text == OFFICE[lang]
    ]
    return row.find_elements(By.CSS_SELECTOR, "td.cell")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_another_firm_sees_the_let_office_rented_in_words_at_both_widths(
    browser, live_server, lang
):
    log_in(browser, live_server, OTHER_FIRM)
    switch_language(browser, lang)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    day = _open_day()
    for view in ("day", "week"):
        path = f"/book?site=seongsu&kind=room&view={view}&day={day}"
        for width, size in (("1280", DESKTOP), ("375", PHONE)):
            browser.set_window_size(*size)
            browser.get(live_server(path))
            # Every open hour or part of a day is rented; a closed weekend stays closed.
            cells = [
                c for c in _office_cells(browser, lang) if "closed" not in c.get_attribute("class")
            ]
            assert cells and all("rented" in c.get_attribute("class") for c in cells)
            assert not browser.find_elements(
                By.CSS_SELECTOR, "td.cell a[aria-label^='" + OFFICE[lang] + "']"
            )
            labels = [
                c.find_element(By.CLASS_NAME, "sr-only").get_attribute("textContent") for c in cells
            ]
            assert all(label.endswith(", " + RENTED[lang]) for label in labels)
            if view == "week":
                # Written in the cell, not told by its colour alone.
                assert RENTED[lang] in cells[0].text
            legend = browser.find_element(By.CSS_SELECTOR, "ul.legend").text
            assert RENTED[lang] in legend
            sizes = browser.execute_script(WIDTHS)
            assert sizes[0] <= sizes[1], (view, width, sizes)
            browser.execute_script("arguments[0].scrollIntoView()", cells[0])
            browser.save_screenshot(str(ARTIFACTS / f"let-office-{view}-{lang}-{width}.png"))
        assert axe_violations(browser) == []
    browser.set_window_size(*DESKTOP)
    switch_language(browser, "ko")


def test_the_tenants_people_see_their_office_free_to_book(browser, live_server):
    log_in(browser, live_server)  # the maker of 한결수제화
    switch_language(browser, "ko")
    browser.get(live_server(f"/book?site=seongsu&kind=room&day={_open_day()}"))
    cells = _office_cells(browser, "ko")
    assert any("free" in c.get_attribute("class") for c in cells)
    assert not any("rented" in c.get_attribute("class") for c in cells)
