"""The invoice as people read it: the HTML page, the PDF, and the staff's month of invoices."""

from __future__ import annotations

import html

import pypdfium2 as pdfium
import pytest

from service.models import Invoice
from tests.billing import FEB, issue, two_laser_runs_and_a_lathe_run
from tests.pages import csrf_token, login

# Pages render what the rules decide; the rules' own tests cover both databases.
pytestmark = pytest.mark.sqlite_only

OPERATOR, ADMIN = "operator@example.com", "admin@example.com"


@pytest.fixture
def february(session, terms, world) -> dict[str, Invoice]:
    two_laser_runs_and_a_lathe_run(session, world)
    done = issue(session, terms)
    return {
        who: next(i for i in done.created if i.account_id == world.id(who))
        for who in ("maker", "other")
    }


def _text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def _english(client) -> None:
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})


def test_the_invoice_page_shows_both_parties_supply_vat_and_when_to_pay(client, world, february):
    login(client)
    page = _text(client.get(f"/me/invoices/{february['maker'].id}"))
    # The center as supplier, the maker's company as customer.
    assert "서울시 광역 소공인특화지원센터" in page and "101-82-12348" in page
    assert "한결수제화" in page and "206-12-34567" in page and "김한결" in page
    # Lines 3,667 and 9,167 won: supply 3,334 + 8,333 = 11,667, VAT 333 + 834 = 1,167.
    for figure in ("3,334원", "333원", "8,333원", "834원", "11,667원", "1,167원", "12,834원"):
        assert figure in page, figure
    assert "2026-02-28" in page  # 작성일자: the last day of February
    assert "2026-04-01" in page and "미납" in page and "남은 금액 12,834원" in page
    assert f"/me/invoices/{february['maker'].id}.pdf" in page
    # Makers see no mark-paid button.
    assert "납부 완료 처리" not in page


def test_my_invoices_list_says_what_is_paid_and_when_the_rest_is_due(
    client, world, session, terms, february
):
    from service.rules.payments import record_payment
    from tests.conftest import CURRENT_TIME
    from tests.factories import principal_of

    record_payment(
        session=session,
        now=CURRENT_TIME,
        terms=terms,
        actor=principal_of(session, world, "admin"),
        invoice_id=february["other"].id,
    )
    session.commit()
    login(client, email=ADMIN)
    rows = _text(client.get("/me/invoices")).split("<tr>")
    (maker_row,) = [r for r in rows if february["maker"].number in r]
    (other_row,) = [r for r in rows if february["other"].number in r]
    assert "미납" in maker_row and "기한 2026-04-01" in maker_row
    assert "납부 완료" in other_row and "기한" not in other_row


def test_the_invoice_page_speaks_english_with_won_before_the_figure(client, world, february):
    login(client)
    _english(client)
    page = _text(client.get(f"/me/invoices/{february['maker'].id}"))
    assert "Supplier" in page and "Supply amount" in page and "Due on" in page
    assert "₩12,834" in page and "₩1,167" in page and "Unpaid" in page


def _pdf_text_and_ink(answer) -> tuple[str, float]:
    """The text layer of page 1, and the share of its rendered pixels that are not white."""
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    document = pdfium.PdfDocument(answer.get_data())
    page = document[0]
    text = page.get_textpage().get_text_range()
    image = page.render(scale=1).to_pil().convert("L")
    histogram = image.histogram()
    ink = 1 - sum(histogram[240:]) / (image.width * image.height)
    document.close()
    return text, ink


def _ink_where(answer, wanted: str) -> list[float]:
    """For each place the text layer has `wanted`: the share of dark pixels the rendered
    page has in its box, so the figure is drawn there and not only a searchable layer."""
    document = pdfium.PdfDocument(answer.get_data())
    page = document[0]
    scale = 2
    image = page.render(scale=scale).to_pil().convert("L")
    textpage = page.get_textpage()
    searcher = textpage.search(wanted)
    shares = []
    while (found := searcher.get_next()) is not None:
        index, count = found
        boxes = [textpage.get_charbox(i) for i in range(index, index + count)]
        left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
        bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
        height = page.get_height()
        crop = image.crop(
            (
                int(left * scale),
                int((height - top) * scale),
                int(right * scale) + 1,
                int((height - bottom) * scale) + 1,
            )
        )
        dark = sum(crop.histogram()[:128])
        shares.append(dark / (crop.width * crop.height))
    document.close()
    return shares


