"""Documentation that is generated from code stays in step with it."""

from __future__ import annotations

from pathlib import Path

from songy.entrypoints.config_reference import render

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_reference_is_current() -> None:
    documented = (ROOT / "docs" / "configuration.md").read_text()
    assert documented == render(), "run: python -m songy.entrypoints.config_reference docs/configuration.md"


def test_every_setting_is_described() -> None:
    from songy.settings import Settings

    assert [n for n, f in Settings.model_fields.items() if not f.description] == []
