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
from dataclasses import dataclass
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


@dataclass
class Figures:
    cold: int  # KiB: RSS of the started, idle worker
    warm: int  # KiB: RSS after one short warm-up track (modules, clients and caches loaded)
    peak: int  # KiB: VmHWM while rendering the long tracks, reset after the warm-up
    seconds_per_track: float
    sizes: list[int]


def generate(base: str, headers: dict[str, str], name: str, length_ms: int) -> None:
    body = {"name": name, "prompt": "busy intense techno, 132 bpm", "lengthMs": length_ms}
    music_id = httpx.post(f"{base}/generate", json=body, headers=headers).json()["data"]["musicId"]
    status = "GENERATING"
    while status == "GENERATING":
        time.sleep(0.2)
        status = httpx.get(f"{base}/status/{music_id}", headers=headers).json()["data"]["status"]
    assert status == "COMPLETED", status


def measure(endpoint: str, s3: object, data_dir: Path) -> Figures:
    """The RSS figures of one worker rendering TRACKS long tracks after a short warm-up track."""
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
        cold = rss_kib(worker.pid, "VmRSS")
        token = subprocess.run([BIN / "songy", "token"], env=env, capture_output=True, text=True).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        generate(base, headers, "Warm-up", 10_000)
        time.sleep(0.5)
        warm = rss_kib(worker.pid, "VmRSS")
        Path(f"/proc/{worker.pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        started = time.perf_counter()
        for i in range(TRACKS):
            generate(base, headers, f"Long {i}", LENGTH_MS)
            print(f"after track {i + 1}: peak {rss_kib(worker.pid, 'VmHWM') / 1024:.1f} MiB", flush=True)
        elapsed = (time.perf_counter() - started) / TRACKS
        peak = rss_kib(worker.pid, "VmHWM")
        sizes = [o["Size"] for o in s3.list_objects_v2(Bucket="bench")["Contents"]]  # type: ignore[attr-defined]
    finally:
        for process in (worker, api):
            process.terminate()
            process.wait(timeout=60)
    return Figures(cold, warm, peak, elapsed, sizes)


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="songy-bench-"))
    try:
        with moto_bucket("bench") as (endpoint, s3):
            figures = measure(endpoint, s3, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    mp3 = max(figures.sizes) / 2**20
    pcm = LENGTH_MS / 1000 * 44_100 * 2 * 2 / 2**20
    above_warm, above_cold = (figures.peak - figures.warm) / 1024, (figures.peak - figures.cold) / 1024
    print(
        f"# memory bench: {TRACKS} x {LENGTH_MS // 1000} s tracks, synth -> mp3_44100_128 -> S3, worker concurrency 1"
    )
    print(
        f"worker RSS: idle {figures.cold / 1024:.1f} MiB, after a warm-up track {figures.warm / 1024:.1f} MiB, "
        f"peak {figures.peak / 1024:.1f} MiB ({figures.seconds_per_track:.1f} s per track)"
    )
    print(f"audio: mp3 {mp3:.1f} MiB, 16-bit stereo PCM {pcm:.1f} MiB")
    for label, above in (("warm", above_warm), ("idle", above_cold)):
        print(
            f"peak above {label:4}: {above:6.1f} MiB = x{above / mp3:.2f} the mp3, x{above / pcm:.2f} the PCM"
            "   (goal <= x2)"
        )


if __name__ == "__main__":
    main()
