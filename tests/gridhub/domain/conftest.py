"""Fixtures of the domain tests: a hand-built city of 2 townships, 3 villages, 4 grids,
3 departments and categories at every tier (plus TEST-FAST with second-scale SLAs)."""

from __future__ import annotations

import pytest

from gridhub.domain.calendar import WorkCalendar
from gridhub.domain.context import Context
from gridhub.domain.hierarchy import City

from .support import CITY


@pytest.fixture
def city() -> City:
    return CITY


@pytest.fixture
def ctx(city: City) -> Context:
    return Context(city, WorkCalendar())
