"""Where one booking's time goes: the app served in-process, one request at a time.

Printed by the booking benchmark when a creation goal is missed: what each
booking sends to the database, and the cumulative time of the service's own
functions (plus the driver and pool calls they lead to) under cProfile.
"""

from __future__ import annotations

import cProfile
import pstats
import re
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.booking_load import Request
from service.app import create_app
from service.config import load_settings
from service.db import make_engine

ROOT = Path(__file__).resolve().parent.parent

# Library calls worth showing next to the service's functions.
LIBRARY = {
    "do_ping": "pool pre-ping (SELECT 1 on every checkout)",
    "do_execute": "driver: execute a statement",
    "do_commit": "driver: COMMIT",
    "_compile_w_cache": "SQLAlchemy: compile or fetch cached SQL",
    "_emit_insert_statements": "SQLAlchemy ORM: INSERT on flush",
}


def statements_per_booking(engine: Any) -> Counter[str]:
    seen: Counter[str] = Counter()

    def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found = re.match(r'\s*(\w+)(?:.*?\b(?:FROM|INTO|UPDATE)\s+"?(\w+))?', statement, re.S)
        verb, table = (found.group(1), found.group(2) or "") if found else (statement, "")
        seen[f"{verb.upper()} {table}".strip()] += 1

    event.listen(engine, "before_cursor_execute", _statement)
    event.listen(engine, "commit", lambda _conn: seen.update(["COMMIT"]))
    event.listen(engine, "checkout", lambda *_args: seen.update(["pool checkout"]))
    return seen


def profile_bookings(url: str, work: list[Request], warm: int = 20) -> None:
    """Serve `work` (bookings) through the Flask test client and print where time goes."""
    settings = load_settings(
        path=ROOT / "config.toml", environ={}, overrides={"database": {"url": url}}
    )
    engine = make_engine(url)
    try:
        app = create_app(settings, engine)
        client = app.test_client()
        for request in work[:warm]:
            client.open(
                request.path, method=request.method, data=request.body, headers=request.headers
            )
        measured = work[warm:]
        seen = statements_per_booking(engine)
        profile = cProfile.Profile()
        profile.enable()
        statuses = Counter(
            client.open(r.path, method=r.method, data=r.body, headers=r.headers).status_code
            for r in measured
        )
        profile.disable()
    finally:
        engine.dispose()
    count = len(measured)
    print(
        f"  where a booking's time goes: {count} bookings served in-process one at a time "
        f"(Flask test client, statuses {dict(statuses)})"
    )
    print("    per booking: " + ", ".join(f"{n / count:g} {what}" for what, n in seen.items()))
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(own for (_cc, _calls, own, _cum, _callers) in stats.values())
    print(f"    cProfile (overhead included): {total * 1000 / count:.2f} ms per booking in all;")
    print(
        "    cumulative ms per booking (and share of the request) of the service's functions"
        " and chosen library calls:"
    )
    rows: dict[str, tuple[float, int]] = {}
    for (filename, line, name), (_cc, calls, _own, cum, _callers) in stats.items():
        if "/service/" in filename and "site-packages" not in filename:
            where = f"{filename.replace(str(ROOT) + '/', '')}:{line}({name})"
        elif name in LIBRARY and "sqlalchemy" in filename:
            where = f"{LIBRARY[name]} [{name}]"
        else:
            continue
        spent, made = rows.get(where, (0.0, 0))
        rows[where] = (spent + cum, made + calls)
    ranked = sorted(rows.items(), key=lambda item: item[1][0], reverse=True)
    whole = ranked[0][1][0] if ranked else 0.0
    for where, (cum, calls) in ranked[:22]:
        print(f"    {cum * 1000 / count:7.2f} ms {cum / whole:5.0%} {calls / count:5.1f}x  {where}")
