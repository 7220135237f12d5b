"""Reading the configuration for a command: every bad setting becomes one line that names the variable, the value
and what is expected (never a traceback), and ``SONGY_*`` variables that are no setting are named with the closest
setting (a typo such as ``SONGY_BLOBSTORE`` would otherwise be silently ignored)."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from songy.entrypoints.redaction import Redactor
from songy.settings import Settings

PREFIX = "SONGY_"
# variables of the test suite and benchmarks, not settings: never warned about
NOT_SETTINGS = re.compile(r"^SONGY_(TEST|CHAOS|BENCH)_")
_SECRET_NAME = re.compile(r"(secret|token|key|password)", re.IGNORECASE)
_EXPECTATIONS = {
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
    "literal_error": None,  # pydantic's message lists the choices
    "greater_than": None,
    "greater_than_equal": None,
    "less_than": None,
    "less_than_equal": None,
    "string_too_short": None,
}


class ConfigurationError(Exception):
    """The settings cannot be used; ``lines`` says why, one line per bad setting."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def env_name(field: str) -> str:
    return PREFIX + field.upper()


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment (and ``.env``), with ``overrides`` from the command line; raises
    :class:`ConfigurationError` with one line per bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(describe(exc)) from None
    except SettingsError as exc:  # a value the settings source itself could not parse
        raise ConfigurationError([_REDACT(str(exc))]) from None


def describe(exc: ValidationError) -> list[str]:
    """One line per error: ``SONGY_PORT='abc': expected an integer``."""
    lines = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:  # a rule across settings: its message names them
            lines.append(_REDACT(message))
            continue
        field = str(error["loc"][0])
        expected = _EXPECTATIONS.get(error["type"])
        if expected is None:
            own = error["type"] == "value_error"  # Songy's validators say what is expected
            expected = message if own else _lower_first(message.removeprefix("Input should be "))
        value = error.get("input")
        shown = "[REDACTED]" if _SECRET_NAME.search(field) and value else repr(value)
        lines.append(_REDACT(f"{env_name(field)}={shown}: expected {expected}"))
    return lines


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each ``SONGY_*`` variable that is no setting, naming the closest one."""
    known = [env_name(name) for name in Settings.model_fields]
    warnings = []
    for name in sorted(environ if environ is not None else os.environ):
        upper = name.upper()
        if not upper.startswith(PREFIX) or upper in known or NOT_SETTINGS.match(upper):
            continue
        close = difflib.get_close_matches(upper, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else " (see docs/configuration.md)"
        warnings.append(f"{name} is not a Songy setting and is ignored{hint}")
    return warnings


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


_REDACT = Redactor()
