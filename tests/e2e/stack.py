"""Songy in production mode as separate OS processes: ``songy serve`` (API) and ``songy worker``s, on
PostgreSQL, a private Redis, moto's S3 server, the fake ElevenLabs and a local Clerk JWKS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import httpx

from tests.support.fake_elevenlabs import FakeElevenLabs
from tests.support.jwks import AZP, ISSUER, SigningKey
from tests.support.moto import free_port
from tests.support.postgres import POSTGRES_URL
from tests.support.redis_server import RedisServer
from tests.support.svix import SECRET, clerk_user_event, signed

SONGY = str(Path(sys.executable).with_name("songy"))


class Stack:
    def __init__(
        self,
        workdir: Path,
        redis: RedisServer,
        s3_endpoint: str,
        bucket: str,
        elevenlabs: tuple[FakeElevenLabs, str],
        clerk: tuple[SigningKey, str],
        **env: str,
    ) -> None:
        self.workdir = workdir
        self.redis = redis
        self.s3_endpoint = s3_endpoint
        self.bucket = bucket
        self.elevenlabs, elevenlabs_url = elevenlabs
        self.key, jwks_url = clerk
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "SONGY_MODE": "production",
            "SONGY_DATA_DIR": str(workdir / "data"),
            "SONGY_PORT": str(self.port),
            "SONGY_DATABASE_URL": POSTGRES_URL,
            "SONGY_REDIS_URL": redis.url,
            "SONGY_BLOB_STORE": "s3",
            "SONGY_S3_ENDPOINT_URL": s3_endpoint,
            "SONGY_S3_BUCKET": bucket,
            "SONGY_S3_ACCESS_KEY_ID": "testing",
            "SONGY_S3_SECRET_ACCESS_KEY": "testing",
            "SONGY_AUDIO_GENERATOR": "elevenlabs",
            "SONGY_ELEVENLABS_API_KEY": "test-key",
            "SONGY_ELEVENLABS_BASE_URL": elevenlabs_url,
            "SONGY_ELEVENLABS_TIMEOUT_S": "20",
            "SONGY_AUTH": "clerk",
            "SONGY_CLERK_JWKS_URL": jwks_url,
            "SONGY_CLERK_ISSUER": ISSUER,
            "SONGY_CLERK_AUTHORIZED_PARTIES": f'["{AZP}"]',
            "SONGY_CLERK_WEBHOOK_SECRET": SECRET,
            "SONGY_RETRY_BASE_DELAY_S": "0.2",
            "SONGY_OUTBOX_POLL_INTERVAL_S": "0.1",
            "SONGY_REDELIVERY_IDLE_MS": "3000",
            "SONGY_WORKER_SHUTDOWN_GRACE_S": "2",
            **env,
        }
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.http = httpx.Client(base_url=self.base_url, timeout=10)

    def _spawn(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        handle = (self.workdir / log).open("ab")
        return subprocess.Popen([SONGY, *args], env=self.env, stdout=handle, stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        path = self.workdir / name
        return path.read_text(errors="replace") if path.exists() else ""

    def start_api(self) -> None:
        subprocess.run([SONGY, "migrate"], env=self.env, check=True, capture_output=True)
        self.api = self._spawn("serve", "--log-level", "warning", log="api.log")
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.http.get("/health/live").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.api.poll() is not None:
                raise RuntimeError("API did not start:\n" + self.log("api.log"))
            time.sleep(0.1)

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = self._spawn("worker", log=f"worker{len(self.workers)}.log")
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    def stop(self) -> None:
        for process in [*self.workers, *([self.api] if self.api else [])]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers, *([self.api] if self.api else [])]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.http.close()

    # --- the client's side -------------------------------------------------------------------------------

    def create_user(self, clerk_id: str) -> None:
        body, headers = signed(clerk_user_event("user.created", clerk_id))
        response = self.http.post("/api/webhooks/clerk", content=body, headers=headers)
        assert response.status_code == 200, response.text

    def auth(self, clerk_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key.session_token(clerk_id)}"}

    def generate(self, clerk_id: str, **body: Any) -> httpx.Response:
        payload = {"name": "Test Song", "prompt": "upbeat electronic music", "lengthMs": 3000, **body}
        return self.http.post("/api/music-generator/generate", json=payload, headers=self.auth(clerk_id))

    def status(self, clerk_id: str, music_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/music-generator/status/{music_id}", headers=self.auth(clerk_id))
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def wait_for(self, clerk_id: str, music_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.status(clerk_id, music_id)
            if data["status"] != "GENERATING":
                return data
            time.sleep(0.1)
        logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.workdir.glob("*.log"))
        raise AssertionError(f"{music_id} still GENERATING after {timeout}s\n{logs}")

    def objects(self) -> list[str]:
        client = boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        return sorted(o["Key"] for o in client.list_objects_v2(Bucket=self.bucket).get("Contents", []))
