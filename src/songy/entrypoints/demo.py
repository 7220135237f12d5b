"""``songy demo``: the seed's whole flow as a client sees it, over HTTP, with a progress bar."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from songy.container import Container
from songy.entrypoints.http.app import create_app

BAR_WIDTH = 30


@contextmanager
def embedded_server(container: Container) -> Iterator[str]:
    """Run the API (with its in-process worker) on a free loopback port for the duration of the block."""
    settings = container.settings()
    config = uvicorn.Config(create_app(container), host="127.0.0.1", port=settings.port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the embedded Songy server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _bar(fraction: float, label: str) -> str:
    filled = int(BAR_WIDTH * min(max(fraction, 0.0), 1.0))
    return f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {label:<40}"


def run_demo(
    base_url: str,
    token: str,
    *,
    prompt: str,
    name: str,
    length_ms: int,
    output_format: str,
    out: Path,
    timeout_s: float = 600.0,
    poll_interval_s: float = 0.25,
) -> dict[str, Any]:
    """Generate, poll until done, download; returns the final status. Raises ``RuntimeError`` on failure."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        created = client.post(
            "/api/music-generator/generate",
            json={"name": name, "prompt": prompt, "lengthMs": length_ms, "outputFormat": output_format},
        )
        body = created.json()
        if created.status_code != 201:
            raise RuntimeError(f"generate failed ({created.status_code}): {body.get('error')}")
        music_id = body["data"]["musicId"]
        print(f"job {music_id} created: {body['message']}", file=sys.stderr)

        started = time.monotonic()
        expected = max(2.0, length_ms / 1000 / 50)
        while True:
            status = client.get(f"/api/music-generator/status/{music_id}").json()["data"]
            elapsed = time.monotonic() - started
            if status["status"] != "GENERATING":
                break
            if elapsed > timeout_s:
                raise RuntimeError(f"music {music_id} still GENERATING after {timeout_s:.0f}s")
            fraction = 0.95 * (1 - 2 ** (-elapsed / expected))
            sys.stderr.write(_bar(fraction, f"GENERATING {elapsed:5.1f}s"))
            sys.stderr.flush()
            time.sleep(poll_interval_s)
        if status["status"] != "COMPLETED":
            sys.stderr.write(_bar(0, status["status"]) + "\n")
            raise RuntimeError(f"music {music_id} {status['status']}: {status.get('error')}")
        sys.stderr.write(_bar(1.0, f"COMPLETED in {elapsed:.1f}s") + "\n")

        link = client.get(f"/api/music-generator/download/{music_id}").json()["data"]
        with httpx.stream("GET", link["url"], timeout=60) as download:
            download.raise_for_status()
            with out.open("wb") as handle:
                for chunk in download.iter_bytes():
                    handle.write(chunk)
    source = status["audioUrl"].split("?", 1)[0]  # the object, not its signature (a credential for an hour)
    print(f"wrote {out} ({out.stat().st_size} bytes) from {source}", file=sys.stderr)
    return status
