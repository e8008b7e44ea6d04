"""An invoice as a PDF (fpdf2), in the reader's language, with a font that writes Hangul.

fpdf2 reads single TrueType/OpenType fonts, not collections: Debian's fonts-noto-cjk ships
Noto Sans CJK as a .ttc, so its Korean face is saved once as an .otf in the instance folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from ..rules.invoice_exports import Party, quantity
from .cells import duration
from .i18n import local_time, money
from .invoice_sheet import Sheet
from .messages import PAY_STATES

NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_KR_FACE = "Noto Sans CJK KR"
FONT = "korean"
# Column widths in millimetres of an A4 page with 15 mm margins (180 mm).
COLUMNS = (80, 28, 26, 20, 26)


class FontMissing(RuntimeError):
    """No font with Hangul: install fonts-noto-cjk (scripts/system-deps.sh) or set pdf_font."""


def font_path() -> Path:
    """The configured font, else the Korean face of Noto Sans CJK, extracted once."""
    configured = current_app.config["SMARTFAB"].billing.pdf_font
    if configured:
        if not Path(configured).is_file():
            raise FontMissing(f"[billing] pdf_font: no file {configured!r}")
        return Path(configured)
    target = Path(current_app.instance_path) / "fonts" / "NotoSansCJKkr-Regular.otf"
    if not target.exists():
        _extract_korean_face(target)
    return target


def _extract_korean_face(target: Path) -> None:
    from fontTools.ttLib import TTCollection

    if not NOTO_CJK.exists():
        raise FontMissing(f"{NOTO_CJK} is missing: install fonts-noto-cjk")
    collection = TTCollection(str(NOTO_CJK))
    face = next(f for f in collection.fonts if f["name"].getDebugName(4) == NOTO_KR_FACE)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed, so two processes never read a half-written font.
    fd, temporary = tempfile.mkstemp(dir=target.parent, suffix=".otf")
    os.close(fd)
    face.save(temporary)
    os.replace(temporary, target)


def _party(pdf: FPDF, title: str, party: Party, x: float, y: float) -> None:
    pdf.set_xy(x, y)
    pdf.set_font(FONT, size=9)
    pdf.cell(85, 5, title, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=11)
    pdf.cell(85, 6, party.name, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)
    rows = (
        (_("Registration number"), party.business_number or "—"),
        (_("Representative"), party.representative or "—"),
        (_("Address"), party.address or "—"),
    )
    for label, value in rows:
        pdf.multi_cell(85, 5, f"{label}: {value}", new_x=XPos.LEFT, new_y=YPos.NEXT)


def invoice_pdf(sheet: Sheet) -> bytes:
    """The invoice on A4: both parties, the terms, each line's supply and VAT, the totals."""
    invoice = sheet.invoice
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font(FONT, "", str(font_path()))
    pdf.set_title(invoice.number)
    pdf.set_creator("smartfab")
    pdf.add_page()
    pdf.set_font(FONT, size=18)
    heading = (
        _("Credit note %(number)s", number=invoice.number)
        if invoice.corrects_id is not None
        else _("Invoice %(number)s", number=invoice.number)
    )
    pdf.cell(0, 10, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    top = pdf.get_y() + 2
    _party(pdf, _("Supplier"), sheet.supplier, 15, top)
    bottom = pdf.get_y()
    _party(pdf, _("Billed to"), sheet.paper.customer, 110, top)
    pdf.set_xy(15, max(bottom, pdf.get_y()) + 4)
    pdf.set_font(FONT, size=10)
    facts = (
        (_("Period"), invoice.period),
        (_("Issued on"), local_time(invoice.issued_at)),
        (_("Date of supply"), sheet.written_on.isoformat()),
        (_("Due on"), sheet.payment.due_on.isoformat()),
        (_("Payment"), str(PAY_STATES[sheet.payment.state])),
    )
    for label, value in facts:
        pdf.cell(40, 6, label)
        pdf.cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(FONT, size=9)
    # Long descriptions wrap inside their cell; the header repeats on every page.
    with pdf.table(
        col_widths=COLUMNS,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis=""),
        line_height=5,
        padding=1,
    ) as table:
        table.row((_("Description"), _("Quantity"), _("Supply amount"), _("VAT"), _("Amount")))
        for item in sheet.paper.lines:
            count, unit = quantity(item.line)
            amount = duration(count) if unit == "min" else _("1 month")
            table.row(
                (
                    item.line.description,
                    amount,
                    money(item.supply),
                    money(item.tax),
                    money(item.line.amount),
                )
            )
    pdf.ln(2)
    pdf.set_font(FONT, size=10)
    totals = (
        (_("Net (before VAT)"), invoice.net),
        (_("VAT"), invoice.vat),
        (_("Total (VAT included)"), invoice.total),
    )
    for label, won in totals:
        pdf.cell(sum(COLUMNS[:-1]), 7, label, align="R")
        pdf.cell(COLUMNS[-1], 7, money(won), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if sheet.payment.outstanding:
        pdf.ln(4)
        pdf.cell(
            0,
            6,
            _(
                "Please pay %(amount)s by %(day)s.",
                amount=money(sheet.payment.outstanding),
                day=sheet.payment.due_on.isoformat(),
            ),
        )
    return bytes(pdf.output())
