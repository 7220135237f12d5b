"""``kill -9`` of the embedded ``songy serve`` while tracks render, then a restart with the default settings: every
track completes within a minute, no partial upload is left behind, and no track has more than its one object."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from songy.adapters.codecs import decode
from songy.domain.formats import OutputFormat
from tests.support.moto import free_port

pytestmark = pytest.mark.e2e

SONGY = str(Path(sys.executable).with_name("songy"))
TRACKS = 8
LENGTH_MS = 60_000


class EmbeddedServer:
    """``songy serve`` on a data directory of its own, with nothing but defaults (and the port)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SONGY_")} | {
            "SONGY_DATA_DIR": str(workdir / "data"),
            "SONGY_PORT": str(self.port),
            "SONGY_DEV_TOKEN_SECRET": "restart-test-" + "x" * 40,
            "SONGY_WORKER_CONCURRENCY": str(TRACKS),  # all eight render at once
        }
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.workdir / "serve.log").open("ab")
        self.process = subprocess.Popen([SONGY, "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.http.get("/health/live").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("songy serve did not start: " + (self.workdir / "serve.log").read_text()[-2000:])

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def token(self) -> str:
        result = subprocess.run(
            [SONGY, "token", "--user", "user_restart"], env=self.env, capture_output=True, text=True, check=True
        )
        return result.stdout.strip()

    def partial_uploads(self) -> list[Path]:
        return list((self.workdir / "data" / "blobs").rglob(".upload-*"))


def test_kill_9_with_renders_in_flight_then_restart_completes_every_track(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path)
    server.start()
    try:
        headers = {"Authorization": f"Bearer {server.token()}"}
        items = [{"name": f"Restart {i}", "prompt": "lofi piano", "lengthMs": LENGTH_MS} for i in range(TRACKS)]
        response = server.http.post("/api/music-generator/batch", json={"items": items}, headers=headers)
        assert response.status_code == 201, response.text
        music_ids = response.json()["data"]["musicIds"]
        deadline = time.monotonic() + 30
        while len(server.partial_uploads()) < TRACKS:  # every render is writing its upload
            assert time.monotonic() < deadline, f"renders did not start: {len(server.partial_uploads())}"
            time.sleep(0.02)
        server.kill()
        assert len(server.partial_uploads()) == TRACKS  # what the dead process left

        killed_at = time.monotonic()
        server.start()
        statuses: dict[str, str] = {}
        while time.monotonic() - killed_at < 60:
            statuses = {
                music_id: server.http.get(f"/api/music-generator/status/{music_id}", headers=headers).json()["data"][
                    "status"
                ]
                for music_id in music_ids
            }
            if all(status != "GENERATING" for status in statuses.values()):
                break
            time.sleep(0.5)
        assert set(statuses.values()) == {"COMPLETED"}, statuses
        assert server.partial_uploads() == []

        stored = sorted(p for p in (tmp_path / "data" / "blobs").rglob("*") if p.is_file() and "meta" not in p.name)
        assert len(stored) == TRACKS, [p.name for p in stored]  # one object per track: no duplicate
        fmt = OutputFormat.parse("mp3_44100_128")
        for path in stored:
            samples, rate = decode(path.read_bytes(), fmt)
            assert abs(len(samples) / rate * 1000 - LENGTH_MS) < 30, path.name
    finally:
        server.stop()
