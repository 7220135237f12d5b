"""The web page as people use it: an axe-core scan (WCAG 2.1 AA rules) of `/` signed out and signed in and of
`/admin`, on a desktop and a phone, with no serious or critical violation; the whole flow by keyboard alone; no
sideways scrolling at 390 px; "unreachable, retrying" instead of "Failed to fetch"; the library's actions
(cancel, delete, playlists, pagination, empty message) and the operator's sign-in and buttons on `/admin`.
Screenshots of both sizes are kept in var/test-artifacts for review."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from songy.adapters.devauth.tokens import DevTokens
from songy.container import build_container
from songy.entrypoints.demo import embedded_server
from songy.settings import Settings
from tests.api.conftest import GatedGenerator
from tests.support.moto import free_port

from .conftest import Watch, screenshot, watched_page

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SECRET = "b" * 40
ADMIN = DevTokens(SECRET).mint("ops_admin", roles=("admin",), ttl=timedelta(hours=1))


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}},
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sign_in(page: Any, url: str, token: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    page.fill("#token", token)
    page.click("#signin-form button")
    expect(page.locator("#who")).to_have_text("Browser User")


def finished_track(url: str, token: str) -> str:
    """A COMPLETED track made through the API (the library then has a player, downloads and actions)."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {"name": "Rainy lofi", "prompt": "lofi piano", "lengthMs": 3000}
    music_id = httpx.post(f"{url}/api/music-generator/generate", json=body, headers=headers).json()["data"]["musicId"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = httpx.get(f"{url}/api/music-generator/status/{music_id}", headers=headers).json()["data"]["status"]
        if status != "GENERATING":
            return music_id
        time.sleep(0.05)
    raise AssertionError("the track never finished")


@pytest.mark.parametrize("size", SIZES)
def test_no_serious_accessibility_violation_signed_out_signed_in_and_on_admin(
    size: str, songy: tuple[str, str], browser: Any, watch: Watch
) -> None:
    from playwright.sync_api import expect

    url, token = songy
    finished_track(url, token)
    httpx.post(f"{url}/api/playlists", json={"name": "Evening"}, headers={"Authorization": f"Bearer {token}"})
    page = watched_page(browser, watch, viewport=SIZES[size])
    page.goto(url)
    expect(page.locator("#signin")).to_be_visible()
    found = {"signed out": serious_violations(page)}
    screenshot(page, f"page-signed-out-{size}")

    sign_in(page, url, token)
    expect(page.locator("li.track .status").first).to_have_text("COMPLETED")
    expect(page.locator("#playlists li")).to_have_count(1)
    found["signed in"] = serious_violations(page)
    screenshot(page, f"page-signed-in-{size}")
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]  # no sideways scroll
    for select in page.locator("#generate-form select").all():  # the Format and Model selects are not cut off
        box = select.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"]
    for button in page.locator(".downloads button").all():  # download labels never wrap mid-word
        box = button.bounding_box()
        assert box is not None and box["height"] < 30, button.text_content()

    page.evaluate("token => localStorage.setItem('songy.token', token)", ADMIN)
    page.goto(url + "/admin")
    expect(page.locator("#counts .number")).to_have_count(4)
    found["admin"] = serious_violations(page)
    screenshot(page, f"admin-{size}")
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    assert not any(found.values()), found
    watch.assert_clean(page)


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus (it must be reachable by keyboard)."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_keyboard_alone_signs_in_generates_plays_and_downloads(
    songy: tuple[str, str], browser: Any, watch: Watch
) -> None:
    from playwright.sync_api import expect

    url, token = songy
    page = watched_page(browser, watch)
    page.goto(url)
    tab_to(page, "#token")
    page.keyboard.insert_text(token)
    page.keyboard.press("Enter")
    expect(page.locator("#who")).to_have_text("Browser User")

    tab_to(page, "input[name=name]")
    page.keyboard.press("Control+A")
    page.keyboard.insert_text("Keyboard Song")
    tab_to(page, "input[name=lengthSeconds]")
    page.keyboard.press("Control+A")
    page.keyboard.insert_text("4")
    tab_to(page, "#generate")
    page.keyboard.press("Enter")
    track = page.locator("li.track", has_text="Keyboard Song")
    expect(track.locator(".status")).to_have_text("COMPLETED", timeout=30_000)
    expect(page.locator("#announcer")).to_contain_text("Keyboard Song")  # announced to screen readers

    tab_to(page, 'button.play[aria-label="Play “Keyboard Song”"]')
    page.keyboard.press("Enter")
    audio = track.locator("audio")
    page.wait_for_function("el => !el.paused && el.currentTime > 0.2", arg=audio.element_handle(), timeout=15_000)

    tab_to(page, "li.track .downloads button[data-format=wav_44100]")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    assert Path(download_info.value.path()).read_bytes()[:4] == b"RIFF"
    watch.assert_clean(page)


