"""The ``songy`` command: serve, worker, token, demo, synth, migrate, doctor, cleanup.

Exit codes: 0 done, 1 a service or the work failed, 2 the command line or the configuration is wrong. Every
failure is one line on stderr (``SONGY_LOG_LEVEL=DEBUG`` adds the traceback of an unexpected one)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

from songy.entrypoints.configuration import ConfigurationError, load_settings, unknown_variables
from songy.entrypoints.durations import parse_duration
from songy.entrypoints.logging_setup import configure_logging, redact_also
from songy.entrypoints.malloc_tuning import cap_malloc_arenas
from songy.entrypoints.redaction import configured_secrets
from songy.settings import Settings

DEMO_USER = "user_demo"
DEV_TOKEN_TTL = "24h"  # of the token `serve` prints and of `songy token`
USAGE_ERROR = 2
FAILURE = 1
log = logging.getLogger("songy.cli")

_loaded: Settings | None = None


class CommandError(Exception):
    """A failure to report as one line, with its exit code."""

    def __init__(self, message: str, code: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.code = code


def _settings() -> Settings:
    """The settings :func:`main` loaded (and checked) for this command."""
    global _loaded
    if _loaded is None:
        try:
            _loaded = load_settings()
        except ConfigurationError as exc:
            _exit(exc.lines, USAGE_ERROR)
    return _loaded


def _exit(lines: list[str], code: int) -> NoReturn:
    for line in lines:
        print(f"songy: {line}", file=sys.stderr)
    raise SystemExit(code)


def _duration(text: str, option: str) -> timedelta:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise CommandError(f"{option}: {exc}") from None
    if value <= timedelta(0):
        raise CommandError(f"{option} {text}: must be longer than 0 s")
    return value


def _dev_token(settings: Settings, user: str, ttl: timedelta, roles: tuple[str, ...] = ()) -> str:
    """A dev token signed with the secret ``songy serve`` uses; never makes a new secret (a token signed with a
    secret the server does not have would be refused: "Signature verification failed")."""
    from songy.container import build_container

    if settings.auth != "dev":
        raise CommandError("dev tokens exist only with SONGY_AUTH=dev (not in production mode)")
    secret_file = settings.data_dir / "dev-token-secret"
    if not settings.dev_token_secret and not secret_file.exists():
        raise CommandError(
            f"no dev-token secret in {settings.data_dir.resolve()} (songy serve makes it there on first start): "
            "run this where songy serve runs, or pass --data-dir (or set SONGY_DATA_DIR / SONGY_DEV_TOKEN_SECRET)"
        )
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
    if settings.log_format == "json":  # every line a JSON record for the log shipper; no token in the logs
        hint = "; dev auth: mint a token with `songy token`" if settings.auth == "dev" else ""
        log.info("Songy listening on %s (OpenAPI: /schema)%s", settings.resolved_public_base_url, hint)
    else:
        print(f"Songy listening on {settings.resolved_public_base_url}  (OpenAPI: /schema)", flush=True)
        if settings.auth == "dev":
            token = container.dev_tokens().mint(DEMO_USER, ttl=parse_duration(DEV_TOKEN_TTL))
            print(f"dev token for {DEMO_USER} (valid {DEV_TOKEN_TTL}, dev mode only):\n{token}", flush=True)
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
        raise CommandError("`songy worker` needs SONGY_REDIS_URL (the embedded default runs jobs in `songy serve`)")
    cap_malloc_arenas(settings.malloc_arenas)
    asyncio.run(run_worker(build_container(settings)))


def cmd_token(args: argparse.Namespace) -> None:
    settings = _settings()
    ttl = _duration(args.ttl, "--ttl")
    token = _dev_token(settings, args.user, ttl, tuple(args.role))
    where = "SONGY_DEV_TOKEN_SECRET" if settings.dev_token_secret else settings.data_dir.resolve() / "dev-token-secret"
    print(f"dev token for {args.user}, valid {args.ttl}, signed with {where}", file=sys.stderr)
    print(token)


def cmd_migrate(_: argparse.Namespace) -> None:
    from songy.adapters.sql.migrate import head_revision, upgrade_reporting

    settings = _settings()
    if settings.resolved_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    applied = upgrade_reporting(settings.resolved_database_url)
    for migration in applied:
        print(f"applied {migration}")
    done = f"applied {len(applied)} migrations" if applied else "nothing to apply"
    print(f"database is at the latest schema ({head_revision()}): {done}")


def cmd_cleanup(args: argparse.Namespace) -> None:
    from songy.container import build_container

    settings = _settings()
    if not settings.audio_retention_days:
        raise CommandError("set SONGY_AUDIO_RETENTION_DAYS to expire audio")

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


def cmd_doctor(args: argparse.Namespace) -> None:
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
            return await diagnose(container, fix=args.fix)
        finally:
            await container.engine().dispose()

    findings = asyncio.run(run())
    for finding in findings:
        mark = "ok  " if finding.ok else "FAIL"  # type: ignore[attr-defined]
        print(f"[{mark}] {finding.check}: {finding.detail}")  # type: ignore[attr-defined]
    if not all(f.ok for f in findings):  # type: ignore[attr-defined]
        if not args.fix:
            print("songy doctor --fix migrates the database and creates a missing S3 bucket")
        raise SystemExit(FAILURE)


def _demo_length_ms(text: str) -> int:
    from songy.domain.generation_request import LENGTH_MAX_MS, LENGTH_MIN_MS

    length_ms = int(_duration(text, "--length").total_seconds() * 1000)
    if not LENGTH_MIN_MS <= length_ms <= LENGTH_MAX_MS:
        raise CommandError(f"--length {text}: must be between {LENGTH_MIN_MS // 1000} s and {LENGTH_MAX_MS // 1000} s")
    return length_ms


def _prompt(text: str) -> str:
    """The prompt, refused when it says nothing (empty or only spaces)."""
    if not text.strip():
        raise CommandError('the prompt is empty: say what to play, e.g. "calm piano in D minor, 70 bpm"')
    return text


def cmd_demo(args: argparse.Namespace) -> None:
    import tempfile

    from songy.entrypoints.output_files import check_writable, output_format

    args.prompt = _prompt(args.prompt)
    length_ms = _demo_length_ms(args.length)
    asked = Path(args.out) if args.out else None
    try:  # before any work: a demo that fails only after generating wastes the wait
        fmt = output_format(asked or Path(f"songy-demo.{(args.format or 'mp3').split('_')[0]}"), args.format)
        out = asked or Path(f"songy-demo.{fmt.extension}")
        check_writable(out)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    settings = _settings()
    if "log_level" not in settings.model_fields_set:  # the progress bar, not the server's INFO lines
        logging.getLogger().setLevel(logging.WARNING)
    from songy.entrypoints.demo import run_demo

    run = {"prompt": args.prompt, "name": args.name, "length_ms": length_ms, "output_format": fmt.name, "out": out}
    if args.url:
        token = args.token or _dev_token(settings, DEMO_USER, timedelta(hours=1))
        status = run_demo(args.url, token, **run)  # type: ignore[arg-type]
    else:
        keep = "data_dir" in settings.model_fields_set  # --data-dir or SONGY_DATA_DIR: the user wants it kept
        with tempfile.TemporaryDirectory(prefix="songy-demo-") as scratch:
            data_dir = settings.data_dir if keep else Path(scratch)
            kept = "" if keep else ", removed after"
            print(f"starting an embedded Songy (data in {data_dir}{kept})", file=sys.stderr)
            status = _embedded_demo(settings, data_dir, args.port, run)
    print(f"saved {out} ({fmt.name}, {length_ms / 1000:g} s): music {status['musicId']}")


def _embedded_demo(settings: Settings, data_dir: Path, port: int | None, run: dict[str, Any]) -> dict[str, Any]:
    import socket

    from songy.container import build_container
    from songy.entrypoints.demo import embedded_server, run_demo

    if port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    update = {"host": "127.0.0.1", "port": port, "public_base_url": None, "data_dir": data_dir}
    container = build_container(settings.model_copy(update=update))
    token = container.dev_tokens().mint(DEMO_USER, ttl=timedelta(hours=1))
    with embedded_server(container) as url:
        return run_demo(url, token, **run)


def cmd_synth(args: argparse.Namespace) -> None:
    from songy.entrypoints.output_files import check_writable, output_format

    prompt = _prompt(args.prompt)
    out = Path(args.out)
    length_ms = int(_duration(args.length, "--length").total_seconds() * 1000)
    try:
        fmt = output_format(out, args.format)
        check_writable(out)
    except ValueError as exc:
        raise CommandError(str(exc)) from None

    from songy.adapters.codecs import encode
    from songy.adapters.synth.generator import interpretation, stream
    from songy.ports.audio import AudioSpec

    font = _settings().soundfont
    spec = AudioSpec(prompt, length_ms, fmt, "music_v1", seed=args.seed)
    if args.explain:
        print(interpretation(spec, font).explain())
    signal = stream(spec, font)
    with out.open("wb") as handle:
        for chunk in encode(signal, fmt):
            handle.write(chunk)
    print(f"wrote {out} ({fmt.name}, {length_ms} ms)")


class _Help(argparse.HelpFormatter):
    """Shows each option's default after its help, unless it has none or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or "default" in text:
            return text
        return f"{text} (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the embedded database, audio files and dev-token secret live (SONGY_DATA_DIR; default ./var)",
    )
    parser = argparse.ArgumentParser(
        prog="songy",
        description="Asynchronous AI music generation backend. Settings are SONGY_* environment variables "
        "(docs/configuration.md); exit codes: 0 done, 1 failed, 2 bad command line or configuration.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text, parents=[common], formatter_class=_Help)

    serve = command("serve", "run the HTTP API (and, without Redis, the worker in-process); prints a dev token")
    serve.add_argument("--host", help="interface to bind (default: SONGY_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: SONGY_PORT, 8000)")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="uvicorn's own log level (Songy's is SONGY_LOG_LEVEL)",
    )
    serve.set_defaults(func=cmd_serve)

    command("worker", "consume generation jobs from Redis (needs SONGY_REDIS_URL)").set_defaults(func=cmd_worker)
    command("migrate", "bring the database schema up to date; prints what it applied").set_defaults(func=cmd_migrate)

    doctor = command("doctor", "check the configuration and reach every configured service (exit 1 if one fails)")
    doctor.add_argument(
        "--fix", action="store_true", help="also migrate the database and create a missing S3 bucket, then re-check"
    )
    doctor.set_defaults(func=cmd_doctor)

    cleanup = command("cleanup", "expire audio past SONGY_AUDIO_RETENTION_DAYS (records stay)")
    cleanup.add_argument("--dry-run", action="store_true", help="only report what would be deleted")
    cleanup.set_defaults(func=cmd_cleanup)

    token = command("token", "mint a dev token signed with the secret in the data dir (dev auth only)")
    token.add_argument("--user", default=DEMO_USER, help="the clerkId the token speaks for")
    token.add_argument("--ttl", default=DEV_TOKEN_TTL, help="lifetime, e.g. 30m, 24h, 7d is 168h")
    token.add_argument("--role", action="append", default=[], help="a role claim, e.g. admin (repeatable)")
    token.set_defaults(func=cmd_token)

    demo = command("demo", "run the whole flow through the HTTP API (generate, poll, download) and save the track")
    demo.add_argument("prompt", help="what the track should sound like")
    demo.add_argument("--length", default="30s", help="track length, 3s to 300s (e.g. 30s, 1m30s, 4500ms)")
    demo.add_argument("--name", default="Songy Demo", help="the track's name")
    demo.add_argument("--format", help="output format, e.g. mp3_44100_128, wav_44100 (default: from -o's extension)")
    demo.add_argument("-o", "--out", metavar="FILE", help="file to write (default: songy-demo.<format>)")
    demo.add_argument("--url", help="a running Songy to use (default: start an embedded one in a temporary dir)")
    demo.add_argument("--token", help="bearer token for --url (default: a dev token from the data dir's secret)")
    demo.add_argument("--port", type=int, help="port of the embedded server (default: a free one)")
    demo.set_defaults(func=cmd_demo)

    synth = command("synth", "render a prompt with the offline synthesizer, no server")
    synth.add_argument("prompt", help="what the track should sound like")
    synth.add_argument("--length", default="20s", help="track length (e.g. 20s, 1m, 4500ms)")
    synth.add_argument("--format", help="output format, e.g. mp3_44100_128, wav_44100 (default: from -o's extension)")
    synth.add_argument("--seed", type=int, help="variation seed (default: derived from the prompt)")
    synth.add_argument("--explain", action="store_true", help="print how the prompt was understood, then render")
    synth.add_argument("-o", "--out", metavar="FILE", default="songy-synth.mp3", help="file to write")
    synth.set_defaults(func=cmd_synth)
    return parser


