"""`SONGY_LOG_FORMAT=json`: every line `songy serve` writes is a JSON record, the access log included, and each
request's lines carry its `request_id` (serve once wrote plain uvicorn text)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support.songy_serve import Serve

pytestmark = pytest.mark.e2e


def test_serve_writes_only_json_lines_with_the_request_id_on_access_lines(tmp_path: Path) -> None:
    serve = Serve(tmp_path, SONGY_LOG_FORMAT="json", SONGY_DEV_TOKEN_SECRET="j" * 40)
    try:
        token = serve.token("user_json")
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-json-1"}
        created = httpx.post(
            f"{serve.base_url}/api/music-generator/generate",
            json={"name": "n", "prompt": "p", "lengthMs": 3000},
            headers=headers,
            timeout=10,
        )
        assert created.status_code == 201
        httpx.get(f"{serve.base_url}/health/live", headers={"X-Request-ID": "req-json-2"}, timeout=10)
        deadline = time.monotonic() + 30
        while '"req-json-2"' not in serve.log() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        serve.stop()
    lines = [line for line in serve.log().splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line[:300]}")
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    by_id = {r.get("request_id"): r["event"] for r in access}
    assert "POST /api/music-generator/generate" in by_id["req-json-1"]
    assert "GET /health/live" in by_id["req-json-2"]
    assert all(r.get("request_id") for r in access)
    assert any("Songy listening on" in r["event"] for r in records)
    assert not any("eyJ" in line for line in lines)  # no dev token printed into the log stream
