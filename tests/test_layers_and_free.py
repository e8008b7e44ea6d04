"""One read of the layers gives a page both why time is taken and what is free."""

from __future__ import annotations

import pytest

from service.rules.availability import (
    free_intervals_many,
    layers_and_free_many,
)
from service.rules.hours import opening_intervals
from service.rules.intervals import clip
from tests.conftest import CURRENT_TIME
from tests.factories import seoul


def pairs(world):
    return [
        (resource, next(s for s in world.sites.values() if s.id == resource.site_id))
        for resource in world.resources.values()
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-03-02 09:00", "2026-03-04 09:00"),
        ("2026-03-02 06:00", "2026-03-02 12:00"),
        ("2026-03-01 06:00", "2026-03-01 12:00"),
    ],
)
def test_layers_and_free_agree_with_what_is_free(session, world, start, end):
    resources = pairs(world)
    lo, hi = seoul(start), seoul(end)
    layers, free = layers_and_free_many(
        session=session, resources=resources, start=lo, end=hi, now=CURRENT_TIME
    )
    assert free == free_intervals_many(
        session=session, resources=resources, start=lo, end=hi, now=CURRENT_TIME
    )
    assert set(layers) == {resource.id for resource, _ in resources}
    for resource, site in resources:
        assert clip(layers[resource.id].open, lo, hi) == opening_intervals(
            session=session, site=site, start=lo, end=hi
        )
