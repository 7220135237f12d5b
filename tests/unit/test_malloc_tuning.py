"""The glibc arena cap: applied on glibc, skipped when disabled or when the environment already says."""

from __future__ import annotations

import platform

import pytest

from songy.entrypoints.malloc_tuning import cap_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_applied_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert cap_malloc_arenas(8) is True  # 8 per core is glibc's own ceiling: harmless to the test process


def test_zero_leaves_the_default() -> None:
    assert cap_malloc_arenas(0) is False


def test_an_explicit_environment_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert cap_malloc_arenas(2) is False
