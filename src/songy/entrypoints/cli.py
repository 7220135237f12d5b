"""The ``songy`` command: serve, worker, token, demo, synth, migrate."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError

from songy.entrypoints.durations import parse_duration
from songy.entrypoints.logging_setup import configure_logging, redact_also
from songy.entrypoints.malloc_tuning import cap_malloc_arenas
from songy.entrypoints.redaction import configured_secrets
from songy.settings import Settings

DEMO_USER = "user_demo"


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        messages = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise SystemExit(f"songy: configuration error: {messages}") from None


def _dev_token(settings: Settings, user: str, ttl: timedelta, roles: tuple[str, ...] = ()) -> str:
    from songy.container import build_container

    if settings.auth != "dev":
        raise SystemExit("songy: dev tokens exist only with SONGY_AUTH=dev (not in production mode)")
    return build_container(settings).dev_tokens().mint(user, ttl=ttl, roles=roles)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    from songy.container import build_container
    from songy.entrypoints.http.app import create_app
    from songy.entrypoints.http.server import SongyServer

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = _settings().model_copy(update=overrides)
    cap_malloc_arenas(settings.malloc_arenas)
    container = build_container(settings)
    if settings.auth == "dev":
        redact_also(settings.resolved_dev_token_secret())  # generated into data_dir on first use
    print(f"Songy listening on {settings.resolved_public_base_url}  (OpenAPI: /schema)", flush=True)
    if settings.auth == "dev":
        token = container.dev_tokens().mint(DEMO_USER, ttl=timedelta(days=7))
        print(f"dev token for {DEMO_USER} (valid 7 days, dev mode only):\n{token}", flush=True)
    app = create_app(container)
    # what is loaded by now lives as long as the process: keep it out of the collector's scans, which otherwise
    # show up as pauses in the tail latency (bench/api.py: GET status p99 at 16 connections 90 -> 34 ms)
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=args.log_level, log_config=None, lifespan="on"
    )
    server = SongyServer(config, app.state.runtime)
    server.run()
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)


def cmd_worker(_: argparse.Namespace) -> None:
    from songy.container import build_container
    from songy.entrypoints.worker import run_worker

    settings = _settings()
    if not settings.redis_url:
        raise SystemExit(
            "songy: `songy worker` needs SONGY_REDIS_URL (the embedded default runs jobs in `songy serve`)"
        )
    cap_malloc_arenas(settings.malloc_arenas)
    asyncio.run(run_worker(build_container(settings)))


def cmd_token(args: argparse.Namespace) -> None:
    print(_dev_token(_settings(), args.user, parse_duration(args.ttl), tuple(args.role)))


def cmd_migrate(_: argparse.Namespace) -> None:
    from songy.adapters.sql.migrate import upgrade

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    print("database is at the latest schema")


def cmd_cleanup(args: argparse.Namespace) -> None:
    from songy.container import build_container

    settings = _settings()
    if not settings.audio_retention_days:
        raise SystemExit("songy: set SONGY_AUDIO_RETENTION_DAYS to expire audio")

    async def run() -> list[object]:
        container = build_container(settings)
        try:
            return await container.expire_audio()(dry_run=args.dry_run)
        finally:
            await container.engine().dispose()

    report = asyncio.run(run())
    verb = "would expire" if args.dry_run else "expired"
    for track in report:
        print(f"{verb} {track.music_id} {track.object_key}")  # type: ignore[attr-defined]
    print(f"{verb} the audio of {len(report)} tracks (older than {settings.audio_retention_days} days)")


def cmd_doctor(_: argparse.Namespace) -> None:
    from songy.container import build_container
    from songy.entrypoints.doctor import diagnose

    settings = _settings()
    print(
        f"mode {settings.mode}: database {settings.resolved_database_url.split('@')[-1]}, "
        f"queue {'redis' if settings.redis_url else 'in-process'}, blobs {settings.blob_store}, "
        f"audio {settings.audio_generator}, auth {settings.auth}"
    )

    async def run() -> list[object]:
        container = build_container(settings)
        try:
            return await diagnose(container)
        finally:
            await container.engine().dispose()

    findings = asyncio.run(run())
    for finding in findings:
        mark = "ok  " if finding.ok else "FAIL"  # type: ignore[attr-defined]
        print(f"[{mark}] {finding.check}: {finding.detail}")  # type: ignore[attr-defined]
    if not all(f.ok for f in findings):  # type: ignore[attr-defined]
        raise SystemExit(1)


def _prompt(text: str) -> str:
    """The prompt, refused when it says nothing (empty or only spaces)."""
    if not text.strip():
        raise ValueError('the prompt is empty: say what to play, e.g. "calm piano in D minor, 70 bpm"')
    return text


def cmd_demo(args: argparse.Namespace) -> None:
    from songy.container import build_container
    from songy.entrypoints.demo import embedded_server, run_demo

    args.prompt = _prompt(args.prompt)
    length_ms = int(parse_duration(args.length).total_seconds() * 1000)
    out = Path(args.out or f"songy-demo.{args.format.split('_')[0]}")
    settings = _settings()
    if args.url:
        token = args.token or _dev_token(settings, DEMO_USER, timedelta(hours=1))
        status = run_demo(
            args.url, token, prompt=args.prompt, name=args.name, length_ms=length_ms, output_format=args.format, out=out
        )
    else:
        if args.port is None:
            import socket

            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                args.port = probe.getsockname()[1]
        settings = settings.model_copy(update={"host": "127.0.0.1", "port": args.port, "public_base_url": None})
        container = build_container(settings)
        token = container.dev_tokens().mint(DEMO_USER, ttl=timedelta(hours=1))
        with embedded_server(container) as url:
            status = run_demo(
                url, token, prompt=args.prompt, name=args.name, length_ms=length_ms, output_format=args.format, out=out
            )
    print(status["musicId"])


def cmd_synth(args: argparse.Namespace) -> None:
    from songy.adapters.codecs import encode
    from songy.adapters.synth.generator import interpretation, stream
    from songy.domain.formats import OutputFormat
    from songy.ports.audio import AudioSpec

    prompt = _prompt(args.prompt)
    font = _settings().soundfont
    out = Path(args.out)
    name = args.format or {
        "mp3": "mp3_44100_128",
        "wav": "wav_44100",
        "pcm": "pcm_44100",
        "opus": "opus_48000_128",
        "ogg": "opus_48000_128",
        "ulaw": "ulaw_8000",
        "alaw": "alaw_8000",
    }.get(out.suffix.lstrip(".").lower(), "mp3_44100_128")
    fmt = OutputFormat.parse(name)
    length_ms = int(parse_duration(args.length).total_seconds() * 1000)
    spec = AudioSpec(prompt, length_ms, fmt, "music_v1", seed=args.seed)
    if args.explain:
        print(interpretation(spec, font).explain())
    signal = stream(spec, font)
    with out.open("wb") as handle:
        for chunk in encode(signal, fmt):
            handle.write(chunk)
    print(f"wrote {out} ({fmt.name}, {length_ms} ms)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="songy", description="Asynchronous AI music generation backend.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API (and, without Redis, the worker in-process)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("worker", help="consume generation jobs from Redis").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=cmd_migrate)

    sub.add_parser("doctor", help="check configuration and every configured service").set_defaults(func=cmd_doctor)

    cleanup = sub.add_parser("cleanup", help="expire audio past SONGY_AUDIO_RETENTION_DAYS (records stay)")
    cleanup.add_argument("--dry-run", action="store_true", help="only report what would be deleted")
    cleanup.set_defaults(func=cmd_cleanup)

    token = sub.add_parser("token", help="mint a dev token (dev auth only)")
    token.add_argument("--user", default=DEMO_USER, help="the clerkId the token speaks for")
    token.add_argument("--ttl", default="24h")
    token.add_argument("--role", action="append", default=[], help="a role claim, e.g. admin (repeatable)")
    token.set_defaults(func=cmd_token)

    demo = sub.add_parser("demo", help="run the whole flow through the HTTP API and save the track")
    demo.add_argument("prompt")
    demo.add_argument("--length", default="30s")
    demo.add_argument("--name", default="Songy Demo")
    demo.add_argument("--format", default="mp3_44100_128")
    demo.add_argument("-o", "--out")
    demo.add_argument("--url", help="a running Songy; default: start an embedded one")
    demo.add_argument("--token", help="bearer token for --url (default: a dev token)")
    demo.add_argument("--port", type=int, help="port for the embedded server (default: a free one)")
    demo.set_defaults(func=cmd_demo)

    synth = sub.add_parser("synth", help="render a prompt with the offline synthesizer, no server")
    synth.add_argument("prompt")
    synth.add_argument("--length", default="20s")
    synth.add_argument("--format", help="output format name (default: from the file extension)")
    synth.add_argument("--seed", type=int)
    synth.add_argument("--explain", action="store_true", help="print how the prompt was understood, then render")
    synth.add_argument("-o", "--out", default="songy-synth.mp3")
    synth.set_defaults(func=cmd_synth)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
        configure_logging(
            json=settings.log_format == "json", level=settings.log_level, secrets=configured_secrets(settings)
        )
    except ValidationError:
        configure_logging(json=False)
    try:
        args.func(args)
    except (RuntimeError, ValueError) as exc:
        raise SystemExit(f"songy: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
