"""My reservations: the actions the rules allow, their refusals in a sentence, and series."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from service.models import Reservation, ReservationStatus
from service.rules.accounts import Principal
from service.rules.catalogue import load_resource
from service.rules.guards import ACTIONS, allowed_actions
from tests.factories import book, make_reservation, seoul
from tests.pages import csrf_token, login

# Pages render what the rules decide; the rules' own tests cover both databases.
pytestmark = pytest.mark.sqlite_only

PAGE = "/me/reservations"
LOGINS = {
    "maker": "maker@example.com",
    "other": "other@example.com",
    "operator": "operator@example.com",
    "admin": "admin@example.com",
}


def booked(client, world, who: str, resource: str, start: str, end: str) -> int:
    answer = book(client, world, who, resource, start, end)
    assert answer.status_code == 201, answer.json
    return int(answer.json["id"])


def at(app, moment: str) -> None:
    app.config["CLOCK"] = lambda: seoul(moment).astimezone(UTC)


def english(client, who: str = "maker") -> None:
    login(client, LOGINS[who])
    client.post(
        "/language", data={"locale": "en", "next": "/", "csrf_token": csrf_token(client, "/")}
    )


def post(client, path: str, **form: str):
    return client.post(path, data={"csrf_token": csrf_token(client, PAGE), **form})


def status_of(session, reservation_id: int) -> Reservation:
    session.rollback()  # a fresh read: end the transaction an earlier read began
    found = session.get(Reservation, reservation_id)
    assert found is not None
    return found


# --- who may see the pages ------------------------------------------------------------


@pytest.mark.parametrize("path", [PAGE, f"{PAGE}/new-series"])
def test_a_visitor_is_sent_to_the_login(client, world, path):
    answer = client.get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


@pytest.mark.parametrize("who", ["maker", "operator", "admin"])
@pytest.mark.parametrize("path", [PAGE, f"{PAGE}/new-series"])
def test_every_account_sees_its_own_reservations(client, world, who, path):
    login(client, LOGINS[who])
    assert client.get(path).status_code == 200


def test_a_visitor_cannot_act(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    token = csrf_token(client)
    answer = client.post(f"{PAGE}/{mine}/cancel", data={"csrf_token": token})
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


def test_another_makers_reservation_is_404_and_untouched(client, world, session):
    theirs = booked(client, world, "other", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    english(client)
    answer = post(client, f"{PAGE}/{theirs}/cancel")
    assert answer.status_code == 404
    assert "This does not exist or is not yours." in answer.get_data(as_text=True)
    assert status_of(session, theirs).status == ReservationStatus.confirmed
    assert "printer-1" not in client.get(PAGE).get_data(as_text=True)


def test_a_post_without_a_csrf_token_is_refused(client, world, session):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    login(client)
    assert client.post(f"{PAGE}/{mine}/cancel").status_code == 400
    assert status_of(session, mine).status == ReservationStatus.confirmed


def test_an_unknown_action_is_404(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    login(client)
    assert post(client, f"{PAGE}/{mine}/approve").status_code == 404


# --- the list -------------------------------------------------------------------------


def test_the_list_shows_names_center_local_times_and_the_cancelled_apart(client, world):
    keep = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    drop = booked(client, world, "maker", "cnc", "2026-03-04 14:00", "2026-03-04 15:00")
    login(client)
    assert post(client, f"{PAGE}/{drop}/cancel").status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    upcoming, rest = page.split('id="past"')
    assert f'id="reservation-{keep}"' in upcoming
    assert "printer-1" in upcoming and "성수 광역센터" in upcoming
    assert "2026-03-03 10:00 KST" in upcoming
    cancelled = rest.split('id="apart"')[1]
    assert f'id="reservation-{drop}"' in cancelled
    assert "취소됨" in cancelled or "취소" in cancelled


def test_a_future_booking_offers_cancel_move_extend_and_says_why_not_check_in(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    english(client)
    page = client.get(PAGE).get_data(as_text=True)
    for action in ("cancel", "move", "extend"):
        assert f'action="{PAGE}/{mine}/{action}"' in page
    for action in ("check_in", "release"):
        assert f'action="{PAGE}/{mine}/{action}"' not in page
    assert "Check-in is possible only shortly before and after the start." in page
    assert "The reservation has not started: cancel it instead." in page


# --- each action, allowed and refused ------------------------------------------------


def test_cancelling_redirects_with_a_message_in_the_pages_language(client, world, session):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    english(client)
    answer = post(client, f"{PAGE}/{mine}/cancel")
    assert answer.status_code == 302
    assert answer.headers["Location"] == PAGE
    assert status_of(session, mine).status == ReservationStatus.cancelled
    assert "The booking has been cancelled." in client.get(PAGE).get_data(as_text=True)


def test_cancelling_after_the_start_shows_the_rules_sentence(client, world, app, session):
    mine = booked(client, world, "maker", "printer", "2026-03-02 10:00", "2026-03-02 12:00")
    at(app, "2026-03-02 10:30")
    english(client)
    answer = post(client, f"{PAGE}/{mine}/cancel")
    assert answer.status_code == 409
    assert "The reservation has started: release it instead." in answer.get_data(as_text=True)
    assert status_of(session, mine).status == ReservationStatus.confirmed


def test_checking_in_then_releasing(client, world, app, session):
    mine = booked(client, world, "maker", "printer", "2026-03-02 10:00", "2026-03-02 12:00")
    at(app, "2026-03-02 09:50")
    english(client)
    assert post(client, f"{PAGE}/{mine}/check_in").status_code == 302
    assert status_of(session, mine).status == ReservationStatus.active
    at(app, "2026-03-02 11:00")
    assert post(client, f"{PAGE}/{mine}/release").status_code == 302
    done = status_of(session, mine)
    assert done.status == ReservationStatus.completed
    assert "Released" in client.get(PAGE).get_data(as_text=True)


def test_checking_in_too_early_shows_the_window(client, world, session):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    english(client)
    answer = post(client, f"{PAGE}/{mine}/check_in")
    assert answer.status_code == 422
    assert "Check-in is possible only shortly" in answer.get_data(as_text=True)


def test_releasing_before_the_start_says_cancel_instead(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    english(client)
    answer = post(client, f"{PAGE}/{mine}/release")
    assert answer.status_code == 409
    assert "cancel it instead" in answer.get_data(as_text=True)


def test_moving_takes_local_times_in_the_sites_zone(client, world, session):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    english(client)
    answer = post(client, f"{PAGE}/{mine}/move", day="2026-03-04", start="13:00", end="15:00")
    assert answer.status_code == 302
    moved = status_of(session, mine)
    assert moved.start_at == seoul("2026-03-04 13:00")
    assert moved.end_at == seoul("2026-03-04 15:00")
    assert "The booking has been moved." in client.get(PAGE).get_data(as_text=True)


def test_moving_onto_another_booking_is_409_with_the_sentence(client, world, session):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    booked(client, world, "other", "printer", "2026-03-03 13:00", "2026-03-03 14:00")
    english(client)
    answer = post(client, f"{PAGE}/{mine}/move", day="2026-03-03", start="13:00", end="14:00")
    assert answer.status_code == 409
    assert "Someone else has booked this time." in answer.get_data(as_text=True)
    assert status_of(session, mine).start_at == seoul("2026-03-03 10:00")


def test_a_move_with_an_unreadable_time_is_400_in_the_pages_language(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    login(client)
    answer = post(client, f"{PAGE}/{mine}/move", day="tomorrow", start="10:00", end="11:00")
    assert answer.status_code == 400
    assert '<html lang="ko">' in answer.get_data(as_text=True)


def test_extending_moves_the_end(client, world, session):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    english(client)
    assert post(client, f"{PAGE}/{mine}/extend", end="13:00").status_code == 302
    assert status_of(session, mine).end_at == seoul("2026-03-03 13:00")
    assert "The booking now ends later." in client.get(PAGE).get_data(as_text=True)


def test_extending_to_an_earlier_end_is_422(client, world, session):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    english(client)
    answer = post(client, f"{PAGE}/{mine}/extend", end="11:00")
    assert answer.status_code == 422
    assert "The end must be after the start." in answer.get_data(as_text=True)
    assert status_of(session, mine).end_at == seoul("2026-03-03 12:00")


# --- the rule the page asks ------------------------------------------------------------


def test_allowed_actions_follow_the_status_and_the_clock(client, world, session):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    reservation = status_of(session, mine)
    _, site = load_resource(session=session, resource_id=reservation.resource_id)
    maker = Principal(id=world.id("maker"))
    other = Principal(id=world.id("other"))

    def codes(actor, moment):
        found = allowed_actions(
            reservation=reservation, site=site, actor=actor, now=seoul(moment).astimezone(UTC)
        )
        assert tuple(found) == ACTIONS
        return {action: (e.code if e else None) for action, e in found.items()}

    assert codes(maker, "2026-03-02 09:00") == {
        "check_in": "check_in_window",
        "release": "not_started",
        "extend": None,
        "move": None,
        "cancel": None,
    }
    assert codes(maker, "2026-03-03 10:30") == {
        "check_in": None,
        "release": None,
        "extend": None,
        "move": None,
        "cancel": "already_started",
    }
    assert set(codes(other, "2026-03-02 09:00").values()) == {"forbidden"}
    reservation.status = ReservationStatus.cancelled
    assert set(codes(maker, "2026-03-02 09:00").values()) == {"invalid_state"}


# --- recurring room bookings ----------------------------------------------------------


def series_form(world, **extra: str) -> dict[str, str]:
    return {
        "resource_id": str(world.id("room")),
        "day": "2026-03-03",
        "start": "10:00",
        "end": "11:00",
        "freq": "weekly",
        "repeat": "count",
        "count": "3",
        **extra,
    }


def test_a_series_with_a_conflict_books_nothing_and_names_the_occurrence(client, world, session):
    booked(client, world, "other", "room", "2026-03-10 10:00", "2026-03-10 11:00")
    english(client)
    answer = post(client, f"{PAGE}/new-series", **series_form(world))
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    assert "These occurrences cannot be booked" in page
    assert "2026-03-10 10:00 KST" in page
    assert "Someone else has booked this time." in page
    assert "2026-03-17" not in page.split("These occurrences")[1].split("</ul>")[0]
    mine = client.get("/api/v1/reservations?mine=1", headers=world.headers("maker")).json
    assert mine == []


def test_a_series_skipping_conflicts_reports_booked_and_skipped(client, world):
    booked(client, world, "other", "room", "2026-03-10 10:00", "2026-03-10 11:00")
    english(client)
    answer = post(client, f"{PAGE}/new-series", **series_form(world, skip_conflicts="on"))
    assert answer.status_code == 302
    report = client.get(answer.headers["Location"]).get_data(as_text=True)
    booked_part, skipped_part = report.split('id="skipped"')
    assert "Booked (2)" in booked_part and "meeting-1" in booked_part
    assert "2026-03-03 10:00 KST" in booked_part and "2026-03-17 10:00 KST" in booked_part
    assert "2026-03-10 10:00 KST" in skipped_part
    assert "Someone else has booked this time." in skipped_part
    # The report is shown once; the list has the bookings.
    assert client.get(answer.headers["Location"]).status_code == 302
    assert "meeting-1" in client.get(PAGE).get_data(as_text=True)


def test_a_series_until_a_day(client, world):
    english(client)
    form = series_form(world, repeat="until", until="2026-03-05", freq="daily")
    answer = post(client, f"{PAGE}/new-series", **form)
    assert answer.status_code == 302
    report = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Booked (3)" in report


@pytest.mark.parametrize(
    "extra",
    [{"count": "0"}, {"freq": "hourly"}, {"day": "soon"}, {"resource_id": "x"}],
)
def test_a_bad_series_form_is_a_4xx_page(client, world, extra):
    english(client)
    answer = post(client, f"{PAGE}/new-series", **series_form(world, **extra))
    assert 400 <= answer.status_code < 500
    assert "<html" in answer.get_data(as_text=True)


def test_a_long_history_never_pushes_a_coming_booking_off_the_page(client, world, session):
    first = date(2026, 1, 1)
    for n in range(59 * 12):  # every other hour of January and February: 708 bookings
        start = datetime.combine(first, time()) + timedelta(hours=2 * n)
        end = start + timedelta(hours=1)
        make_reservation(
            session, world, "maker", "printer", f"{start:%Y-%m-%d %H:%M}", f"{end:%Y-%m-%d %H:%M}"
        )
    session.commit()
    coming = booked(client, world, "maker", "printer", "2026-03-05 10:00", "2026-03-05 11:00")
    login(client)
    page = client.get(PAGE).get_data(as_text=True)
    upcoming, past = page.split('id="past"')
    assert f'id="reservation-{coming}"' in upcoming
    # The most recent of the past bookings are the ones shown.
    assert "2026-02-28 22:00 KST" in past and "2026-01-01 00:00 KST" not in past
