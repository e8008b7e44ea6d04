"""The sentence every page shows for a rule's refusal code, and other shared labels.

A rule raises an error with a `code`; this is the one place that says what a person
reads for it, in the page's language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..models import ReservationStatus, ResourceKind
from ..rules.payments import PayState

REFUSALS = {
    "invalid_range": _l("The end must be after the start."),
    "slot_alignment": _l("Bookings start and end on the resource's slot boundaries."),
    "duration": _l("This booking is too short or too long for this resource."),
    "lead_time": _l("This booking starts too soon; book further ahead."),
    "too_far_ahead": _l("This booking is too far ahead; it cannot be booked yet."),
    "training_required": _l("You need a valid training for this machine."),
    "quota_exceeded": _l("This booking would go over your weekly hours at this center."),
    "approval_required": _l("This resource needs an operator's approval."),
    "outside_opening_hours": _l("The center is closed for part of this time."),
    "blackout": _l("The resource is unavailable then (maintenance or a holiday)."),
    "conflict": _l("Someone else has booked this time."),
    "rented": _l("This room is let to a tenant then; only the tenant may book it."),
    "contract_overlap": _l("The room is already let on some of these days."),
    "room_booked": _l("Someone other than the tenant has booked the room on these days."),
    "one_tenant": _l("Choose either a tenant company or a tenant person."),
    "not_a_room": _l("Only rooms can be let."),
    "invalid_span": _l("The last day cannot be before the first day."),
    "series_conflict": _l("Some occurrences of the series conflict with other bookings."),
    "series_rule_violation": _l("Some occurrences of the series break a booking rule."),
    "recurrence": _l("The repetition is not valid."),
    "invalid_state": _l("The reservation can no longer be changed this way."),
    "already_started": _l("The reservation has started: release it instead."),
    "not_started": _l("The reservation has not started: cancel it instead."),
    "check_in_window": _l("Check-in is possible only shortly before and after the start."),
    "range_too_long": _l("Ask for a shorter time span."),
    "invalid_period": _l("The period must look like 2026-03."),
    "period_open": _l("The period has not ended yet."),
    "not_an_invoice": _l("A credit note cannot be credited."),
    "already_credited": _l("This invoice has already been credited."),
    "unknown_line": _l("Choose lines of this invoice."),
    "not_credited": _l("Credit the invoice before invoicing its month again."),
    "already_replaced": _l("This invoice has already been replaced."),
    "nothing_owed": _l("Nothing more is owed for this month."),
    "already_paid": _l("This invoice is paid already."),
    "nothing_to_pay": _l("Nothing is owed on this invoice."),
    "payment_amount": _l("The amount must be more than zero and no more than what is owed."),
    "invalid_day": _l("The day must be a date such as 2026-03-03."),
    "invalid_time": _l("The time must be a date and time such as 2026-03-03T10:00."),
    "invalid_choice": _l("Choose one of the options the page offers."),
    "reason_required": _l("Write the reason: it is kept in the log."),
    "in_the_past": _l("This time is over already; choose a time still ahead."),
    "blackout_over": _l("This maintenance is over already."),
    "no_device": _l("This machine has no device that can switch it."),
    "forbidden": _l("You may not do this."),
    "not_found": _l("This does not exist or is not yours."),
    "unauthorized": _l("Wrong e-mail or password."),
    "too_many_requests": _l(
        "Too many failed logins for this e-mail. Wait 15 minutes and try again."
    ),
    "override_reason": _l("Give a reason when overriding the booking rules."),
    "decline_reason": _l("Give the maker a reason for declining."),
    "alert_closed": _l("This alert has already been resolved."),
    "note_too_long": _l("The note is too long."),
    "invalid_text": _l("The form holds characters that cannot be stored; remove them and retry."),
}
FALLBACK = _l("This cannot be done.")
EXPIRED = _l(
    "The form had expired or was not sent from this site. "
    "Please go back, reload the page and try again."
)

STATUSES = {
    ReservationStatus.pending: _l("Awaiting approval"),
    ReservationStatus.confirmed: _l("Confirmed"),
    ReservationStatus.active: _l("In use"),
    ReservationStatus.completed: _l("Completed"),
    ReservationStatus.no_show: _l("No-show"),
    ReservationStatus.cancelled: _l("Cancelled"),
}

KINDS = {ResourceKind.machine: _l("Machine"), ResourceKind.room: _l("Room")}
PAY_STATES = {
    PayState.paid: _l("Paid"),
    PayState.unpaid: _l("Unpaid"),
    PayState.overdue: _l("Overdue"),
    PayState.settled: _l("Nothing owed"),
}
PAY_METHODS = {
    "bank_transfer": _l("Bank transfer"),
    "card": _l("Card"),
    "cash": _l("Cash"),
    "other": _l("Other"),
}


def refusal(error: DomainError) -> str:
    """What the person reads when a rule says no."""
    return str(REFUSALS.get(error.code, FALLBACK))
