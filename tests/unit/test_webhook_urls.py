"""Endpoint URLs are validated completely at registration (the domain's shape rules, then the adapter's parse)
and the very same rules decide at delivery: whatever is refused at one is refused at the other."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from songy.adapters.webhook_url import WebhookUrlRules
from songy.domain.errors import ValidationError
from songy.domain.webhooks import URL_MAX_CHARS, WebhookEndpoint
from songy.ports.events import WebhookUrlRejected

PRODUCTION = WebhookUrlRules(allow_http=False, allow_private=False)
DEV = WebhookUrlRules(allow_http=True, allow_private=True)

REFUSED_EVERYWHERE = {
    "https://example.com:0/": "port",
    "https://example.com:65536/": "port",
    "https://example.com:99999/": "port",
    "https://example.com:-1/": "port",
    "https://example.com:8o8o/": "port",
    "https://user:pass@example.com/": "credentials",
    "https://user@example.com/": "credentials",
    "https://@example.com/": "credentials",
    "https://:secret@example.com/": "credentials",
    "ftp://example.com/": "http",
    "file:///etc/passwd": "http",
    "javascript:alert(1)": "http",
    "ws://example.com/": "http",
    "https:example.com": "http",
    "//example.com/": "http",
    "example.com": "http",
    "": "http",
    "https://": "host",
    "https:///hook": "host",
    "https://?q=1": "host",
    "https://#frag": "host",
    "https://:443/": "host",
    "https://exa mple.com/": "spaces",
    "https://example.com/a b": "spaces",
    " https://example.com/": "http",
    "https://example.com/\t": "spaces",
    "https://exa\nmple.com/": "spaces",
    "https://example.com/\x00": "control",
    "https://example.com/\x7f": "control",
    "https://example.com/\u2028": "spaces",
    "https://example.com/\u200b": "control",
    "https://example.com\\@evil.example/": "backslash",
    "https://[::1/": "valid URL",
    "https://[fe80::1%25eth0]/": "valid URL",
    "https://" + "a" * 64 + ".example/" + "p" * URL_MAX_CHARS: "characters",
    "https://example.com/" + "é" * 700: "characters",  # short as typed, too long once percent-encoded
}
REFUSED_IN_PRODUCTION = {
    "http://example.com/hook": "https",
    "https://127.0.0.1/": "loopback",
    "https://127.0.0.1:8443/": "loopback",
    "https://10.0.0.1/": "private",
    "https://169.254.169.254/latest/meta-data": "private",
    "https://100.100.100.200/": "private",
    "https://[::1]/": "loopback",
    "https://[fd00::1]/": "private",
    "https://[::ffff:127.0.0.1]/": "loopback",
    "https://[2002:a00:1::]/": "private",
    "https://[64:ff9b::a9fe:a9fe]/": "private",
    "https://0x7f.1/": "loopback",  # a browser's parser reads 127.0.0.1 here, and so does ours
    "https://2130706433/": "loopback",
    "https://0177.0.0.1/": "loopback",
    "https://localhost/": "loopback",
    "https://LOCALHOST./": "loopback",
    "https://hooks.localhost/": "loopback",
}
ACCEPTED = {
    "https://example.com/hooks/songy": "https://example.com/hooks/songy",
    "https://EXAMPLE.com:443/x?y=1#frag": "https://example.com/x?y=1",
    "https://example.com": "https://example.com/",
    "https://example.com:65535/": "https://example.com:65535/",
    "https://example.com:1/": "https://example.com:1/",
    "https://bücher.example/ä": "https://xn--bcher-kva.example/%C3%A4",
    "https://example.com/a@b?c=d@e": "https://example.com/a@b?c=d@e",
    "https://93.184.216.34/": "https://93.184.216.34/",
    "https://[2606:2800:220:1:248:1893:25c8:1946]:8443/x": "https://[2606:2800:220:1:248:1893:25c8:1946]:8443/x",
}


def register(url: object, rules: WebhookUrlRules) -> str:
    return WebhookEndpoint.validate(url, None, rules)[0]


def refusal(url: object, rules: WebhookUrlRules) -> str:
    """The one field error registration gives for ``url``."""
    with pytest.raises(ValidationError) as refused:
        register(url, rules)
    (problem,) = refused.value.details
    assert problem.field == "url"
    return problem.message


@pytest.mark.parametrize("rules", [PRODUCTION, DEV], ids=["production", "dev"])
@pytest.mark.parametrize(("url", "reason"), REFUSED_EVERYWHERE.items(), ids=lambda v: repr(v)[:40])
def test_refused_at_registration_and_at_delivery(url: str, reason: str, rules: WebhookUrlRules) -> None:
    message = refusal(url, rules)
    assert any(word in message for word in reason.split("|")), message
    with pytest.raises(WebhookUrlRejected):  # an endpoint stored before these rules: refused at delivery too
        rules.target(url)


@pytest.mark.parametrize(("url", "reason"), REFUSED_IN_PRODUCTION.items(), ids=lambda v: repr(v)[:40])
def test_production_refuses_plain_http_and_literal_internal_hosts(url: str, reason: str) -> None:
    assert reason in refusal(url, PRODUCTION)
    with pytest.raises(WebhookUrlRejected, match=reason):
        PRODUCTION.target(url)
    assert register(url, DEV)  # dev mode delivers to a local receiver


@pytest.mark.parametrize(("url", "stored"), ACCEPTED.items())
def test_accepted_urls_are_stored_as_they_will_be_delivered_to(url: str, stored: str) -> None:
    assert register(url, PRODUCTION) == stored
    assert register(stored, PRODUCTION) == stored


def test_names_are_not_resolved_at_registration() -> None:
    # where a name leads is judged at each delivery (DNS may change in between); this one resolves nowhere
    assert register("https://hooks.invalid/x", PRODUCTION) == "https://hooks.invalid/x"


def test_not_a_string_is_a_field_error() -> None:
    for url in (None, 42, ["https://example.com/"], {"url": "https://example.com/"}):
        assert "http(s) URL" in refusal(url, DEV)


@given(st.integers(min_value=-(10**6), max_value=10**7))
@example(0)
@example(65535)
@example(65536)
def test_a_port_is_accepted_exactly_within_1_to_65535(port: int) -> None:
    url = f"https://example.com:{port}/hook"
    if 1 <= port <= 65535:
        target = PRODUCTION.target(register(url, PRODUCTION))
        assert target.port == port and target.host == "example.com"
    else:
        assert "port must be a number between 1 and 65535" in refusal(url, PRODUCTION)


@given(st.text(min_size=1, max_size=200))
def test_whatever_is_accepted_is_stable_and_deliverable(tail: str) -> None:
    """Anything registration accepts parses, at delivery, to the URL it was stored as."""
    try:
        stored = register("https://example.com/" + tail, PRODUCTION)
    except ValidationError:
        return
    target = PRODUCTION.target(stored)
    assert target.url == stored and target.host == "example.com" and target.port == 443
    assert register(stored, PRODUCTION) == stored


@given(st.text(max_size=80))
def test_arbitrary_text_never_crashes_validation(text: str) -> None:
    for prefix in ("", "https://", "http://"):
        with contextlib.suppress(ValidationError):
            register(prefix + text, PRODUCTION)
