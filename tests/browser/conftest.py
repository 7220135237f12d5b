"""Headless Chromium (Debian's package) on Songy's pages, watching what a reviewer would: requests that leave the
machine, Content-Security-Policy violations, and script errors."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
RECORD_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@dataclass
class Watch:
    """What a page did that it should not: requests off this machine, CSP violations, uncaught script errors."""

    external: list[str] = field(default_factory=list)
    console_csp: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def csp_violations(self, page: Any) -> list[str]:
        return [*self.console_csp, *page.evaluate("window.__csp || []")]

    def assert_clean(self, page: Any) -> None:
        assert not self.external, f"requests left the machine: {self.external}"
        assert not self.csp_violations(page), self.csp_violations(page)
        assert not self.page_errors, self.page_errors


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


def watched_page(browser: Any, watch: Watch, **context_options: Any) -> Any:
    """A page in a fresh context whose requests to anything but loopback are refused and recorded."""
    context = browser.new_context(accept_downloads=True, **context_options)
    context.add_init_script(RECORD_CSP)

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "blob:", "data:")):
            route.continue_()
        else:
            watch.external.append(url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on(
        "console",
        lambda m: watch.console_csp.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    return page


@pytest.fixture
def watch() -> Watch:
    return Watch()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def songy(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """An embedded Songy on a free loopback port and a dev token for ``user_browser``."""
    from datetime import timedelta

    from songy.container import build_container
    from songy.entrypoints.demo import embedded_server
    from songy.settings import Settings
    from tests.support.moto import free_port

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", port=free_port(), dev_token_secret="b" * 40)  # type: ignore[call-arg]
    container = build_container(settings)
    token = container.dev_tokens().mint("user_browser", name="Browser User", ttl=timedelta(hours=1))
    with embedded_server(container) as url:
        yield url, token
