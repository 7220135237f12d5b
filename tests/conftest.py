"""Shared test settings: hypothesis profiles (``HYPOTHESIS_PROFILE=ci`` is the default)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_sessionfinish() -> None:
    """Drop this run's PostgreSQL schema (see tests/support/postgres.py), if the server is there."""
    try:
        from tests.support.postgres import drop_schema

        drop_schema()
    except Exception:  # PostgreSQL may be down; nothing to clean then
        pass
