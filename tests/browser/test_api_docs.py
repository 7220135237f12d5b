"""`/schema/swagger` and `/schema/redoc` render from assets Songy serves itself: no request leaves the machine
(they were blank pages offline, loading from CDNs), and no CSP violation."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Watch, screenshot, watched_page

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_offline(songy: tuple[str, str], browser: Any, watch: Watch) -> None:
    from playwright.sync_api import expect

    url, _ = songy
    page = watched_page(browser, watch)
    page.goto(url + "/schema/swagger")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Songy", timeout=20_000)
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 10  # every route, from /schema/openapi.json
    screenshot(page, "swagger")
    watch.assert_clean(page)


@pytest.mark.parametrize("path", ["/schema/redoc", "/schema"])
def test_redoc_renders_offline(path: str, songy: tuple[str, str], browser: Any, watch: Watch) -> None:
    from playwright.sync_api import expect

    url, _ = songy
    page = watched_page(browser, watch)
    page.goto(url + path)
    expect(page.locator("h1").first).to_contain_text("Songy", timeout=20_000)
    expect(page.get_by_text("/api/music-generator/generate").first).to_be_attached()
    screenshot(page, "redoc")
    watch.assert_clean(page)
