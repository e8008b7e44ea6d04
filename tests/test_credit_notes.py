"""Correcting an invoice: a credit note for all or chosen lines, then the month invoiced again.

February for the maker (laser 22,000 won/h by run time, meeting room 10,000 won/h booked):
  laser 10 min   22,000 × 10 / 60 =  3,666.67 →  3,667
  laser 90 min   22,000 × 90 / 60 = 33,000
  room 2 h       10,000 × 2       = 20,000
  total 56,667; VAT 56,667 × 0.1 / 1.1 = 5,151.5 → 5,152; net 51,515.
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from service.errors import Conflict, RuleViolation
from service.models import AuditLog, Invoice, InvoiceKind, InvoiceStatus, UsageSession
from service.rules.credit_notes import credit_invoice, reissue_invoice
from tests.billing import issue, lines
from tests.conftest import CURRENT_TIME
from tests.factories import make_run


@pytest.fixture
def february(session, world, terms, priced, held) -> Invoice:
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    make_run(session, world, "laser", "2026-02-12 14:00", 5_400, who="maker")
    held("maker", "room", "2026-02-16", "10:00-12:00")
    session.commit()
    (invoice,) = issue(session, terms).created
    assert (invoice.total, invoice.vat, invoice.net) == (56_667, 5_152, 51_515)
    return invoice


def credit(session, terms, invoice, line_ids=None, reason="wrong rate") -> Invoice:
    note = credit_invoice(
        session=session,
        now=CURRENT_TIME,
        terms=terms,
        invoice_id=invoice.id,
        actor_id=None,
        reason=reason,
        line_ids=line_ids,
    )
    session.commit()
    return note


def reissue(session, terms, invoice, actor_id=None) -> Invoice:
    again = reissue_invoice(
        session=session, now=CURRENT_TIME, terms=terms, invoice_id=invoice.id, actor_id=actor_id
    )
    session.commit()
    return again


def amounts(session, invoice) -> list[int]:
    return [line.amount for line in lines(session, invoice)]


def test_a_full_credit_note_negates_every_line_and_points_at_each(session, terms, february):
    note = credit(session, terms, february)
    assert note.kind == InvoiceKind.credit_note and note.corrects_id == february.id
    assert note.status == InvoiceStatus.issued and note.reason == "wrong rate"
    assert (note.total, note.vat, note.net) == (-56_667, -5_152, -51_515)
    assert note.number == "CN-2026-02-000001"
    originals = lines(session, february)
    assert [(x.credits_line_id, x.amount) for x in lines(session, note)] == [
        (x.id, -x.amount) for x in originals
    ]


def test_a_credit_note_for_chosen_lines_cancels_only_those(session, terms, february):
    ninety = lines(session, february)[1]
    assert ninety.amount == 33_000
    note = credit(session, terms, february, line_ids=[ninety.id])
    # 33,000 × 0.1 / 1.1 = 3,000 exactly.
    assert (note.total, note.vat, note.net) == (-33_000, -3_000, -30_000)
    assert [(x.credits_line_id, x.amount) for x in lines(session, note)] == [(ninety.id, -33_000)]


def test_after_a_full_credit_the_month_is_invoiced_again_with_a_new_number(
    session, terms, february
):
    credit(session, terms, february)
    again = reissue(session, terms, february)
    assert again.kind == InvoiceKind.invoice and again.replaces_id == february.id
    assert again.number == "2026-02-000002" and again.period == "2026-02"
    assert (again.total, again.vat, again.net) == (56_667, 5_152, 51_515)
    assert amounts(session, again) == [3_667, 33_000, 20_000]


def test_a_corrected_run_is_billed_again_at_its_true_length(session, terms, february):
    ninety = lines(session, february)[1]
    credit(session, terms, february, line_ids=[ninety.id], reason="the run was 45 minutes")
    run = session.get(UsageSession, ninety.usage_session_id)
    run.run_seconds, run.end_at = 2_700, run.start_at + (run.end_at - run.start_at) / 2
    session.add(run)
    session.commit()
    again = reissue(session, terms, february)
    # Only the credited line comes back: 22,000 × 45 / 60 = 16,500; VAT 1,500; net 15,000.
    assert amounts(session, again) == [16_500]
    assert (again.total, again.vat, again.net) == (16_500, 1_500, 15_000)
    month = session.exec(select(Invoice).where(Invoice.period == "2026-02")).all()
    assert sum(i.total for i in month) == 56_667 - 33_000 + 16_500 == 40_167


def test_a_run_billed_to_the_wrong_account_moves_to_the_right_one(session, world, terms, february):
    first = lines(session, february)[0]
    credit(session, terms, february, line_ids=[first.id], reason="the other maker ran it")
    run = session.get(UsageSession, first.usage_session_id)
    run.account_id = world.id("other")
    session.add(run)
    session.commit()
    with pytest.raises(RuleViolation) as nothing:
        reissue(session, terms, february)
    assert nothing.value.code == "nothing_owed"
    # The other maker had no February invoice: the month's run now bills them.
    (theirs,) = issue(session, terms).created
    assert theirs.account_id == world.id("other") and amounts(session, theirs) == [3_667]


def test_issuing_the_month_again_never_undoes_a_credit(session, terms, february):
    credit(session, terms, february, reason="goodwill: laser fault")
    assert issue(session, terms).created == []


def test_an_invoice_not_credited_cannot_be_invoiced_again(session, terms, february):
    with pytest.raises(Conflict) as refused:
        reissue(session, terms, february)
    assert refused.value.code == "not_credited"


def test_a_credited_invoice_is_replaced_once_and_the_replacement_can_be_corrected(
    session, terms, february
):
    credit(session, terms, february)
    again = reissue(session, terms, february)
    with pytest.raises(Conflict) as twice:
        reissue(session, terms, february)
    assert twice.value.code == "already_replaced"
    credit(session, terms, again)
    third = reissue(session, terms, again)
    assert third.replaces_id == again.id and third.total == 56_667
    assert third.number == "2026-02-000003"


def test_a_credit_note_names_lines_of_its_invoice_only(session, world, terms, february):
    make_run(session, world, "laser", "2026-02-11 10:00", 600, who="other")
    session.commit()
    (theirs,) = issue(session, terms).created
    with pytest.raises(RuleViolation) as wrong:
        credit(session, terms, february, line_ids=[lines(session, theirs)[0].id])
    assert wrong.value.code == "unknown_line"
    assert wrong.value.details == {"unknown_line_ids": [lines(session, theirs)[0].id]}


def test_one_credit_note_per_invoice_even_after_a_partial_one(session, terms, february):
    credit(session, terms, february, line_ids=[lines(session, february)[0].id])
    with pytest.raises(Conflict) as again:
        credit(session, terms, february)
    assert again.value.code == "already_credited"


def test_crediting_and_reissuing_are_audited(session, world, terms, february):
    credit(session, terms, february, line_ids=[lines(session, february)[2].id])
    again = reissue(session, terms, february, actor_id=world.id("admin"))
    credited = session.exec(select(AuditLog).where(AuditLog.action == "invoice.credit")).one()
    assert credited.detail["lines"] == [lines(session, february)[2].id]
    entry = session.exec(select(AuditLog).where(AuditLog.action == "invoice.reissue")).one()
    assert entry.subject == f"invoice:{again.id}" and entry.actor_id == world.id("admin")
    assert entry.detail["replaces"] == february.id and entry.detail["total"] == 20_000


def test_concurrent_reissues_of_one_credited_invoice_make_one(engine, session, terms, february):
    credit(session, terms, february)
    start = threading.Barrier(3)
    outcomes: list[Invoice | BaseException] = []

    def reissuer() -> None:
        with Session(engine, expire_on_commit=False) as own:
            start.wait()
            try:
                outcomes.append(reissue(own, terms, february))
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                outcomes.append(exc)

    threads = [threading.Thread(target=reissuer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    made = [o for o in outcomes if isinstance(o, Invoice)]
    refusals = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(made) == 1 and len(refusals) == 2, outcomes
    assert made[0].number == "2026-02-000002" and made[0].total == 56_667