VALUE_OPTIONS = ("--length", "--ttl")


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--length -5s`` as ``--length=-5s``: argparse would take ``-5s`` for an option and say only "expected one
    argument"; joined, the value reaches the check that says what is wrong with it."""
    joined: list[str] = []
    values = iter(argv)
    for arg in values:
        if arg in VALUE_OPTIONS:
            following = next(values, None)
            if following is not None and following.startswith("-") and not following.startswith("--"):
                joined.append(f"{arg}={following}")
                continue
            joined.append(arg)
            if following is not None:
                joined.append(following)
        else:
            joined.append(arg)
    return joined


def main(argv: list[str] | None = None) -> None:
    global _loaded
    args = build_parser().parse_args(_join_negative_values(sys.argv[1:] if argv is None else argv))
    overrides = {"data_dir": Path(args.data_dir)} if getattr(args, "data_dir", None) else {}
    try:
        _loaded = load_settings(**overrides)
    except ConfigurationError as exc:
        configure_logging(json=False)
        _exit(exc.lines, USAGE_ERROR)
    settings = _loaded
    secrets = configured_secrets(settings)
    configure_logging(json=settings.log_format == "json", level=settings.log_level, secrets=secrets)
    for warning in unknown_variables():
        log.warning(warning)
    try:
        args.func(args)
    except CommandError as exc:
        _exit([str(exc)], exc.code)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:
        if settings.log_level == "DEBUG":
            raise
        _exit([f"{args.command} failed: {describe_failure(exc)}"], FAILURE)


def describe_failure(exc: BaseException) -> str:
    """One line for an error: what failed and why, without the driver's multi-line detail."""
    from sqlalchemy.exc import DBAPIError

    from songy.entrypoints.redaction import Redactor

    if isinstance(exc, ValueError | RuntimeError | OSError) and not isinstance(exc, DBAPIError):
        text = str(exc)
    elif isinstance(exc, DBAPIError):
        text = f"the database answered: {exc.orig}" if exc.orig is not None else str(exc)
        if exc.connection_invalidated or "connect" in text.lower():
            text = f"cannot reach the database: {exc.orig}"
    else:
        text = f"{exc.__class__.__name__}: {exc}"
    first = " ".join(text.split("\n", 1)[0].split()) or exc.__class__.__name__
    return Redactor()(first) + " (SONGY_LOG_LEVEL=DEBUG shows the traceback)" * (
        not isinstance(exc, ValueError | RuntimeError)
    )


if __name__ == "__main__":
    sys.exit(main())