def test_the_pdf_carries_the_total_in_korean_and_renders_to_an_image(client, world, february):
    login(client)
    answer = client.get(f"/me/invoices/{february['maker'].id}.pdf")
    text, ink = _pdf_text_and_ink(answer)
    assert february["maker"].number in text
    assert "12,834원" in text and "11,667원" in text and "1,167원" in text
    assert "한결수제화" in text and "공급자" in text and "2026-04-01" in text
    # Something was drawn: the text is not just a layer over an empty page.
    assert 0.005 < ink < 0.5
    # The total (in the totals and in the request to pay) is drawn where the text says,
    # Hangul included: a font without it would leave those boxes blank.
    shares = _ink_where(answer, "12,834원")
    assert len(shares) == 2 and all(share > 0.05 for share in shares), shares
    name = _ink_where(answer, "한결수제화")
    assert len(name) == 1 and name[0] > 0.05, name


def test_the_pdf_follows_the_readers_language(client, world, february):
    login(client)
    _english(client)
    text, _ink = _pdf_text_and_ink(client.get(f"/me/invoices/{february['maker'].id}.pdf"))
    assert "₩12,834" in text and "Total (VAT included)" in text


@pytest.mark.parametrize("who,status", [("maker", 404), ("other", 200), ("admin", 200)])
def test_a_pdf_opens_for_whoever_may_read_the_invoice(client, world, february, who, status):
    login(client, email=f"{who}@example.com")
    assert client.get(f"/me/invoices/{february['other'].id}.pdf").status_code == status


# -- staff: a month of invoices, mark paid -------------------------------------------------


def test_staff_see_the_month_with_payment_state_and_file_links(client, world, february):
    login(client, email=ADMIN)
    page = _text(client.get(f"/admin/invoices?period={FEB}"))
    assert february["maker"].number in page and february["other"].number in page
    assert "12,834원" in page and "30,000원" in page and "2026-04-01" in page
    assert f"/admin/invoices/export.csv?period={FEB}" in page
    assert f"/admin/invoices/etax.csv?period={FEB}" in page
    assert "이 달 미납 합계: 42,834원" in page


def test_the_month_defaults_to_the_last_one_that_ended(client, world, february):
    login(client, email=ADMIN)
    # CURRENT_TIME is 2 March in Seoul: February is the month to look at.
    page = _text(client.get("/admin/invoices"))
    assert 'value="2026-02"' in page and february["maker"].number in page


def test_marking_paid_from_the_list_records_what_was_owed(client, world, february):
    login(client, email=OPERATOR)
    token = csrf_token(client, f"/admin/invoices?period={FEB}")
    answer = client.post(
        f"/admin/invoices/{february['maker'].id}/payments",
        data={"csrf_token": token, "period": FEB},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/admin/invoices?period={FEB}"
    page = _text(client.get(answer.headers["Location"]))
    assert "12,834원 납부를 기록했습니다." in page
    invoice = _text(client.get(f"/me/invoices/{february['maker'].id}"))
    assert "납부 완료" in invoice and "2026-03-02 09:00 KST" in invoice


def test_marking_paid_from_the_invoice_page_goes_back_to_it(client, world, february):
    login(client, email=ADMIN)
    path = f"/me/invoices/{february['other'].id}"
    page = _text(client.get(path))
    assert "납부 완료 처리 (30,000원)" in page
    answer = client.post(
        f"/admin/invoices/{february['other'].id}/payments",
        data={"csrf_token": csrf_token(client, path), "back": "invoice"},
    )
    assert answer.headers["Location"] == path
    again = client.post(
        f"/admin/invoices/{february['other'].id}/payments",
        data={"csrf_token": csrf_token(client, path), "back": "invoice"},
    )
    assert "이미 납부된 계산서입니다." in _text(client.get(again.headers["Location"]))


def test_a_maker_cannot_mark_paid(client, world, february):
    login(client)
    answer = client.post(
        f"/admin/invoices/{february['maker'].id}/payments",
        data={"csrf_token": csrf_token(client, "/me/invoices")},
    )
    assert answer.status_code == 403


def test_the_staff_downloads_are_csv_with_a_bom(client, world, february):
    login(client, email=ADMIN)
    ledger = client.get(f"/admin/invoices/export.csv?period={FEB}")
    assert ledger.mimetype == "text/csv" and ledger.get_data().startswith(b"\xef\xbb\xbf")
    assert "한결수제화" in ledger.get_data(as_text=True)
    etax = client.get(f"/admin/invoices/etax.csv?period={FEB}")
    assert "작성일자" in etax.get_data(as_text=True) and "20260228" in etax.get_data(as_text=True)


def test_without_a_hangul_font_the_pdf_is_a_503_page_and_the_invoice_still_opens(
    app, client, world, february
):
    settings = app.config["SMARTFAB"]
    billing = settings.billing.model_copy(update={"pdf_font": "/nonexistent/no-hangul.ttf"})
    app.config["SMARTFAB"] = settings.model_copy(update={"billing": billing})
    login(client)
    answer = client.get(f"/me/invoices/{february['maker'].id}.pdf")
    assert answer.status_code == 503 and answer.mimetype == "text/html"
    assert "글꼴" in _text(answer)
    assert client.get(f"/me/invoices/{february['maker'].id}").status_code == 200
