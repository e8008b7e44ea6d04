"""How simulated machines and rooms behave: duty cycles, power draw, faults, occupancy.

Figures are plausible for the kinds of machine a Seoul support center lends out;
they are not measurements of any particular model.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Profile:
    """Power in watts and durations in seconds, each as a (low, high) range."""

    idle_w: tuple[float, float]
    run_w: tuple[float, float]
    run_s: tuple[float, float] = (120, 1200)
    idle_s: tuple[float, float] = (60, 900)
    fault_rate: float = 0.03  # chance that a run ends in a fault
    rpm: tuple[float, float] | None = None
    temp_c: tuple[float, float] | None = None  # (idle, running)


# First match on a keyword of the resource category wins.
PROFILES: list[tuple[tuple[str, ...], Profile]] = [
    (("fiber_laser",), Profile((300, 600), (6000, 12000), temp_c=(20, 24))),
    (("laser_engraver", "laser_welder"), Profile((20, 50), (300, 1500), run_s=(30, 600))),
    (("laser",), Profile((40, 90), (1500, 3000), run_s=(120, 900), temp_c=(19, 24))),
    (("machining_center",), Profile((500, 1000), (5000, 15000), rpm=(3000, 12000))),
    (("lathe", "milling"), Profile((100, 200), (2000, 5000), rpm=(300, 2500))),
    (("cnc",), Profile((150, 300), (3000, 7000), rpm=(12000, 18000))),
    (
        ("3d_printer",),
        Profile((8, 20), (150, 300), run_s=(1200, 7200), idle_s=(300, 1800), temp_c=(25, 210)),
    ),
    (("embroidery",), Profile((30, 60), (400, 800), run_s=(300, 2400))),
    (("sewing", "overlock"), Profile((5, 20), (300, 600), run_s=(30, 300), idle_s=(20, 240))),
    (("uv_printer", "dtf"), Profile((100, 200), (800, 1500), run_s=(120, 1200))),
    (("press_brake",), Profile((300, 800), (3000, 8000), run_s=(20, 240))),
    (("weld",), Profile((50, 100), (3000, 6000), run_s=(20, 300))),
    (("offset",), Profile((1000, 2000), (10000, 20000), run_s=(600, 3600))),
    (("digital_press", "large_format"), Profile((200, 400), (1200, 2500))),
]
DEFAULT_PROFILE = Profile((20, 60), (500, 1500))
FAULT_S = (60.0, 300.0)


def profile_for(category: str) -> Profile:
    """The behaviour of a machine category, e.g. "laser_cutter" or "3d_printer_fdm"."""
    for keywords, profile in PROFILES:
        if any(keyword in category for keyword in keywords):
            return profile
    return DEFAULT_PROFILE


@dataclass
class Step:
    """What a device reports now: a state (machines), metrics, and events since last time."""

    state: str | None
    metrics: dict[str, float]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def random_card(rng: random.Random) -> str:
    return f"{rng.getrandbits(32):08X}"


class MachineModel:
    """Idle and running cycles; a run starts with a badge tap and sometimes ends in a fault."""

    def __init__(
        self,
        category: str,
        *,
        now: float,
        rng: random.Random,
        speed: float = 1.0,
        cards: Sequence[str] = (),
    ) -> None:
        self.profile = profile_for(category)
        self.rng, self.speed, self.cards = rng, speed, list(cards)
        self.enabled = True
        self.energy_wh = rng.uniform(0, 50_000)
        self.power_w = self._draw(self.profile.idle_w)
        self.last = now
        self.pending: list[tuple[str, dict[str, Any]]] = []
        # Start somewhere in a cycle, so a fleet does not switch on all at once.
        self.state = "running" if rng.random() < 0.3 else "idle"
        self.fault_at: float | None = None
        self.until = (
            now
            + self._duration(self.profile.run_s if self.state == "running" else self.profile.idle_s)
            * rng.random()
        )

    def _draw(self, span: tuple[float, float]) -> float:
        return self.rng.uniform(*span)

    def _duration(self, span: tuple[float, float]) -> float:
        return self.rng.uniform(*span) / self.speed

    def _enter(self, state: str, now: float) -> None:
        profile = self.profile
        if state == "running":
            card = self.rng.choice(self.cards) if self.cards else random_card(self.rng)
            self.pending += [("badge", {"card": card}), ("job", {"phase": "start"})]
            length = self._duration(profile.run_s)
            self.until = now + length
            self.fault_at = (
                now + length * self.rng.random() if self.rng.random() < profile.fault_rate else None
            )
        elif state == "fault":
            self.until = now + self._duration(FAULT_S)
            self.pending.append(("job", {"phase": "abort"}))
        else:
            if self.state == "running":
                self.pending.append(("job", {"phase": "end"}))
            self.until = now + self._duration(profile.idle_s)
        self.state = state

    def _advance_state(self, now: float) -> None:
        if self.state == "running" and self.fault_at is not None and now >= self.fault_at:
            self.fault_at = None
            self._enter("fault", now)
        elif now >= self.until:
            if self.state == "idle" and self.enabled:
                self._enter("running", now)
            elif self.state != "idle":
                self._enter("idle", now)
            else:
                self.until = now + self._duration(self.profile.idle_s)

    def disable(self, now: float) -> None:
        """The server switched the machine off: a run stops, no new one starts."""
        self.enabled = False
        if self.state == "running":
            self._enter("idle", now)

    def enable(self, now: float | None = None, until: float | None = None) -> None:
        """The server let the machine run (until `until`, epoch seconds, when it says)."""
        self.enabled = True

    def step(self, now: float) -> Step:
        # Energy: the power drawn since the last reading, held over the (wall-clock) interval.
        self.energy_wh += self.power_w * max(0.0, now - self.last) / 3600
        self.last = now
        self._advance_state(now)
        profile = self.profile
        if self.state == "running":
            self.power_w = self._draw(profile.run_w)
        elif self.state == "off":
            self.power_w = 0.0
        else:
            self.power_w = self._draw(profile.idle_w)
        metrics = {"power_w": round(self.power_w, 1), "energy_wh": round(self.energy_wh, 3)}
        if profile.rpm is not None:
            metrics["spindle_rpm"] = (
                round(self._draw(profile.rpm)) if self.state == "running" else 0.0
            )
        if profile.temp_c is not None:
            idle, hot = profile.temp_c
            base = hot if self.state == "running" else idle
            metrics["temp_c"] = round(base + self.rng.uniform(-1.5, 1.5), 1)
        events, self.pending = self.pending, []
        return Step(self.state, metrics, events)


class RoomModel:
    """Meetings come and go; CO2 climbs towards what the people in the room exhale."""

    OUTDOOR_PPM = 420.0
    PPM_PER_PERSON = 180.0
    MIX_S = 600.0  # time constant of the room's air towards its steady state

    def __init__(
        self, *, now: float, rng: random.Random, speed: float = 1.0, capacity: int = 8
    ) -> None:
        self.rng, self.speed, self.capacity = rng, speed, max(1, capacity)
        self.people = 0
        self.co2_ppm = self.OUTDOOR_PPM + rng.uniform(0, 60)
        self.last = now
        self.until = now + rng.uniform(10, 1800) / speed
        self.pending: list[tuple[str, dict[str, Any]]] = []

    def step(self, now: float) -> Step:
        elapsed = max(0.0, now - self.last) * self.speed
        self.last = now
        target = self.OUTDOOR_PPM + self.PPM_PER_PERSON * self.people
        self.co2_ppm += (target - self.co2_ppm) * min(1.0, elapsed / self.MIX_S)
        if now >= self.until:
            if self.people:
                self.people = 0
                self.until = now + self.rng.uniform(600, 3600) / self.speed
            else:
                self.people = self.rng.randint(1, self.capacity)
                self.until = now + self.rng.uniform(900, 7200) / self.speed
            self.pending += [("door", {"open": True}), ("door", {"open": False})]
        metrics = {
            "occupied": 1.0 if self.people else 0.0,
            "people": float(self.people),
            "co2_ppm": round(self.co2_ppm + self.rng.uniform(-5, 5)),
            "temp_c": round(22 + 0.3 * self.people + self.rng.uniform(-0.3, 0.3), 1),
        }
        events, self.pending = self.pending, []
        return Step(None, metrics, events)


# -- a planned day ------------------------------------------------------------------------

VISIT_KINDS = ("booked", "fault", "overstay", "no_show", "walk_in", "unauthorised")
# Booked makers finish this long before their end, so a normal visit is never an overstay.
LEAVE_BEFORE_END_S = 120.0


@dataclass(frozen=True)
class Visit:
    """Someone at a machine in the day's plan; times in epoch seconds.

    booked: taps the badge at the start, runs while the machine is enabled and stops
    before the end. fault: booked, and the first run ends in a fault. overstay: booked,
    and runs on past the end until the machine is switched off. no_show: never comes.
    walk_in: taps the badge with no booking and runs once the machine is enabled, until
    the end it was given. unauthorised: runs the machine without anyone enabling it.
    """

    kind: str
    start: float
    end: float
    card: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in VISIT_KINDS:
            raise ValueError(f"unknown visit kind {self.kind!r}")
        if self.end <= self.start:
            raise ValueError("a visit ends after it starts")


class ScriptedMachine(MachineModel):
    """A machine that follows the day's plan: off until the scheduler enables it, run only
    by the visitor who is there, off again when disabled; no faults but the planned one.

    The run/idle cycles within a visit go `speed` times faster; the visits themselves keep
    the clock's time, as the reservations and the scheduler do.
    """

    def __init__(
        self,
        category: str,
        visits: Sequence[Visit],
        *,
        now: float,
        rng: random.Random,
        speed: float = 1.0,
    ) -> None:
        super().__init__(category, now=now, rng=rng, speed=speed)
        self.visits = sorted(visits, key=lambda v: v.start)
        self.enabled = False
        self.state = "off"
        self.fault_at = None
        self.until = now
        self.enabled_until: float | None = None
        self._arrived: set[int] = set()
        self._done: set[int] = set()
        self._faulted: set[int] = set()

    def _present(self, now: float) -> tuple[int, Visit] | None:
        """The visit under way now, if anyone is at the machine."""
        for index, visit in enumerate(self.visits):
            if index in self._done or visit.kind == "no_show" or now < visit.start:
                continue
            # An overstayer stays on past the end until the machine is switched off.
            if now < self._leaves_at(visit) or visit.kind == "overstay" and self.enabled:
                return index, visit
            self._done.add(index)
        return None

    def _leaves_at(self, visit: Visit) -> float:
        end = visit.end
        if visit.kind == "walk_in" and self.enabled_until is not None:
            end = min(end, self.enabled_until)
        if visit.kind in ("overstay", "unauthorised"):
            return end
        return end - LEAVE_BEFORE_END_S

    def _advance_state(self, now: float) -> None:
        present = self._present(now)
        if present is None:
            self._settle(now)
            return
        index, visit = present
        if index not in self._arrived:
            self._arrived.add(index)
            if visit.card and visit.kind != "unauthorised":
                self.pending.append(("badge", {"card": visit.card}))
        allowed = self.enabled or visit.kind == "unauthorised"
        if not allowed:
            self._settle(now)
        elif self.state == "running" and self.fault_at is not None and now >= self.fault_at:
            self.fault_at = None
            self._enter("fault", now)
        elif self.state in ("off", "idle") and now >= self.until or self.state == "off":
            self._start_run(index, visit, now)
        elif self.state != "idle" and now >= self.until:
            self._enter("idle", now)
            if visit.kind == "overstay":  # back at it before the end, to run on past it
                self.until = min(self.until, visit.end - LEAVE_BEFORE_END_S)

    def _start_run(self, index: int, visit: Visit, now: float) -> None:
        self.pending.append(("job", {"phase": "start"}))
        length = self._duration(self.profile.run_s)
        if visit.kind == "unauthorised":
            length = self._leaves_at(visit) - now  # one run: one use nobody allowed
        elif visit.kind == "overstay" and now + length >= visit.end - LEAVE_BEFORE_END_S:
            length = float("inf")  # the last run goes on until the machine is switched off
        elif visit.kind != "overstay":
            length = min(length, max(1.0, self._leaves_at(visit) - now))
        self.until = now + length
        self.fault_at = None
        if visit.kind == "fault" and index not in self._faulted:
            self._faulted.add(index)
            self.fault_at = now + length / 2
        self.state = "running"

    def _settle(self, now: float) -> None:
        """Nobody runs the machine: a run ends, and it is off unless enabled."""
        if self.state == "running":
            self.pending.append(("job", {"phase": "end"}))
        if self.state == "fault" and now < self.until:
            return
        self.state = "idle" if self.enabled else "off"
        self.until = now

    def disable(self, now: float) -> None:
        self.enabled = False
        self.enabled_until = None
        self._settle(now)

    def enable(self, now: float | None = None, until: float | None = None) -> None:
        self.enabled = True
        self.enabled_until = until
        if self.state == "off":
            self.state = "idle"


class ScriptedRoom(RoomModel):
    """A room that is occupied only during its planned visits (its bookings)."""

    def __init__(
        self,
        visits: Sequence[Visit],
        *,
        now: float,
        rng: random.Random,
        speed: float = 1.0,
        capacity: int = 8,
    ) -> None:
        super().__init__(now=now, rng=rng, speed=speed, capacity=capacity)
        self.visits = sorted(visits, key=lambda v: v.start)
        self.group = {index: rng.randint(1, self.capacity) for index in range(len(self.visits))}
        self.until = float("inf")  # the base class's comings and goings never happen

    def step(self, now: float) -> Step:
        under_way = next(
            (
                index
                for index, visit in enumerate(self.visits)
                if visit.kind != "no_show" and visit.start <= now < visit.end
            ),
            None,
        )
        people = 0 if under_way is None else self.group[under_way]
        if (people > 0) != (self.people > 0):
            self.pending += [("door", {"open": True}), ("door", {"open": False})]
        self.people = people
        return super().step(now)
