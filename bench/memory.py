"""Peak memory of a worker rendering 300 s tracks with the offline synthesizer and uploading them to S3 (moto).

Starts one `songy worker` (concurrency 1) on PostgreSQL + Redis + moto, reads its idle RSS, generates three
300 s mp3_44100_128 tracks one after another, and prints the peak RSS (VmHWM) above the idle baseline against the
size of the audio: the encoded MP3 and the 16-bit PCM it was rendered from. Goal: <= 2 x the audio size.

    .venv/bin/python -m bench.memory
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.services import BIN, free_port, fresh_schema, moto_bucket, songy_s3_env

TRACKS = 3
LENGTH_MS = 300_000


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def measure(endpoint: str, s3: object, data_dir: Path) -> tuple[int, int, float, list[int]]:
    """(idle RSS KiB, peak RSS KiB, seconds per track, object sizes) of one worker rendering TRACKS tracks."""
    api_port = free_port()
    env = songy_s3_env(
        endpoint,
        data_dir,
        SONGY_DATABASE_URL=fresh_schema(f"bench_memory_{uuid.uuid4().hex[:8]}"),
        SONGY_WORKER_CONCURRENCY="1",
        SONGY_RUN_WORKER_IN_PROCESS="false",
        SONGY_PORT=str(api_port),
    )
    subprocess.run([BIN / "songy", "migrate"], env=env, check=True, capture_output=True)
    worker = subprocess.Popen([BIN / "songy", "worker"], env=env)
    api = subprocess.Popen(
        [BIN / "songy", "serve", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{api_port}/api/music-generator"
    try:
        time.sleep(4)
        idle = rss_kib(worker.pid, "VmRSS")
        token = subprocess.run([BIN / "songy", "token"], env=env, capture_output=True, text=True).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        for i in range(TRACKS):
            body = {"name": f"Long {i}", "prompt": "busy intense techno, 132 bpm", "lengthMs": LENGTH_MS}
            music_id = httpx.post(f"{base}/generate", json=body, headers=headers).json()["data"]["musicId"]
            status = "GENERATING"
            while status == "GENERATING":
                time.sleep(0.2)
                status = httpx.get(f"{base}/status/{music_id}", headers=headers).json()["data"]["status"]
            assert status == "COMPLETED", status
        elapsed = (time.perf_counter() - started) / TRACKS
        peak = rss_kib(worker.pid, "VmHWM")
        sizes = [o["Size"] for o in s3.list_objects_v2(Bucket="bench")["Contents"]]  # type: ignore[attr-defined]
    finally:
        for process in (worker, api):
            process.terminate()
            process.wait(timeout=60)
    return idle, peak, elapsed, sizes


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="songy-bench-"))
    try:
        with moto_bucket("bench") as (endpoint, s3):
            idle, peak, elapsed, sizes = measure(endpoint, s3, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    mp3 = max(sizes) / 2**20
    pcm = LENGTH_MS / 1000 * 44_100 * 2 * 2 / 2**20
    above = (peak - idle) / 1024
    print(
        f"# memory bench: {TRACKS} x {LENGTH_MS // 1000} s tracks, synth -> mp3_44100_128 -> S3, worker concurrency 1"
    )
    print(
        f"worker idle RSS {idle / 1024:7.1f} MiB, peak {peak / 1024:7.1f} MiB, above idle {above:7.1f} MiB "
        f"({elapsed:.1f} s per track)"
    )
    print(f"audio: mp3 {mp3:6.1f} MiB, 16-bit stereo PCM {pcm:6.1f} MiB")
    print(f"peak above idle / mp3 size: x{above / mp3:.1f}   / PCM size: x{above / pcm:.2f}   (goal <= x2)")


if __name__ == "__main__":
    main()
