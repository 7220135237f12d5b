"""Schemathesis over the OpenAPI schema against a live Songy: no 5xx, and every 4xx in the error envelope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from songy.container import build_container
from songy.entrypoints.demo import embedded_server
from songy.settings import Settings
from tests.support.moto import free_port
from tests.support.svix import SECRET

pytestmark = pytest.mark.fuzz


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data = Path(tmp_path_factory.mktemp("fuzz"))
    config = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data, port=free_port(), dev_token_secret="f" * 40, clerk_webhook_secret=SECRET
    )
    container = build_container(config)
    token = container.dev_tokens().mint("user_fuzz", roles=("admin",), ttl=timedelta(hours=1))
    with embedded_server(container) as url:
        yield url, {"Authorization": f"Bearer {token}"}


def test_no_server_errors_and_errors_use_the_envelope(live: tuple[str, dict[str, str]]) -> None:
    """Every documented operation, with generated parameters and bodies (valid and not)."""
    url, headers = live
    schema = schemathesis.openapi.from_url(f"{url}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            response = case.call(base_url=url, headers=headers, timeout=30)
            where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
            assert response.status_code < 500, where
            if 400 <= response.status_code < 500 and "json" in response.headers.get("content-type", ""):
                body = response.json()
                assert body["success"] is False and body["error"]["code"] and body["error"]["message"], where

        try:
            check()
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)
