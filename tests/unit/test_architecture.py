"""Dependencies point inward: the domain imports no adapter, entrypoint, framework or I/O library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "songy"
FORBIDDEN_IN_CORE = {
    "songy.adapters",
    "songy.entrypoints",
    "songy.container",
    "songy.settings",
    "litestar",
    "sqlalchemy",
    "boto3",
    "botocore",
    "httpx",
    "taskiq",
    "taskiq_redis",
    "redis",
    "jwt",
    "pydantic",
    "dependency_injector",
    "numpy",
    "av",
    "lameenc",
    "psycopg",
    "aiosqlite",
    "cuid2",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def core_files() -> list[Path]:
    return sorted([*(SRC / "domain").rglob("*.py"), *(SRC / "ports").rglob("*.py")])


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_domain_and_ports_import_nothing_outward(path: Path) -> None:
    bad = {
        name for name in imported_modules(path) if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_CORE)
    }
    assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_domain_does_not_import_ports_implementations() -> None:
    for path in (SRC / "domain").rglob("*.py"):
        for name in imported_modules(path):
            if name.startswith("songy."):
                assert name.startswith(("songy.domain", "songy.ports")), f"{path}: {name}"


def test_adapters_never_import_entrypoints() -> None:
    for path in (SRC / "adapters").rglob("*.py"):
        assert not any(n.startswith("songy.entrypoints") for n in imported_modules(path)), path
