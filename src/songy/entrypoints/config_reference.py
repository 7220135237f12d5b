"""Render the configuration reference (docs/configuration.md) from the :class:`Settings` model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, get_args, get_origin

from pydantic_core import PydanticUndefined

from songy.settings import Settings

HEADER = """# Configuration reference

Generated from `songy.settings.Settings` by `python -m songy.entrypoints.config_reference`; a test fails when
this file and the model disagree. Every setting is an environment variable with the `SONGY_` prefix (also read
from `.env`). With none set, Songy runs the embedded default.

| variable | type | default | meaning |
|---|---|---|---|
"""


def render() -> str:
    rows = []
    for name, field in Settings.model_fields.items():
        annotation = _type_name(field.annotation)
        if field.default_factory is not None:
            default = repr(field.default_factory())  # type: ignore[call-arg]
        elif field.default is PydanticUndefined:
            default = "required"
        else:
            default = repr(field.default) if field.default is not None else "unset"
        meaning = (field.description or "").replace("|", "\\|")
        default = default.replace("PosixPath(", "Path(")
        rows.append(f"| `SONGY_{name.upper()}` | {annotation} | `{default}` | {meaning} |")
    return HEADER + "\n".join(rows) + "\n"


def _type_name(annotation: object) -> str:
    args = get_args(annotation)
    if get_origin(annotation) is Literal:
        return " / ".join(f"`{a}`" for a in args)
    if args and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        return " or ".join(_type_name(a) for a in inner) + " (optional)"
    name = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
    if args:
        name = f"{name}[{', '.join(getattr(a, '__name__', str(a)) for a in args)}]"
    return f"`{name}`"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    text = render()
    if target:
        target.write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
