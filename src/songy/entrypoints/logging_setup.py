"""Structured logs: every stdlib log record rendered by structlog, as JSON lines in production or readable
console lines in the embedded default, carrying the context bound for the request or job (``request_id``,
``music_id``, ``attempt``)."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

CONTEXT_KEYS = ("request_id", "music_id", "attempt")


def configure_logging(*, json: bool, level: str = "INFO", stream: TextIO | None = None) -> None:
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
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("alembic.runtime.plugins", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


def current_request_id() -> str | None:
    """The request id bound for this request or job, if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else None
