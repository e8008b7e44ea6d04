"""A maker's whole path in a real browser: find a free laser slot on the timeline, book it,
find it under My reservations by the machine's name, move it, cancel it."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import PHONE, log_in, switch_language, wait_for_path
from tests.browser.test_timeline import LASER, _free_cells, _open_day


def _span(cell) -> tuple[str, str]:
    # "<machine>, 10:00–10:30, free" → ("10:00", "10:30")
    start, end = cell.get_attribute("aria-label").split(", ")[-2].split("–")
    return start, end


def _card_at(browser, machine: str, day: str, start: str):
    for card in browser.find_elements(By.CSS_SELECTOR, "#upcoming ~ * [id^=reservation-]"):
        if machine in card.text and f"{day} {start}" in card.text:
            return card
    return None


@pytest.mark.parametrize(("lang", "size", "days_ahead"), [("ko", None, 6), ("en", PHONE, 8)])
def test_a_maker_books_on_the_timeline_then_moves_and_cancels_under_my_reservations(
    browser, live_server, lang, size, days_ahead
):
    if size:
        browser.set_window_size(*size)
    log_in(browser, live_server)
    switch_language(browser, lang)
    day = _open_day(days_ahead)
    browser.get(live_server(f"/book?site=seongsu&kind=machine&day={day}"))
    cells = _free_cells(browser, LASER[lang])
    assert len(cells) > 6, browser.find_element(By.ID, "timeline").text
    booked, later = _span(cells[0]), _span(cells[6])
    cells[0].click()
    wait_for_path(browser, "/book/confirm")
    browser.find_element(By.CSS_SELECTOR, "form.confirm button").click()
    wait_for_path(browser, "/book")

    browser.get(live_server("/me/reservations"))
    card = _card_at(browser, LASER[lang], day, booked[0])
    assert card is not None, browser.find_element(By.TAG_NAME, "main").text
    card_id = card.get_attribute("id")

    card.find_element(By.CSS_SELECTOR, "details:has(form[action$='/move']) summary").click()
    form = card.find_element(By.CSS_SELECTOR, "form[action$='/move']")
    for name, value in (("day", day), ("start", later[0]), ("end", later[1])):
        field = form.find_element(By.NAME, name)
        browser.execute_script("arguments[0].value = arguments[1];", field, value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "main [role=status]")
    )
    moved = browser.find_element(By.ID, card_id)
    assert f"{day} {later[0]}" in moved.text and LASER[lang] in moved.text

    moved.find_element(By.CSS_SELECTOR, "form[action$='/cancel'] button").click()
    WebDriverWait(browser, 10).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, f"#apart ~ * #{card_id}")
    )
    row = browser.find_element(By.CSS_SELECTOR, f"#apart ~ * #{card_id}")
    assert LASER[lang] in row.text
    assert ("취소됨" if lang == "ko" else "Cancelled") in row.text
