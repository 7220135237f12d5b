"""Secrets out of log lines. Every line Songy's logging renders (its own, uvicorn's access and error logs,
libraries', tracebacks) passes through :class:`Redactor` before it is written: the configured secrets are
replaced wherever they appear, and so is anything shaped like a credential (a JWT, a bearer token, the value of
a ``token``/``signature``/``X-Amz-Signature``/``api_key``... parameter, a ``whsec_`` or ``sk_`` key, a URL's
password)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"
MIN_SECRET_CHARS = 8  # a shorter configured value would redact ordinary words

# names whose values are secrets: query and form parameters, keyword arguments, JSON and dict keys
_SECRET_NAME = r"[\w.-]*(?:token|signature|secret|passw(?:or)?d|api[_-]?key|credential|session[_-]?id)|sig"
_SECRET_HEADER = r"xi-api-key|x-api-key|api-key|authorization|cookie|set-cookie|[\w-]*-signature"
_NOT_DONE = r"(?!\[REDACTED\])"  # a value an earlier shape already replaced
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # JSON Web Tokens (session tokens, dev tokens): header.payload.signature, the header always {"...
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    # Authorization header values
    (re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{REDACTED}"),
    # name=value in query strings, form bodies, key=value log fields, SigV4 Authorization headers
    (re.compile(rf"(?i)(?<![\w.-])((?:{_SECRET_NAME})=){_NOT_DONE}[^\s&\"'\\,;)}}\]]+"), rf"\1{REDACTED}"),
    # "name": "value" and 'name': 'value' (JSON, dict reprs)
    (re.compile(rf"(?i)([\"'](?:{_SECRET_NAME})[\"']\s*:\s*[\"']){_NOT_DONE}[^\"'\\]+"), rf"\1{REDACTED}"),
    # headers that carry a credential, as a line "Name: value"
    (re.compile(rf"(?i)\b((?:{_SECRET_HEADER}):[ \t]*){_NOT_DONE}[^\r\n\"']+"), rf"\1{REDACTED}"),
    # a signature printed on its own ("Signature:\n<hex>", as botocore logs it at DEBUG)
    (re.compile(rf"(?i)\b(signature:\s*){_NOT_DONE}[A-Za-z0-9+/=_-]{{16,}}"), rf"\1{REDACTED}"),
    # Svix / Standard Webhooks secrets, secret API keys (Clerk, ElevenLabs, Stripe style)
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), f"whsec_{REDACTED}"),
    (re.compile(r"\bsk_[A-Za-z0-9_]{16,}"), f"sk_{REDACTED}"),
    # the password of a URL: scheme://user:password@host
    (re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
)
_SECRET_SETTING = re.compile(r"secret|password|token|api_key|_key$|signing", re.IGNORECASE)


class Redactor:
    """Replaces secrets in text: the values it knows (configured secrets) and credential shapes."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._known: list[str] = []
        self.add(*known)

    def add(self, *values: str | None) -> None:
        """Also redact these values (and their JSON-escaped forms) from now on; short ones are ignored."""
        forms = set(self._known)
        for value in values:
            if value and len(value) >= MIN_SECRET_CHARS:
                forms.update({value, json.dumps(value)[1:-1]})
        self._known = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._known:
            if value in text:
                text = text.replace(value, REDACTED)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return text


def configured_secrets(settings: Any) -> list[str]:
    """The values of every setting named like a secret (``*_secret``, ``*_api_key``, ``*_token``, ...)."""
    found = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if _SECRET_SETTING.search(name) and isinstance(value, str):
            found.append(value)
    return found
