"""A live server with the demo data and a headless Chromium driven by Selenium.

The server is the real app (CSRF on) on a free port in a thread, on a migrated SQLite
database seeded with the demo data. One browser serves the session; each test gets it
with fresh cookies and a desktop window. A failing test leaves a screenshot under
artifacts/browser/.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.engine import Engine
from sqlmodel import Session
from werkzeug.serving import make_server

from service.app import create_app
from service.config import load_settings
from service.db import make_engine
from service.demo_data import DEMO_PASSWORD, seed_demo
from service.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
DESKTOP = (1280, 900)
PHONE = (375, 812)
MAKER = "maker@smartfab.example"


@dataclass
class LiveServer:
    url: str
    # The server's database, for tests that need records the demo data does not hold.
    engine: Engine

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("browser") / "smartfab.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        seed_demo(session=session)
    # One client address logs in every test's people: the login limits would soon refuse it.
    lenient = {"login_limit_per_address": "10000/minute", "login_limit_per_account": "10000/minute"}
    settings = load_settings(
        path=ROOT / "config.toml",
        environ={},
        overrides={"database": {"url": url}, "web": lenient},
    )
    app = create_app(settings, engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", engine)
    server.shutdown()
    thread.join(timeout=10)
    engine.dispose()


def _binary(*names: str) -> str:
    for name in names:
        if found := shutil.which(name):
            return found
    pytest.fail(f"none of {names} is installed: run scripts/system-deps.sh")


@pytest.fixture(scope="session")
def chrome() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "chromium-browser")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=ko"):
        options.add_argument(argument)
    # The console, for tests that read what a page logged (a CSP refusal is a SEVERE entry).
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(_binary("chromedriver")))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def browser(
    request: pytest.FixtureRequest, chrome: webdriver.Chrome, live_server: LiveServer
) -> Iterator[webdriver.Chrome]:
    """The shared browser, logged out, with a desktop window; a screenshot when the test fails."""
    chrome.get(live_server("/login"))
    chrome.delete_all_cookies()
    chrome.set_window_size(*DESKTOP)
    yield chrome
    if request.node.stash.get(FAILED, False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
        chrome.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def log_in(browser: webdriver.Chrome, live_server: LiveServer, email: str = MAKER) -> None:
    browser.get(live_server("/login"))
    browser.find_element(By.ID, "f-email").send_keys(email)
    browser.find_element(By.ID, "f-password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    left_login(browser)


def left_login(browser: webdriver.Chrome) -> None:
    """Wait until the login's redirect has landed, so that the next step is not raced."""
    WebDriverWait(browser, 10).until(lambda b: urlsplit(b.current_url).path != "/login")


def switch_language(browser: webdriver.Chrome, lang: str) -> None:
    """Press the header's language button unless the page already speaks `lang`."""

    def speaks(b: webdriver.Chrome) -> bool:
        # A script, not an element: the page may be replaced between finding and reading.
        return bool(b.execute_script("return document.documentElement.lang") == lang)

    if not speaks(browser):
        browser.find_element(By.CSS_SELECTOR, "form.lang button").click()
        WebDriverWait(browser, 10).until(speaks)


def wait_for_path(browser: webdriver.Chrome, path: str) -> None:
    WebDriverWait(browser, 10).until(lambda b: urlsplit(b.current_url).path == path)


def axe_violations(browser: webdriver.Chrome) -> list[dict[str, Any]]:
    """Serious and critical axe-core findings on the page shown."""
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error', impact: 'critical',"
        " help: String(e), nodes: []}]));"
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n.get("target") for n in v["nodes"]][:5]}
        for v in result
        if v.get("impact") in ("serious", "critical")
    ]
