"""The web page in headless Chromium: sign in, generate, watch it complete, play it, download it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers

from songy.adapters.devauth.tokens import DevTokens
from songy.container import build_container
from songy.entrypoints.demo import embedded_server
from songy.settings import Settings
from tests.support.moto import free_port

from .conftest import ARTIFACTS, Watch, watched_page

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", port=free_port(), dev_token_secret="b" * 40)  # type: ignore[call-arg]
    container = build_container(settings)
    token = container.dev_tokens().mint("user_browser", name="Browser User", ttl=timedelta(hours=1))
    with embedded_server(container) as url:
        yield url, token


class ShiftedClock:
    """The real time plus an offset the test moves forward: the whole app (and its links) lives in it."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def shifted_server(tmp_path: Path) -> Iterator[tuple[str, str, ShiftedClock]]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", port=free_port(), dev_token_secret="b" * 40)  # type: ignore[call-arg]
    container = build_container(settings)
    clock = ShiftedClock()
    container.clock.override(providers.Object(clock))
    token = container.dev_tokens().mint("user_browser", name="Browser User", ttl=timedelta(hours=1))
    with embedded_server(container) as url:
        yield url, token, clock


@pytest.fixture
def page(browser: Any, watch: Watch) -> Iterator[object]:
    """A page whose requests off the machine, CSP violations and script errors fail the test."""
    page = watched_page(browser, watch)
    yield page
    watch.assert_clean(page)


def test_generate_play_and_download_in_the_browser(server: tuple[str, str], page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    url, token = server
    page.goto(url)
    page.fill("#token", token)
    page.click("#signin-form button")
    expect(page.locator("#who")).to_have_text("Browser User")
    expect(page.locator("#live")).to_have_class("live on", timeout=10_000)

    page.fill("input[name=name]", "Browser Song")
    page.fill("textarea[name=prompt]", "lofi piano, 80 bpm")
    page.fill("input[name=lengthSeconds]", "8")
    page.click("#generate")
    track = page.locator("li.track").first
    expect(track.locator(".title")).to_have_text("Browser Song")
    expect(track.locator(".status")).to_have_text("COMPLETED", timeout=30_000)

    audio = track.locator("audio")
    expect(audio).to_have_count(1)
    duration = page.wait_for_function(
        "el => el.readyState >= 1 && isFinite(el.duration) ? el.duration : null",
        arg=audio.element_handle(),
        timeout=15_000,
    ).json_value()
    assert 7.5 < duration < 8.5
    audio.evaluate("el => { el.currentTime = 4.0; }")  # seeking needs HTTP range support
    page.wait_for_function("el => Math.abs(el.currentTime - 4.0) < 0.5", arg=audio.element_handle())

    with page.expect_download() as download_info:
        track.locator(".downloads button", has_text="Download WAV").click()
    download = download_info.value
    saved = Path(download.path())
    assert saved.read_bytes()[:4] == b"RIFF"

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-page.png"), full_page=True)
    expect(page.locator("#credits")).to_have_text("3592")  # 3600 - 8 seconds of audio


def test_admin_queue_page_renders_the_dashboard(server: tuple[str, str], page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    url, _ = server
    admin = DevTokens("b" * 40).mint("user_admin", roles=("admin",), ttl=timedelta(hours=1))
    page.goto(url + "/")
    page.evaluate("token => localStorage.setItem('songy.token', token)", admin)
    page.goto(url + "/admin")
    expect(page.locator("#counts .number")).to_have_count(4)
    expect(page.locator("#counts")).to_contain_text("GENERATING")
    expect(page.locator("#dependencies .up")).to_have_count(3)  # database, queue, blobStore
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-page.png"), full_page=True)


def test_a_page_open_past_the_link_lifetime_renews_its_audio_url(
    shifted_server: tuple[str, str, ShiftedClock], page: object
) -> None:
    """Audio URLs expire (1 h): when the player's link is refused, the page asks the status route for a fresh one
    and carries on where the listener was, instead of failing silently."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    url, token, clock = shifted_server
    page.goto(url)
    page.fill("#token", token)
    page.click("#signin-form button")
    page.fill("input[name=lengthSeconds]", "60")
    page.select_option("select[name=outputFormat]", "wav_44100")  # 10 MB: the player loads only what it needs
    page.click("#generate")
    track = page.locator("li.track").first
    expect(track.locator(".status")).to_have_text("COMPLETED", timeout=60_000)
    audio = track.locator("audio")
    page.wait_for_function("el => el.readyState >= 1", arg=audio.element_handle(), timeout=15_000)
    first = audio.evaluate("el => el.src")
    assert "signature=" in first and page.request.get(first).status == 200
    refusals: list[str] = []
    page.on("response", lambda r: refusals.append(r.url) if r.status == 403 else None)

    clock.offset = timedelta(hours=1, minutes=1)  # the page has been open longer than the link lives
    assert page.request.get(first).status == 403
    audio.evaluate("el => { el.currentTime = 55; }")  # seeking asks for a range the player does not hold yet
    page.wait_for_function(
        "([el, old]) => el.src !== old && el.readyState >= 2 && Math.abs(el.currentTime - 55) < 1",
        arg=[audio.element_handle(), first],
        timeout=15_000,
    )
    assert refusals and refusals[0] == first  # the old link was refused, then renewed
    renewed = audio.evaluate("el => el.src")
    assert "signature=" in renewed and page.request.get(renewed).status == 200
    with page.expect_download() as download_info:  # downloads ask for a fresh link on every click
        track.locator(".downloads button", has_text="Download MP3").click()
    assert Path(download_info.value.path()).read_bytes().startswith((b"ID3", b"\xff\xfb"))  # an MP3
