"""Worker overhead and scaling: 1,000 jobs through PostgreSQL + Redis + S3 (moto) with an instant generator.

For 1 and then 2 `songy worker` processes, inserts 1,000 GENERATING records (with their outbox events) and
times the drain until all are COMPLETED; everything measured is Songy's own overhead (relay, queue, three
transactions, an S3 upload per job). The baseline, run in the same script, is a bare taskiq round trip of 1,000
no-op tasks on the same Redis with one taskiq worker process. Goals: overhead < 15 ms per job, throughput
>= 0.7 x bare taskiq, 2 workers >= 1.7 x one.

    .venv/bin/python -m bench.worker [--jobs 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from redis import Redis

from bench.services import BIN, REDIS, ROOT, fresh_schema, moto_bucket, songy_s3_env
from songy.container import build_container
from songy.domain.generation_request import GenerationRequest
from songy.domain.user import Identity
from songy.settings import Settings


async def enqueue(settings: Settings, jobs: int) -> None:
    container = build_container(settings)
    request = GenerationRequest.create(name="Bench", prompt="p", length_ms=3000)
    generate = container.generate_music()
    for start in range(0, jobs, 10):
        await generate(Identity("bench_user"), [request] * min(10, jobs - start))
    await container.engine().dispose()


def count_completed(url: str) -> int:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return conn.execute("SELECT count(*) FROM music WHERE status = 'COMPLETED'").fetchone()[0]  # type: ignore[index]


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@dataclass
class Run:
    seconds: float
    worker_cpu: float  # CPU seconds the worker processes used during the drain
    machine_busy: float  # share of all the machine's CPUs busy during the drain (everything: PG, Redis, moto...)


def songy_run(workers: int, jobs: int, env: dict[str, str]) -> Run:
    schema = f"bench_worker_{uuid.uuid4().hex[:8]}"
    url = fresh_schema(schema)
    run_env = {**env, "SONGY_DATABASE_URL": url}
    subprocess.run([BIN / "songy", "migrate"], env=run_env, check=True, capture_output=True)
    Redis.from_url(REDIS).delete("music-generation")
    processes = [
        subprocess.Popen([sys.executable, "-m", "bench.worker_process"], env=run_env, cwd=ROOT) for _ in range(workers)
    ]
    try:
        time.sleep(3)  # workers up, consumer group declared
        settings = Settings(_env_file=None, **{k[6:].lower(): v for k, v in run_env.items() if k.startswith("SONGY_")})  # type: ignore[arg-type]
        cpu_before = sum(process_cpu_seconds(p.pid) for p in processes)
        busy_before, total_before = machine_busy()
        started = time.perf_counter()
        asyncio.run(enqueue(settings, jobs))
        while count_completed(url) < jobs:
            if time.perf_counter() - started > 240:
                raise RuntimeError(f"only {count_completed(url)} of {jobs} completed in 240 s")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        busy_after, total_after = machine_busy()
        worker_cpu = sum(process_cpu_seconds(p.pid) for p in processes) - cpu_before
        return Run(seconds, worker_cpu, (busy_after - busy_before) / max(1, total_after - total_before))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                print(f"worker {process.pid} ignored SIGTERM for 60 s; killed", file=sys.stderr)
                process.kill()


def bare_run(jobs: int) -> float:
    redis = Redis.from_url(REDIS)
    redis.delete("bare-bench", "bare-bench-done")
    env = {**os.environ, "BENCH_REDIS_URL": REDIS, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(
        [BIN / "taskiq", "worker", "bench.bare_taskiq:broker", "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"""
import asyncio
from bench.bare_taskiq import broker, noop
async def main():
    await broker.startup()
    for i in range({jobs}):
        await noop.kiq(music_id=str(i))
    await broker.shutdown()
asyncio.run(main())
""",
            ],
            env=env,
            cwd=ROOT,
            check=True,
        )
        while int(redis.get("bare-bench-done") or 0) < jobs:
            if time.perf_counter() - started > 120:
                raise RuntimeError("bare taskiq did not drain")
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="songy-bench-"))
    with moto_bucket("bench") as (endpoint, _):
        env = songy_s3_env(endpoint, data_dir, SONGY_INITIAL_CREDITS=str(10**11), SONGY_OUTBOX_POLL_INTERVAL_S="0.05")
        try:
            bare = bare_run(args.jobs)
            one = songy_run(1, args.jobs, env)
            two = songy_run(2, args.jobs, env)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(f"# worker bench: {args.jobs} jobs, instant generator, PostgreSQL + Redis + S3 (moto), {os.cpu_count()} cpus")
    for label, seconds, note in (
        ("bare taskiq round trip", bare, ""),
        ("songy, 1 worker process", one.seconds, f"  (x{bare / one.seconds:.2f} of bare taskiq)"),
        ("songy, 2 worker processes", two.seconds, f"  (scaling x{one.seconds / two.seconds:.2f})"),
    ):
        rate, per_job = args.jobs / seconds, seconds / args.jobs * 1000
        print(f"{label:<27}{seconds:7.2f} s {rate:7.0f} jobs/s {per_job:6.2f} ms/job{note}")
    for label, run in (("1 worker", one), ("2 workers", two)):
        print(
            f"  {label}: worker CPU {run.worker_cpu / args.jobs * 1000:.2f} ms/job, "
            f"machine busy {run.machine_busy:.0%} of {os.cpu_count()} cpus during the drain"
        )


if __name__ == "__main__":
    main()
