"""API latency and throughput: Songy (PostgreSQL + Redis + outbox) against a bare baseline on the same services.

Starts `songy serve` (API only, no in-process worker) and `bench/baseline_app.py`, each one uvicorn process,
loads both with wrk (Debian's package) at 1, 16 and 64 connections for POST generate (one user, then 64 users in
turn) and GET status, and prints requests/s, p50/p99 latency and the Songy/baseline ratios. Goals: p99 < 10 ms at
64 connections, throughput >= 0.8 x baseline.

On PostgreSQL the API process only commits the record and its outbox row (the durable enqueue); the relay that
XADDs it runs in the `songy worker` processes, woken by NOTIFY. No worker runs here, so that cost is not on this
process: bench/worker.py measures it. The baseline XADDs inside the request.

    .venv/bin/python -m bench.api [--seconds 6]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx

from bench.services import BIN, REDIS, ROOT, free_port, fresh_schema
from songy.adapters.devauth.tokens import DevTokens

SECRET = "bench-secret-" + "x" * 40
BODY = {"name": "Bench Song", "prompt": "upbeat electronic dance music", "lengthMs": 30000}
USERS = 64  # "POST 64 users": the same load spread over users (one user's requests queue on its credit balance)


def wait_up(url: str) -> None:
    for _ in range(200):
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, connections: int, seconds: int, method: str, body: str | None, tokens: list[str]) -> dict[str, float]:
    """One wrk run; requests take the ``tokens`` in turn (none: no Authorization header)."""
    script = Path(tempfile.mkdtemp()) / "request.lua"
    lines = [f'wrk.method = "{method}"', 'wrk.headers["Content-Type"] = "application/json"']
    if body:
        lines.append(f"wrk.body = {json.dumps(body)}")
    if tokens:
        lines += [
            "tokens = {" + ", ".join(json.dumps(f"Bearer {t}") for t in tokens) + "}",
            "n = 0",
            "request = function()",
            "  n = n + 1",
            '  wrk.headers["Authorization"] = tokens[(n % #tokens) + 1]',
            "  return wrk.format()",
            "end",
        ]
    script.write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shutil.rmtree(script.parent)

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": ms("50%"),
        "p99": ms("99%"),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=6)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench/api.py needs wrk: apt-get install wrk")
    run_id = uuid.uuid4().hex[:8]
    data_dir = Path(tempfile.mkdtemp(prefix="songy-bench-"))
    songy_port, base_port = free_port(), free_port()
    songy_env = {
        **os.environ,
        "SONGY_DATABASE_URL": fresh_schema(f"bench_songy_{run_id}"),
        "SONGY_REDIS_URL": REDIS,
        "SONGY_RUN_WORKER_IN_PROCESS": "false",
        "SONGY_DATA_DIR": str(data_dir),
        "SONGY_DEV_TOKEN_SECRET": SECRET,
        "SONGY_INITIAL_CREDITS": str(10**11),
        "SONGY_PORT": str(songy_port),
        "SONGY_LOG_LEVEL": "WARNING",
    }
    base_env = {
        **os.environ,
        "BASELINE_DATABASE_URL": fresh_schema(f"bench_base_{run_id}"),
        "BASELINE_REDIS_URL": REDIS,
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([BIN / "songy", "migrate"], env=songy_env, check=True, capture_output=True)
    servers = [
        subprocess.Popen(
            [BIN / "songy", "serve", "--log-level", "warning"],
            env=songy_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [BIN / "uvicorn", "bench.baseline_app:app", "--port", str(base_port), "--log-level", "warning"],
            env=base_env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        songy, base = f"http://127.0.0.1:{songy_port}", f"http://127.0.0.1:{base_port}"
        wait_up(songy + "/health/live")
        wait_up(base + "/status/none")
        minter = DevTokens(SECRET)
        tokens = [minter.mint(f"bench{i}", ttl=timedelta(hours=1)) for i in range(USERS)]
        token = tokens[0]
        auth = {"Authorization": f"Bearer {token}"}
        for other in tokens[1:]:  # every user exists before the clock starts
            httpx.post(songy + "/api/music-generator/generate", json=BODY, headers={"Authorization": f"Bearer {other}"})
        songy_id = httpx.post(songy + "/api/music-generator/generate", json=BODY, headers=auth).json()["data"][
            "musicId"
        ]
        base_id = httpx.post(base + "/generate", json=BODY).json()["musicId"]
        targets = {
            "POST generate": (
                (songy + "/api/music-generator/generate", "POST", json.dumps(BODY), [token]),
                (base + "/generate", "POST", json.dumps(BODY), []),
            ),
            f"POST {USERS} users": (
                (songy + "/api/music-generator/generate", "POST", json.dumps(BODY), tokens),
                (base + "/generate", "POST", json.dumps(BODY), []),
            ),
            "GET status": (
                (songy + f"/api/music-generator/status/{songy_id}", "GET", None, [token]),
                (base + f"/status/{base_id}", "GET", None, []),
            ),
        }
        print(f"# api bench: {os.cpu_count()} cpus, wrk 1 thread, {args.seconds}s per run, one uvicorn process each")
        print(
            f"{'route':<14}{'conns':>6} | {'songy rps':>10}{'p50 ms':>8}{'p99 ms':>8} | {'base rps':>10}{'p50 ms':>8}"
            f"{'p99 ms':>8} | {'rps ratio':>9}{'p99 ratio':>10}"
        )
        for route, (songy_target, base_target) in targets.items():
            for connections in (1, 16, 64):
                s = wrk(songy_target[0], connections, args.seconds, *songy_target[1:])
                b = wrk(base_target[0], connections, args.seconds, *base_target[1:])
                print(
                    f"{route:<14}{connections:>6} | {s['rps']:>10.0f}{s['p50']:>8.2f}{s['p99']:>8.2f} | "
                    f"{b['rps']:>10.0f}{b['p50']:>8.2f}{b['p99']:>8.2f} | {s['rps'] / b['rps']:>9.2f}"
                    f"{s['p99'] / b['p99']:>10.2f}" + (f"  ({s['errors']:.0f} errors)" if s["errors"] else "")
                )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
