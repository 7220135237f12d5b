"""Structured logs: every stdlib log record rendered by structlog, as JSON lines in production or readable
console lines in the embedded default, carrying the context bound for the request or job (``request_id``,
``music_id``, ``attempt``). Every rendered line, tracebacks included, is redacted last (see redaction.py), so no
call site has to remember which of its values are secret."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

import structlog

from songy.entrypoints.redaction import Redactor

CONTEXT_KEYS = ("request_id", "music_id", "attempt")


REDACTOR = Redactor()


def redact_also(*secrets: str | None) -> None:
    """Keep these values out of every log line from now on (e.g. a secret generated after start-up)."""
    REDACTOR.add(*secrets)


def _redact(_: object, __: str, rendered: str) -> str:
    return REDACTOR(rendered)


def configure_logging(
    *, json: bool, level: str = "INFO", stream: TextIO | None = None, secrets: Iterable[str | None] = ()
) -> None:
    """Route every stdlib and structlog record (and warnings) through one redacting handler on the root logger;
    ``secrets`` are values to keep out of the logs besides what is shaped like a credential."""
    redact_also(*secrets)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
            _redact,  # type: ignore[list-item]  # the last processor takes the rendered line
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("alembic.runtime.plugins", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


def current_request_id() -> str | None:
    """The request id bound for this request or job, if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else None
