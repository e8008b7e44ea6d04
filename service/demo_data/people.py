"""Demo companies (소공인), their makers, the centers' operators and an administrator."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlmodel import Session, col, select

from ..models import Account, Company, Role, RoleName, Site, Training
from ..rules.accounts import hash_password
from .rows import stored_id

DEMO_PASSWORD = "smartfab-demo"  # noqa: S105 - published on purpose: the demo's shared login

# (name, trade, business registration number, representative, address): what a tax invoice
# names of its customer.
COMPANIES: list[tuple[str, str, str, str, str]] = [
    ("한결수제화", "수제화", "206-12-34567", "김한결", "서울특별시 성동구 성수이로 78, 2층"),
    ("성수슈즈랩", "수제화", "206-18-52031", "박지우", "서울특별시 성동구 연무장길 41, 3층"),
    ("봉익골드공방", "주얼리", "101-15-28476", "이수진", "서울특별시 종로구 돈화문로 54"),
    ("을지인쇄사", "인쇄", "201-09-61358", "최현우", "서울특별시 중구 을지로 157"),
    ("창신어패럴", "의류봉제", "303-21-47219", "강미정", "서울특별시 종로구 지봉로 23"),
    ("다온봉제", "의류봉제", "210-07-83642", "조은지", "서울특별시 성북구 장월로 12"),
    ("문래정밀", "금속가공", "107-22-39185", "윤태호", "서울특별시 영등포구 도림로 433"),
]
# Where each company's tax invoices are sent.
COMPANY_EMAILS = {
    "한결수제화": "tax@hangyeol-shoes.example",
    "성수슈즈랩": "office@seongsu-shoelab.example",
    "봉익골드공방": "bongik.gold@jewel.example",
    "을지인쇄사": "account@euljiro-print.example",
    "창신어패럴": "changsin.apparel@sewing.example",
    "다온봉제": "daon@sewing.example",
    "문래정밀": "tax@mullae-precision.example",
}

MAKER, OPERATOR, ADMIN = RoleName.maker, RoleName.operator, RoleName.admin

# (e-mail, name, role, site of an operator, company, badge card UID)
PEOPLE: list[tuple[str, str, RoleName, str | None, str | None, str]] = [
    ("admin@smartfab.example", "정하늘", ADMIN, None, None, "04119A2F"),
    ("operator@smartfab.example", "이서연", OPERATOR, "seongsu", None, "0422B5C1"),
    ("operator.mullae@smartfab.example", "박준호", OPERATOR, "mullae", None, "0433C7D2"),
    ("operator.euljiro@smartfab.example", "최유진", OPERATOR, "euljiro", None, "0444D8E3"),
    ("operator.changsin@smartfab.example", "한지민", OPERATOR, "changsin", None, "0455E9F4"),
    ("operator.bongik@smartfab.example", "윤도현", OPERATOR, "bongik", None, "0466FA05"),
    ("maker@smartfab.example", "김민준", MAKER, None, "한결수제화", "04A1B2C3"),
    ("jiwoo.park@smartfab.example", "박지우", MAKER, None, "성수슈즈랩", "04B7E21A"),
    ("sujin.lee@smartfab.example", "이수진", MAKER, None, "봉익골드공방", "04C35D9F"),
    ("hyunwoo.choi@smartfab.example", "최현우", MAKER, None, "을지인쇄사", "04D8124E"),
    ("mijung.kang@smartfab.example", "강미정", MAKER, None, "창신어패럴", "04E6A3B0"),
    ("eunji.jo@smartfab.example", "조은지", MAKER, None, "다온봉제", "04F29C71"),
    ("taeho.yoon@smartfab.example", "윤태호", MAKER, None, "문래정밀", "0491D4C8"),
    # A freelance designer without a company: billed personally.
    ("seoyeon.jang@smartfab.example", "장서연", MAKER, None, None, "04A7F3E5"),
]

# (e-mail, machine category, last valid day; None = does not expire)
TRAININGS: list[tuple[str, str, date | None]] = [
    ("maker@smartfab.example", "laser_cutter", date(2027, 2, 28)),
    ("maker@smartfab.example", "shoe_lasting", date(2027, 6, 30)),
    ("maker@smartfab.example", "leather_skiving", None),
    ("maker@smartfab.example", "3d_printer_resin", date(2026, 12, 31)),
    # Lapsed: the refresher course was missed, so the router stays locked for now.
    ("maker@smartfab.example", "cnc_router", date(2025, 12, 31)),
    ("jiwoo.park@smartfab.example", "shoe_lasting", date(2026, 11, 30)),
    ("jiwoo.park@smartfab.example", "laser_cutter", date(2026, 9, 30)),
    ("sujin.lee@smartfab.example", "3d_printer_resin", date(2027, 3, 31)),
    ("sujin.lee@smartfab.example", "laser_welder", date(2026, 10, 31)),
    ("sujin.lee@smartfab.example", "vacuum_casting", date(2026, 8, 31)),
    ("sujin.lee@smartfab.example", "laser_engraver", date(2027, 3, 31)),
    ("hyunwoo.choi@smartfab.example", "offset_press", date(2027, 1, 31)),
    ("hyunwoo.choi@smartfab.example", "digital_press", date(2027, 1, 31)),
    ("hyunwoo.choi@smartfab.example", "paper_cutter", date(2026, 12, 31)),
    ("mijung.kang@smartfab.example", "cad_cutter", date(2026, 10, 31)),
    ("mijung.kang@smartfab.example", "embroidery", date(2026, 12, 31)),
    ("eunji.jo@smartfab.example", "dtf_printer", date(2026, 9, 30)),
    ("taeho.yoon@smartfab.example", "lathe", None),
    ("taeho.yoon@smartfab.example", "milling", None),
    ("taeho.yoon@smartfab.example", "cnc_lathe", date(2026, 12, 31)),
    ("taeho.yoon@smartfab.example", "machining_center", date(2026, 12, 31)),
    ("taeho.yoon@smartfab.example", "welding", date(2025, 11, 30)),
    ("seoyeon.jang@smartfab.example", "uv_printer", date(2026, 7, 31)),
    ("seoyeon.jang@smartfab.example", "laser_cutter", date(2025, 8, 31)),
]


def seed_companies(*, session: Session, tally: Counter[str]) -> dict[str, Company]:
    names = [name for name, *_ in COMPANIES]
    found = {c.name: c for c in session.exec(select(Company).where(col(Company.name).in_(names)))}
    for name, trade, number, representative, address in COMPANIES:
        email = COMPANY_EMAILS[name]
        if name not in found:
            found[name] = Company(
                name=name,
                trade=trade,
                business_number=number,
                representative=representative,
                address=address,
                email=email,
            )
            session.add(found[name])
            tally["companies"] += 1
        elif not found[name].email:
            # Seeded before companies had an e-mail.
            found[name].email = email
            session.add(found[name])
    session.flush()
    return found


def seed_people(
    *,
    session: Session,
    sites: dict[str, Site],
    companies: dict[str, Company],
    tally: Counter[str],
) -> dict[str, Account]:
    """Every demo account by e-mail, each created with its one role."""
    emails = [email for email, *_ in PEOPLE]
    found = {
        a.email: a for a in session.exec(select(Account).where(col(Account.email).in_(emails)))
    }
    # Hashing is deliberately slow: do it once, and not at all when nothing is new.
    password_hash = hash_password(DEMO_PASSWORD) if len(found) < len(PEOPLE) else ""
    for email, name, role, site_slug, company, card_uid in PEOPLE:
        if email in found:
            continue
        account = Account(
            email=email,
            name=name,
            password_hash=password_hash,
            company_id=companies[company].id if company else None,
            card_uid=card_uid,
        )
        session.add(account)
        account_id = stored_id(session, account)
        site_id = sites[site_slug].id if site_slug else None
        session.add(Role(account_id=account_id, role=role, site_id=site_id))
        found[email] = account
        tally["accounts"] += 1
    return found


def seed_trainings(*, session: Session, accounts: dict[str, Account], tally: Counter[str]) -> None:
    ids = [a.id for a in accounts.values()]
    held = {
        (t.account_id, t.category)
        for t in session.exec(select(Training).where(col(Training.account_id).in_(ids)))
    }
    for email, category, expires_on in TRAININGS:
        account_id = stored_id(session, accounts[email])
        if (account_id, category) not in held:
            session.add(Training(account_id=account_id, category=category, expires_on=expires_on))
            tally["trainings"] += 1
