"""`songy serve` with its database unreachable: a few lines with growing waits, no traceback, then one
"recovered" line per task once the database is back (it wrote ~10,700 lines and 204 tracebacks in 20 s)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import POSTGRES_URL, reset_postgres
from tests.support.songy_serve import Serve
from tests.support.tcp_forward import TcpForward

pytestmark = pytest.mark.e2e


def wait_for_log(serve: Serve, pattern: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = serve.log()
        if re.search(pattern, log):
            return log
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} never appeared in the log:\n{serve.log()[-3000:]}")


def test_an_unreachable_database_backs_off_with_one_line_per_attempt_then_recovers(tmp_path: Path) -> None:
    reset_postgres()
    database = TcpForward(5432)  # nothing listens on its port until the test opens it
    url = POSTGRES_URL.replace("127.0.0.1:5432", f"127.0.0.1:{database.port}")
    serve = Serve(tmp_path, SONGY_DATABASE_URL=url, SONGY_OUTBOX_POLL_INTERVAL_S="0.05")
    try:
        # the outage has lasted a while: the relay has failed five times (0.5 + 1 + 2 + 4 s of waits)
        outage = wait_for_log(serve, r"relay pass RelayOutbox failed \(attempt 5\)")
        assert httpx.get(f"{serve.base_url}/health/ready", timeout=10).status_code == 503
        failures = [line for line in outage.splitlines() if "failed (attempt" in line]
        assert "Traceback" not in outage
        assert len(failures) <= 20, "\n".join(failures)  # 0.05 s polling would have been ~150 passes per relay
        waits = [float(w) for w in re.findall(r"RelayOutbox failed \(attempt \d\).*next attempt in ([\d.]+) s", outage)]
        assert waits[:5] == [0.5, 1.0, 2.0, 4.0, 8.0]

        database.open()
        log = wait_for_log(serve, r"relay pass RelayOutbox recovered after \d+ failed attempts")
        assert httpx.get(f"{serve.base_url}/health/ready", timeout=10).status_code == 200
        assert "Traceback" not in log
        assert len(re.findall(r"relay pass RelayOutbox recovered", log)) == 1
    finally:
        serve.stop()
        database.close()
