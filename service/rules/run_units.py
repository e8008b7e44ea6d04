"""Which runs are billed by run time, and in which units they are rounded and held to a minimum.

- Runs within one reservation form one unit: their seconds are summed before
  rounding up to the minute and before the plan's minimum, so a laser idling
  between thirty short cuts of one booking is charged its run time once, not
  thirty minimums. A plan with `charge_unit = "run"` charges each run instead.
- A walk-in run, a late arrival (late_arrival.py) and a run without a
  reservation are one unit each.
- Billed at all: runs with an account, on a machine charged by run time, that
  were authorised; and late arrivals, whatever the machine's basis (not monthly).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from ..models import ChargeUnit, RateBasis, Reservation, UsageSession
from .late_arrival import LateArrivals
from .pricing import Rate


@dataclass(frozen=True)
class RunUnit:
    """Runs of one account on one resource, charged as one quantity."""

    account_id: int
    resource_id: int
    runs: tuple[UsageSession, ...]
    # The booking the runs belong to; for a late arrival, the no-show booking.
    reservation_id: int | None = None
    late: bool = False

    @property
    def seconds(self) -> int:
        return sum(run.run_seconds for run in self.runs)


def _billed(run: UsageSession, rate: Rate, late: Reservation | None) -> bool:
    if run.account_id is None or rate.basis == RateBasis.monthly:
        return False
    if late is not None:
        return True
    return not run.unauthorised and rate.basis == RateBasis.run_time


def charge_units(
    runs: Iterable[UsageSession],
    rate_at: Callable[[int, datetime], Rate],
    late: LateArrivals,
) -> list[RunUnit]:
    """The units of the billable `runs` (in start order), in the order of their first run.

    `rate_at(resource_id, start)` is how the resource was charged when the run started, so
    a plan's charging unit is read as it was then.
    """
    units: dict[object, RunUnit] = {}
    for run in runs:
        rate, late_for = rate_at(run.resource_id, run.start_at), late.runs.get(run.id or 0)
        if not _billed(run, rate, late_for):
            continue
        account_id = run.account_id or 0
        if late_for is not None:
            units[("run", run.id)] = RunUnit(
                account_id, run.resource_id, (run,), late_for.id, late=True
            )
            continue
        alone = run.reservation_id is None or run.walk_in or rate.charge_unit == ChargeUnit.run
        key = ("run", run.id) if alone else ("reservation", run.reservation_id, account_id)
        found = units.get(key)
        runs_so_far = found.runs if found is not None else ()
        units[key] = RunUnit(account_id, run.resource_id, (*runs_so_far, run), run.reservation_id)
    return list(units.values())
