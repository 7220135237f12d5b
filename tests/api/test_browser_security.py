"""CORS for exact allowed origins (tested with preflights), never with credentials; a strict CSP and the other
security headers on every response; the pages hold no inline script for the CSP to have to allow."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from songy.entrypoints.http.app import STATIC_DIR

from .conftest import Api

APP = "https://app.example"


def preflight(api: Api, origin: str, method: str = "POST", headers: str = "authorization, content-type") -> object:
    return api.client.options(
        "/api/music-generator/generate",
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
    )


def test_a_preflight_from_an_allowed_origin_is_answered_for_that_origin(make_api: Callable[..., Api]) -> None:
    api = make_api(cors_allowed_origins=[APP, "http://localhost:5173"])
    response = preflight(api, APP)
    assert response.status_code == 204  # type: ignore[attr-defined]
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["access-control-allow-origin"] == APP and "Origin" in headers["vary"]
    assert "POST" in headers["access-control-allow-methods"]
    assert {"authorization", "content-type", "idempotency-key"} <= set(
        headers["access-control-allow-headers"].split(", ")
    )
    assert "access-control-allow-credentials" not in headers
    generated = api.client.post(
        "/api/music-generator/generate",
        json={"name": "n", "prompt": "p", "lengthMs": 3000},
        headers={**api.auth(), "Origin": APP},
    )
    assert generated.status_code == 201 and generated.headers["access-control-allow-origin"] == APP
    assert "x-request-id" in generated.headers["access-control-expose-headers"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://app.example.evil.com",  # a suffix is not the origin
        "https://evil.com/https://app.example",
        "http://app.example",  # another scheme is another origin
        "https://app.example:8443",  # and another port
        "null",
    ],
)
def test_a_preflight_from_any_other_origin_gets_no_cors_permission(origin: str, make_api: Callable[..., Api]) -> None:
    api = make_api(cors_allowed_origins=[APP])
    response = preflight(api, origin)
    assert 400 <= response.status_code < 500  # type: ignore[attr-defined]
    assert "access-control-allow-origin" not in response.headers  # type: ignore[attr-defined]
    simple = api.client.get("/health/live", headers={"Origin": origin})
    assert "access-control-allow-origin" not in simple.headers


def test_without_allowed_origins_the_api_is_same_origin_only(api: Api) -> None:
    response = preflight(api, APP)
    assert "access-control-allow-origin" not in response.headers  # type: ignore[attr-defined]


def test_a_wildcard_never_comes_with_credentials(make_api: Callable[..., Api]) -> None:
    api = make_api(cors_allowed_origins=["*"])
    response = preflight(api, "https://anyone.example")
    assert response.headers["access-control-allow-origin"] == "*"  # type: ignore[attr-defined]
    assert "access-control-allow-credentials" not in response.headers  # type: ignore[attr-defined]


@given(host=st.from_regex(r"[a-z]{1,12}\.(example|test)", fullmatch=True))
def test_only_the_exact_origins_listed_are_allowed(host: str) -> None:
    from songy.entrypoints.http.security_headers import cors_config
    from songy.settings import Settings

    config = cors_config(Settings(_env_file=None, cors_allowed_origins=[APP]))  # type: ignore[call-arg]
    assert config is not None
    assert config.is_origin_allowed(f"https://{host}") == (f"https://{host}" == APP)


@pytest.mark.parametrize("path", ["/", "/admin", "/health/live", "/api/me", "/schema/swagger", "/static/songy.js"])
def test_every_response_carries_the_security_headers(path: str, api: Api) -> None:
    response = api.client.get(path, headers=api.auth())
    headers = response.headers
    policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert policy["script-src"] == "'self'"  # no inline script, no eval, no other origin
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["default-src"] == "'none'" and policy["base-uri"] == "'none'"
    if not path.startswith("/schema"):
        assert policy["style-src"] == "'self'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"


def test_the_csp_lets_the_player_reach_the_s3_endpoint_only(make_api: Callable[..., Api]) -> None:
    from songy.entrypoints.http.security_headers import content_security_policy
    from songy.settings import Settings

    s3 = Settings(_env_file=None, blob_store="s3", s3_endpoint_url="http://127.0.0.1:9000/")  # type: ignore[call-arg]
    assert "media-src 'self' http://127.0.0.1:9000;" in content_security_policy(s3)
    aws = Settings(_env_file=None, blob_store="s3", s3_bucket="tunes", s3_region="eu-west-1")  # type: ignore[call-arg]
    assert "https://tunes.s3.eu-west-1.amazonaws.com" in content_security_policy(aws)


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.problems += [f"<{tag} {name}=...>" for name in names if name.startswith("on")]
        if tag == "script":
            self._in_script = True
            if not names.get("src"):
                self.problems.append("<script> without src")
        if "style" in names:
            self.problems.append(f"<{tag} style=...>")
        if tag == "style":
            self.problems.append("<style> element")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = tag != "script" and self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script body")


@pytest.mark.parametrize("page", sorted(p.name for p in STATIC_DIR.glob("*.html")))
def test_the_pages_hold_no_inline_script_style_or_handler(page: str) -> None:
    parser = _Scripts()
    parser.feed((STATIC_DIR / page).read_text())
    assert parser.problems == []


@pytest.mark.parametrize("script", sorted(p.name for p in STATIC_DIR.glob("*.js")))
def test_the_scripts_never_write_html(script: str) -> None:
    source = Path(STATIC_DIR / script).read_text()
    assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", source)
