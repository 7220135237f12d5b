"""``songy serve`` as a separate process on a free loopback port, its whole output kept in a file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.moto import free_port

SONGY = str(Path(sys.executable).with_name("songy"))


class Serve:
    """``songy serve`` on a free loopback port, its output in a file."""

    def __init__(self, workdir: Path, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.output = workdir / "serve.log"
        self.env = {
            **os.environ,
            "SONGY_DATA_DIR": str(workdir / "data"),
            "SONGY_PORT": str(self.port),
            "SONGY_OUTBOX_POLL_INTERVAL_S": "0.1",
            **env,
        }
        with self.output.open("wb") as out:
            self.process = subprocess.Popen([SONGY, "serve"], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/health/live", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("songy serve did not start:\n" + self.log())
            time.sleep(0.1)

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def token(self, user: str) -> str:
        done = subprocess.run(
            [SONGY, "token", "--user", user], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
