"""One policy for passwords and e-mail addresses: the command line, the API and the admin pages."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from pydantic_core import PydanticCustomError

from service.cli import cli
from service.models import credentials
from service.models.admin import AccountCreate, PasswordReset
from tests.factories import PASSWORD
from tests.pages import csrf_token, login

pytestmark = pytest.mark.sqlite_only

GOOD = "a long enough pass"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        (" " * 8, "password_blank"),
        (" " * 12, "password_blank"),
        ("\t\n  \u3000   \t\n ", "password_blank"),
        ("123456789", "password_short"),
        ("", "password_blank"),
        ("x" * 201, "too_long"),
    ],
)
def test_passwords_the_policy_refuses(password, problem):
    with pytest.raises(PydanticCustomError) as refused:
        credentials.password(password)
    assert refused.value.type == problem


def test_a_password_may_not_be_the_email_in_any_case():
    with pytest.raises(PydanticCustomError) as refused:
        credentials.password("Someone@Example.com", email="someone@example.com")
    assert refused.value.type == "password_is_email"
    assert credentials.password(GOOD, email="someone@example.com") == GOOD
    assert credentials.password(PASSWORD) == PASSWORD  # the test suite's own


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email@",
        "@example.com",
        "no-at-sign",
        "two@@example.com",
        "a@b",
        "space in@example.com",
        "a@example..com",
        "a@-example.com",
        ".a@example.com",
        "a.@example.com",
        "a@127.0.0.1",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_emails_the_policy_refuses(email):
    with pytest.raises(PydanticCustomError) as refused:
        credentials.email_address(email)
    assert refused.value.type == "email"


@pytest.mark.parametrize(
    ("email", "stored"),
    [
        ("Maker@SmartFab.example", "maker@smartfab.example"),
        ("  a.b+tag@sub.example.co.kr ", "a.b+tag@sub.example.co.kr"),
        ("o'neil@example.com", "o'neil@example.com"),
    ],
)
def test_emails_the_policy_takes(email, stored):
    assert credentials.email_address(email) == stored


def test_the_api_shapes_use_the_policy():
    for password in (" " * 12, "short", "new@example.com"):
        with pytest.raises(ValueError):
            AccountCreate(email="new@example.com", name="N", password=password)
    with pytest.raises(ValueError):
        AccountCreate(email="not-an-email@", name="N", password=GOOD)
    with pytest.raises(ValueError):
        PasswordReset(password=" " * 10)
    assert AccountCreate(email="new@example.com", name="N", password=GOOD).password == GOOD


# -- the command line ------------------------------------------------------------------------


def users_create(url: str, email: str, password: str):
    return CliRunner().invoke(
        cli,
        ["users", "create", "--email", email, "--password", password],
        env={"SMARTFAB_DATABASE__URL": url},
    )


@pytest.mark.parametrize(
    ("email", "password", "says"),
    [
        ("new@example.com", " " * 8, "only spaces"),
        ("new@example.com", "nine char", "at least 10 characters"),
        ("new@example.com", "new@example.com", "must not be the e-mail"),
        ("not-an-email@", GOOD, "not an e-mail address"),
    ],
)
def test_users_create_refuses_what_the_policy_refuses(db_url, email, password, says):
    result = users_create(db_url, email, password)
    assert result.exit_code == 1 and says in result.output, result.output
    assert users_create(db_url, "new@example.com", GOOD).exit_code == 0


# -- the API and the admin pages ------------------------------------------------------------


def test_the_api_refuses_a_blank_password_and_a_password_equal_to_the_email(client, world):
    auth = {"Authorization": f"Bearer {world.tokens['admin']}"}
    for password in (" " * 12, "new@example.com"):
        answer = client.post(
            "/api/v1/accounts",
            headers=auth,
            json={"email": "new@example.com", "name": "N", "password": password},
        )
        assert answer.status_code == 422, answer.json
    reset = client.post(
        f"/api/v1/accounts/{world.id('maker')}/password",
        headers=auth,
        json={"password": "maker@example.com"},
    )
    assert reset.status_code == 400 and reset.json["error"]["code"] == "password_is_email"


@pytest.fixture
def admin_client(client, world):
    login(client, email="admin@example.com")
    return client


def test_the_admin_page_says_why_a_password_is_refused(admin_client, world):
    path = f"/admin/accounts/{world.id('maker')}"
    page = admin_client.post(
        f"{path}/password",
        data={"password": "maker@example.com", "csrf_token": csrf_token(admin_client, path)},
    )
    assert page.status_code == 422
    assert "비밀번호를 이메일 주소와 같게 할 수 없습니다" in page.text
    page = admin_client.post(
        "/admin/accounts/new",
        data={
            "email": "new@example.com",
            "name": "N",
            "role": "maker",
            "password": "too short",
            "csrf_token": csrf_token(admin_client, "/admin/accounts/new"),
        },
    )
    assert page.status_code == 422
    assert "비밀번호는 10자 이상이어야 합니다" in page.text
