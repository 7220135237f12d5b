"""JSON logs carry the request id from the API into the worker's lines about the same music; no log line
carries a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from songy.entrypoints.logging_setup import configure_logging
from songy.entrypoints.redaction import REDACTED, Redactor

from .conftest import Api


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging(json=True, stream=stream)
    yield stream
    root.handlers, root.level = saved[0], saved[1]


def test_request_id_reaches_the_workers_log_lines(api: Api, json_logs: io.StringIO) -> None:
    headers = {**api.auth(), "X-Request-ID": "req-abc-123"}
    response = api.client.post(
        "/api/music-generator/generate", json={"name": "n", "prompt": "p", "lengthMs": 3000}, headers=headers
    )
    assert response.headers["x-request-id"] == "req-abc-123"
    music_id = response.json()["data"]["musicId"]
    api.wait_for(music_id)
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.startswith("{")]
    worker = [
        line
        for line in lines
        if line.get("logger") == "songy.domain.use_cases.process_generation" and line.get("music_id") == music_id
    ]
    assert worker, lines[-5:]
    assert {line["request_id"] for line in worker} == {"req-abc-123"}
    assert all(line["attempt"] == 1 and "timestamp" in line and "level" in line for line in worker)


def test_a_request_id_is_made_up_when_missing_or_unsafe(api: Api) -> None:
    made = api.client.get("/health/live").headers["x-request-id"]
    unsafe = api.client.get("/health/live", headers={"X-Request-ID": "bad id\nwith newline"}).headers["x-request-id"]
    assert len(made) == 32 and len(unsafe) == 32 and made != unsafe


SIGNING_SECRET = "signing-" + "s3cr3t" * 6
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyX2FsaWNlIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi14eXo"
PRESIGNED = (
    "https://b.s3.amazonaws.com/music/x.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F2025"
    "&X-Amz-Date=20250101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=9f86d081884c7d659a2f"
)
CARRIERS = {
    "bearer": (f"Authorization: Bearer {JWT}", JWT.split(".")[2]),
    "query token": (f"GET /api/music-generator/ws?token={JWT} HTTP/1.1", JWT.split(".")[2]),
    "presigned": (PRESIGNED, "9f86d081884c7d659a2f"),
    "local signed": ("/files/music/a.mp3?expires=99&signature=Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4"),
    "webhook secret": ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    "api key header": ("{'xi-api-key': 'sk_4f1d2c3b4a5e6f7a8b9c'}", "4f1d2c3b4a5e6f7a8b9c"),
    "url password": ("postgresql+psycopg://songy:pa55w0rd-db@db/songy", "pa55w0rd-db"),
    "configured": (f"the signing secret is {SIGNING_SECRET}", SIGNING_SECRET),
}


@pytest.fixture(params=[True, False], ids=["json", "console"])
def redacted_logs(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging(json=request.param, stream=stream, secrets=[SIGNING_SECRET])
    yield stream
    root.handlers, root.level = saved[0], saved[1]


@pytest.mark.parametrize("carrier", CARRIERS)
def test_secrets_are_redacted_from_messages_fields_and_tracebacks(redacted_logs: io.StringIO, carrier: str) -> None:
    text, secret = CARRIERS[carrier]
    stdlib = logging.getLogger("songy.test")
    stdlib.info("plain %s", text)
    structlog.get_logger("songy.test").info("structured", detail=text, nested={"where": [text]})
    try:
        try:
            raise ValueError(text)
        except ValueError as cause:
            raise RuntimeError(f"while handling {text}") from cause
    except RuntimeError:
        stdlib.exception("failed")
    output = redacted_logs.getvalue()
    assert "Traceback (most recent call last)" in output and "REDACTED" in output  # it was logged, and redacted
    assert secret not in output


SECRET_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="[]")


@given(secret=st.text(SECRET_CHARS, min_size=8))
def test_a_configured_secret_never_reaches_a_line(secret: str) -> None:
    redactor = Redactor([secret])
    for line in (f"x {secret} y", json.dumps({"event": f"value={secret}"}), repr({"k": secret})):
        assert secret not in redactor(line) or secret in REDACTED
