"""A misconfigured Songy says what is wrong in one line (the variable, its value, what is expected) and exits 2;
never a traceback. Variables that are no setting are named with the closest one; postgres:// URLs and
comma-separated lists are accepted."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from songy.entrypoints.configuration import unknown_variables
from songy.settings import Settings

SONGY = str(Path(sys.executable).with_name("songy"))
SECRET = {"SONGY_DEV_TOKEN_SECRET": "c" * 40}
UNREACHABLE_PG = "postgres://postgres@127.0.0.1:1/test"

# (command, environment, what the one line must say, exit code)
MISCONFIGURATIONS: list[tuple[list[str], dict[str, str], str, int]] = [
    (["token"], {"SONGY_PORT": "abc"}, "SONGY_PORT='abc': expected an integer", 2),
    (["token"], {"SONGY_LOG_LEVEL": "LOUD"}, "SONGY_LOG_LEVEL='LOUD': expected one of CRITICAL", 2),
    (["token"], {"SONGY_MODE": "staging"}, "SONGY_MODE='staging': expected 'embedded' or 'production'", 2),
    (["token"], {"SONGY_CLERK_AUTHORIZED_PARTIES": '["https://a'}, "SONGY_CLERK_AUTHORIZED_PARTIES=", 2),
    (["migrate"], {"SONGY_DATABASE_URL": "mysql://u@db/songy"}, "mysql:// is not supported", 2),
    (["migrate"], {"SONGY_DATABASE_URL": "not a url"}, "SONGY_DATABASE_URL='not a url': expected a URL", 2),
    (["doctor"], {"SONGY_REDIS_URL": "http://redis:6379"}, "SONGY_REDIS_URL='http://redis:6379': expected", 2),
    (["token"], {"SONGY_WORKER_CONCURRENCY": "0"}, "SONGY_WORKER_CONCURRENCY='0': expected greater than", 2),
    (["token"], {"SONGY_METRICS_PORT": "70000"}, "SONGY_METRICS_PORT='70000': expected less than", 2),
    (["token"], {"SONGY_METRICS_TOKEN": "short-secret"}, "SONGY_METRICS_TOKEN=[REDACTED]: expected", 2),
    (["token"], {"SONGY_RUN_WORKER_IN_PROCESS": "maybe"}, "SONGY_RUN_WORKER_IN_PROCESS='maybe': expected true", 2),
    (["token"], {"SONGY_BLOB_STORE": "gcs"}, "SONGY_BLOB_STORE='gcs': expected 'local' or 's3'", 2),
    (["token"], {"SONGY_AUTH": "clerk"}, "SONGY_AUTH=clerk needs SONGY_CLERK_JWKS_URL and SONGY_CLERK_ISSUER", 2),
    (["doctor"], {"SONGY_MODE": "production"}, "dev tokens are refused in production mode", 2),
    (["token"], {"SONGY_AUDIO_GENERATOR": "elevenlabs"}, "needs SONGY_ELEVENLABS_API_KEY", 2),
    (["token"], {"SONGY_CORS_ALLOWED_ORIGINS": "https://app.example/"}, "is not an origin", 2),
    (["token"], {"SONGY_S3_ENDPOINT_URL": "localhost:9000"}, "SONGY_S3_ENDPOINT_URL='localhost:9000': expected", 2),
    (["token"], {"SONGY_DOWNLOAD_URL_TTL_S": "0"}, "SONGY_DOWNLOAD_URL_TTL_S='0': expected greater than", 2),
    (["token"], {"SONGY_INITIAL_CREDITS": "-1"}, "SONGY_INITIAL_CREDITS='-1': expected greater than", 2),
    (["token"], {"SONGY_PUBLIC_BASE_URL": "api.example"}, "SONGY_PUBLIC_BASE_URL='api.example': expected", 2),
    (["worker"], {}, "`songy worker` needs SONGY_REDIS_URL", 2),
    (["token"], {"SONGY_DEV_TOKEN_SECRET": ""}, "no dev-token secret in", 2),
    (["token", "--ttl", "-1h"], SECRET, "--ttl: not a duration: '-1h'", 2),
    (["synth", "x", "--length", "0s"], {}, "--length 0s: must be longer than 0 s", 2),
    (["synth", "x", "--length", "-5s"], {}, "--length: not a duration: '-5s'", 2),
    (["synth", "x", "-o", "s.flac"], {}, "cannot write s.flac: .flac is not a format Songy writes", 2),
    (["synth", "x", "-o", "/nonexistent/x.mp3"], {}, "cannot write /nonexistent/x.mp3: no directory", 2),
    (["demo", "x", "-o", "/nonexistent/x.mp3"], {}, "cannot write /nonexistent/x.mp3: no directory", 2),
    (["demo", "x", "-o", "t.opus", "--format", "mp3_44100_128"], {}, "use -o t.mp3, or --format opus_48000_128", 2),
    (["demo", "x", "--length", "1000s"], {}, "--length 1000s: must be between 3 s and 300 s", 2),
    (["migrate"], {"SONGY_DATABASE_URL": UNREACHABLE_PG}, "migrate failed: cannot reach the database", 1),
]


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SONGY_")} | env
    return subprocess.run([SONGY, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=60)


def test_every_misconfiguration_is_one_line_and_no_traceback(tmp_path: Path) -> None:
    assert len(MISCONFIGURATIONS) >= 20
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda row: run(row[0], row[1], tmp_path), MISCONFIGURATIONS))
    problems = []
    for (args, env, expected, code), result in zip(MISCONFIGURATIONS, results, strict=True):
        lines = result.stderr.splitlines()
        if (
            result.returncode != code
            or len(lines) != 1
            or expected not in lines[0]
            or not lines[0].startswith("songy: ")
            or result.stdout
            or "Traceback" in result.stderr
        ):
            problems.append(f"songy {' '.join(args)} with {env}: exit {result.returncode}\n{result.stderr[-800:]}")
    assert not problems, "\n\n".join(problems)
    assert not (tmp_path / "var").exists()  # no refused command left a data directory behind


def test_an_unknown_variable_is_named_with_the_closest_setting(tmp_path: Path) -> None:
    result = run(["token"], {**SECRET, "SONGY_BLOBSTORE": "s3"}, tmp_path)
    assert result.returncode == 0 and result.stdout.count(".") == 2  # the token still comes out
    warnings = [line for line in result.stderr.splitlines() if "SONGY_BLOBSTORE" in line]
    assert len(warnings) == 1 and "did you mean SONGY_BLOB_STORE?" in warnings[0]


def test_unknown_variables_are_only_the_ones_that_are_no_setting() -> None:
    environ = {"SONGY_PORT": "1", "SONGY_DATBASE_URL": "x", "SONGY_TEST_POSTGRES_URL": "x", "HOME": "/"}
    (warning,) = unknown_variables(environ)
    assert warning.startswith("SONGY_DATBASE_URL") and "SONGY_DATABASE_URL" in warning


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db:5432/songy", "postgresql+psycopg://u:p@db:5432/songy"),
        ("postgresql://u@db/songy?sslmode=require", "postgresql+psycopg://u@db/songy?sslmode=require"),
        ("postgresql+psycopg://u@db/songy", "postgresql+psycopg://u@db/songy"),
        ("sqlite:////tmp/songy.db", "sqlite+aiosqlite:////tmp/songy.db"),
    ],
)
def test_database_urls_as_libpq_writes_them_are_accepted(
    given: str, used: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SONGY_DATABASE_URL", given)
    assert Settings(_env_file=None).resolved_database_url == used  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "given",
    [
        "https://a.example,https://b.example",
        " https://a.example , https://b.example ",
        '["https://a.example", "https://b.example"]',
    ],
)
def test_list_settings_take_commas_or_json(given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGY_CLERK_AUTHORIZED_PARTIES", given)
    monkeypatch.setenv("SONGY_CORS_ALLOWED_ORIGINS", given)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.clerk_authorized_parties == ["https://a.example", "https://b.example"]
    assert settings.cors_allowed_origins == ["https://a.example", "https://b.example"]