@pytest.fixture
def gated_songy(tmp_path: Path) -> Iterator[tuple[str, str, GatedGenerator]]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", port=free_port(), dev_token_secret=SECRET)  # type: ignore[call-arg]
    container = build_container(settings)
    gate = GatedGenerator()
    container.audio_generator.override(providers.Object(gate))
    token = container.dev_tokens().mint("user_browser", name="Browser User", ttl=timedelta(hours=1))
    with embedded_server(container) as url:
        yield url, token, gate
        gate.open()


def test_library_cancel_delete_playlists_pagination_and_the_empty_message(
    gated_songy: tuple[str, str, GatedGenerator], browser: Any, watch: Watch
) -> None:
    from playwright.sync_api import expect

    url, token, gate = gated_songy
    page = watched_page(browser, watch)
    sign_in(page, url, token)
    expect(page.locator("#library-empty")).to_be_visible()  # says there is nothing yet, and what to do

    page.fill("input[name=name]", "To cancel")
    page.fill("input[name=lengthSeconds]", "5")
    page.click("#generate")
    track = page.locator("li.track", has_text="To cancel")
    expect(track.locator(".status")).to_have_text("GENERATING")
    expect(page.locator("#credits")).to_have_text("3595")
    track.get_by_role("button", name="Cancel “To cancel”").click()
    expect(track.locator(".status")).to_have_text("CANCELED")
    expect(page.locator("#credits")).to_have_text("3600")  # the reservation came back
    track.get_by_role("button", name="Delete “To cancel”").click()
    expect(page.locator("li.track")).to_have_count(0)
    expect(page.locator("#library-empty")).to_be_visible()

    gate.open()
    headers = {"Authorization": f"Bearer {token}"}
    for n in range(24):
        body = {"name": f"Track {n:02d}", "prompt": "p", "lengthMs": 3000}
        assert httpx.post(f"{url}/api/music-generator/generate", json=body, headers=headers).status_code == 201
    last = finished_track(url, token)
    page.reload()
    expect(page.locator("#library li.track")).to_have_count(20)  # a page at a time
    page.click("#more")
    expect(page.locator("#library li.track")).to_have_count(25)
    expect(page.locator("#more")).to_be_hidden()

    page.fill("#playlist-name", "Evening")
    page.click("#playlist-form button")
    expect(page.locator("#playlists li")).to_have_count(1)
    newest = page.locator(f"#track-{last}")
    newest.get_by_role("button", name="Add to playlist").click()
    expect(page.locator("#playlists li").first).to_contain_text("1 track")
    expect(page.locator("#playlists li").first).to_contain_text("Rainy lofi")
    watch.assert_clean(page)


def test_an_unreachable_songy_says_so_and_comes_back(songy: tuple[str, str], browser: Any, watch: Watch) -> None:
    from playwright.sync_api import expect

    url, token = songy
    page = watched_page(browser, watch)
    sign_in(page, url, token)
    page.route("**/api/**", lambda route: route.abort())
    page.route("**/health/**", lambda route: route.abort())
    page.click("#generate")
    expect(page.locator("#generate-error")).to_have_text("Songy is unreachable, retrying…")
    expect(page.locator("#connection")).to_be_visible()
    page.unroute("**/api/**")
    page.unroute("**/health/**")
    expect(page.locator("#connection")).to_be_hidden(timeout=15_000)  # it retried by itself and is back
    watch.page_errors.clear()  # aborted requests are the point here
    assert not watch.csp_violations(page)


def test_admin_asks_for_a_token_and_its_buttons_act(
    gated_songy: tuple[str, str, GatedGenerator], browser: Any, watch: Watch
) -> None:
    from playwright.sync_api import expect

    url, _, _ = gated_songy
    page = watched_page(browser, watch)
    page.goto(url + "/admin")
    expect(page.locator("#signin")).to_be_visible()  # no token: a sign-in form, not a bare error
    page.fill("#token", ADMIN)
    page.click("#signin-form button")
    expect(page.locator("#counts .number")).to_have_count(4)
    page.click("#pause")
    expect(page.locator("#queue-state")).to_contain_text("paused")
    expect(page.locator("#resume")).to_be_visible()
    page.click("#resume")
    expect(page.locator("#queue-state")).to_contain_text("running")
    page.fill("#purge-days", "0")
    page.click("#purge-form button")
    expect(page.locator("#action-result")).to_have_text("Purged 0 failed tracks older than 0 days")
    watch.assert_clean(page)
