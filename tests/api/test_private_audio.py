"""Private audio stays private: every audio URL Songy hands out is signed and expires, ``/files`` refuses any
other request with 403 in the envelope, and odd names or paths never reach a 500."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from songy.adapters.localfs.blob_store import LocalFsBlobStore
from songy.container import build_container
from songy.entrypoints.http.app import create_app
from songy.settings import Settings

from .conftest import SECRET, Api

SIGNED_INLINE = re.compile(r"/files/music/[^?]+\?expires=\d{10}&signature=[0-9a-f]{64}$")


class ShiftedClock:
    """The real time plus an offset a test can move forward (the app's one clock: links, jobs, everything)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def local(url: str) -> str:
    """The path and query of a URL the app handed out, for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def refused(response: Any) -> bool:
    if response.status_code != 403:
        return False
    body = response.json()
    return body["success"] is False and body["error"]["code"] == "FORBIDDEN"


def completed(api: Api, user: str = "user_alice", **body: Any) -> dict[str, Any]:
    data = api.wait_for(api.generate(user, **body).json()["data"]["musicId"], user)
    assert data["status"] == "COMPLETED", data
    return data


def download_link(api: Api, music_id: str, query: str = "", user: str = "user_alice") -> dict[str, Any]:
    response = api.client.get(f"/api/music-generator/download/{music_id}{query}", headers=api.auth(user))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def store_of(api: Api) -> LocalFsBlobStore:
    store = api.container.blob_store()
    assert isinstance(store, LocalFsBlobStore)
    return store


def signed(api: Api, key: str, ttl: timedelta, name: str | None = None) -> str:
    """A link signed by the app's own store (for expiries and names the API would not choose)."""
    return api.client.blocking_portal.call(store_of(api).signed_url, key, ttl, name).url


def key_of(url: str) -> str:
    return urlsplit(url).path.split("/files/", 1)[1]


@pytest.fixture
def track(api: Api) -> dict[str, Any]:
    return completed(api)


def test_status_audio_url_is_signed_and_plays_the_bytes_of_the_download(api: Api, track: dict[str, Any]) -> None:
    assert SIGNED_INLINE.search(track["audioUrl"]), track["audioUrl"]
    inline = api.client.get(local(track["audioUrl"]))
    assert inline.status_code == 200 and "content-disposition" not in inline.headers
    link = download_link(api, track["musicId"])
    attachment = api.client.get(local(link["url"]))
    assert attachment.status_code == 200 and attachment.headers["content-disposition"].startswith("attachment;")
    assert inline.content == attachment.content and len(inline.content) > 1000
    seek = api.client.get(local(track["audioUrl"]), headers={"Range": "bytes=100-199"})
    assert seek.status_code == 206 and seek.content == inline.content[100:200]  # players can seek a signed URL


def test_every_read_signs_afresh_and_every_view_of_a_track_is_signed(api: Api, track: dict[str, Any]) -> None:
    music_id = track["musicId"]
    listed = api.client.get("/api/music-generator/", headers=api.auth()).json()["data"]["items"]
    playlist = api.client.post("/api/playlists/", json={"name": "p"}, headers=api.auth()).json()["data"]
    route = f"/api/playlists/{playlist['playlistId']}"
    api.client.post(f"{route}/tracks", json={"musicId": music_id}, headers=api.auth())
    in_playlist = api.client.get(route, headers=api.auth()).json()["data"]["tracks"]
    with api.client.stream("GET", f"/api/music-generator/status/{music_id}/events", headers=api.auth()) as stream:
        sse = next(line for line in stream.iter_lines() if line.startswith("data:"))
    urls = [listed[0]["audioUrl"], in_playlist[0]["audioUrl"], re.search(r'"audioUrl": "([^"]+)"', sse)[1]]  # type: ignore[index]
    for url in urls:
        assert SIGNED_INLINE.search(url), url
        assert api.client.get(local(url)).status_code == 200
    stored = api.container.blob_store().public_url(key_of(track["audioUrl"]))
    assert stored not in urls and track["audioUrl"] != stored


def refused_variants(api: Api, track: dict[str, Any], other: dict[str, Any]) -> dict[str, str]:
    """Requests for ``track``'s file that must be refused, each built from links the API handed out."""
    inline = local(track["audioUrl"])
    path, query = inline.split("?", 1)
    params = {k: v[0] for k, v in parse_qs(query).items()}
    expires, signature = params["expires"], params["signature"]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    other_signature = parse_qs(urlsplit(other["audioUrl"]).query)["signature"][0]
    download = urlsplit(download_link(api, track["musicId"])["url"])
    download_params = {k: v[0] for k, v in parse_qs(download.query).items()}
    return {
        "no signature": path,
        "expires only": f"{path}?expires={expires}",
        "expires=1 only": f"{path}?expires=1",
        "signature only": f"{path}?signature={signature}",
        "tampered signature": f"{path}?expires={expires}&signature={flipped}",
        "empty signature": f"{path}?expires={expires}&signature=",
        "non-ASCII signature": f"{path}?expires={expires}&signature={quote('é' * 64)}",
        "expiry moved later": f"{path}?expires={int(expires) + 3600}&signature={signature}",
        "another path's signature": f"{path}?expires={expires}&signature={other_signature}",
        "inline signature, download name added": f"{path}?expires={expires}&download=evil.exe&signature={signature}",
        "download signature, other name": f"{download.path}?expires={download_params['expires']}"
        f"&download=evil.exe&signature={download_params['signature']}",
        "download signature, no name": f"{download.path}?expires={download_params['expires']}"
        f"&signature={download_params['signature']}",
        "non-integer expires": f"{path}?expires=soon&signature={signature}",
        "float expires": f"{path}?expires={expires}.0&signature={signature}",
        "signed expires": f"{path}?expires=%2B{expires}&signature={signature}",
        "non-ASCII digits": f"{path}?expires={quote('٣' * 10)}&signature={signature}",
        "huge expires": f"{path}?expires={'9' * 400}&signature={signature}",
    }


def test_refused_links_answer_403_in_the_envelope(api: Api, track: dict[str, Any]) -> None:
    other = completed(api, "user_bob", name="Bob Song")
    assert api.client.get(local(track["audioUrl"])).status_code == 200  # the genuine link works
    for case, request in refused_variants(api, track, other).items():
        assert refused(api.client.get(request)), case


def test_an_expired_link_is_refused(api: Api, track: dict[str, Any]) -> None:
    """Signed by the store itself with an expiry already past: only the expiry is wrong."""
    key = key_of(track["audioUrl"])
    assert refused(api.client.get(local(signed(api, key, timedelta(seconds=-2)))))
    assert api.client.get(local(signed(api, key, timedelta(seconds=60)))).status_code == 200


@pytest.fixture
def clocked_api(tmp_path: Path) -> Iterator[tuple[Api, ShiftedClock]]:
    clock = ShiftedClock()
    settings_ = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "clocked",
        dev_token_secret=SECRET,
        outbox_poll_interval_s=0.05,
        download_url_ttl_s=600,
    )
    container = build_container(settings_)
    container.clock.override(providers.Object(clock))
    with TestClient(create_app(container)) as client:
        yield Api(client, container), clock


def test_links_expire_with_the_clock_and_the_status_signs_a_fresh_one(clocked_api: tuple[Api, ShiftedClock]) -> None:
    api, clock = clocked_api
    track = completed(api)
    link = download_link(api, track["musicId"])
    assert api.client.get(local(track["audioUrl"])).status_code == 200
    clock.offset = timedelta(seconds=590)  # within the 600 s lifetime
    assert api.client.get(local(track["audioUrl"])).status_code == 200
    clock.offset = timedelta(seconds=610)  # past it
    assert refused(api.client.get(local(track["audioUrl"])))
    assert refused(api.client.get(local(link["url"])))
    fresh = api.status(track["musicId"]).json()["data"]["audioUrl"]
    assert fresh != track["audioUrl"] and api.client.get(local(fresh)).status_code == 200
    expires = int(parse_qs(urlsplit(fresh).query)["expires"][0])
    assert abs(expires - (clock.now() + timedelta(seconds=600)).timestamp()) < 5


def test_transcoded_variant_links_are_signed_and_bound_to_their_format(api: Api, track: dict[str, Any]) -> None:
    wav = download_link(api, track["musicId"], "?format=wav_22050")
    response = api.client.get(local(wav["url"]))
    assert response.status_code == 200 and response.content[:4] == b"RIFF"
    variant_path = urlsplit(wav["url"]).path
    original_query = urlsplit(download_link(api, track["musicId"])["url"]).query
    assert refused(api.client.get(f"{variant_path}?{original_query}"))  # the original's signature, the variant's path
    assert refused(api.client.get(variant_path))


def test_another_users_music_stays_not_found(api: Api, track: dict[str, Any]) -> None:
    for route in (
        f"/api/music-generator/status/{track['musicId']}",
        f"/api/music-generator/download/{track['musicId']}",
    ):
        response = api.client.get(route, headers=api.auth("user_bob"))
        assert response.status_code == 404 and response.json()["error"]["code"] == "MUSIC_NOT_FOUND"


def test_public_audio_gives_the_stable_url_only_when_asked(make_api: Callable[..., Api]) -> None:
    api = make_api(public_audio=True)
    track = completed(api)
    url = track["audioUrl"]
    assert urlsplit(url).query == "" and re.search(r"/files/music/[^?]+\.mp3$", url)
    assert api.status(track["musicId"]).json()["data"]["audioUrl"] == url  # stable: the same on every read
    assert api.client.get(local(url)).status_code == 200
    link = download_link(api, track["musicId"])
    assert "signature=" in link["url"] and api.client.get(local(link["url"])).status_code == 200
    forged = local(link["url"]).rsplit("signature=", 1)[0] + "signature=" + "0" * 64
    assert refused(api.client.get(forged))  # a signed link is still checked


class Receiver:
    """A loopback webhook receiver that records bodies."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.bodies.append(self.rfile.read(int(self.headers["content-length"])))
                self.send_response(204)
                self.end_headers()
                receiver.arrived.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_the_completion_webhook_carries_a_signed_expiring_url(api: Api) -> None:
    import json

    receiver = Receiver()
    try:
        response = api.client.post("/api/webhook-endpoints/", json={"url": receiver.url}, headers=api.auth())
        assert response.status_code == 201, response.text
        track = completed(api)
        assert receiver.arrived.wait(15)
    finally:
        receiver.server.shutdown()
    audio_url = json.loads(receiver.bodies[0])["data"]["audioUrl"]
    assert SIGNED_INLINE.search(audio_url), audio_url
    expires = datetime.fromtimestamp(int(parse_qs(urlsplit(audio_url).query)["expires"][0]), UTC)
    ttl = timedelta(seconds=api.container.settings().download_url_ttl_s)
    assert datetime.now(UTC) + ttl < expires < datetime.now(UTC) + ttl + timedelta(hours=2)  # + the retry schedule
    assert api.client.get(local(audio_url)).content == api.client.get(local(track["audioUrl"])).content


ODD_NAMES = [
    "漢字.mp3",
    'say "hi".mp3',
    "line\r\nSet-Cookie: x=1",
    "a/b\\c.mp3",
    "\x00nul",
    "🎵",
    " ",
    "..",
    "%ED%A0%80",
]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_download_names_are_encoded_not_500(api: Api, track: dict[str, Any], name: str) -> None:
    url = signed(api, key_of(track["audioUrl"]), timedelta(minutes=5), name)
    response = api.client.get(local(url))
    if "\x00" in name:  # the input guard refuses NUL in any query parameter, signed or not
        assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR"
        return
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.isascii() and "\r" not in disposition and "\n" not in disposition
    assert f"filename*=utf-8''{quote(name.encode(), safe='')}" in disposition
    unsigned = api.client.get(f"{urlsplit(url).path}?download={quote(name, safe='')}")
    assert refused(unsigned)


@pytest.mark.parametrize(
    "path",
    [
        "/files/x%00",
        "/files/%ED%A0%80",
        "/files/music/%00.mp3",
        "/files/%C0%AE%C0%AE/etc/passwd",
        "/files/" + "a" * 5000,
    ],
)
def test_odd_file_paths_answer_4xx_in_the_envelope(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert 400 <= response.status_code < 500 and response.json()["success"] is False


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "music/../../../etc/passwd",
        "music/x.mp3.meta.json",
        "music\\..\\secret",
        "a" * 300,
    ],
)
def test_signed_keys_that_escape_the_store_are_refused(api: Api, key: str) -> None:
    """Even a genuine signature cannot reach outside the store (or a metadata sidecar)."""
    expires = int(datetime.now(UTC).timestamp()) + 300
    signature = store_of(api).sign(key, expires)
    response = api.client.get(f"/files/{quote(key, safe='/')}?expires={expires}&signature={signature}")
    assert response.status_code in (403, 404) and response.json()["success"] is False
    assert "root:" not in response.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(max_size=60), name=st.text(max_size=30), sign=st.booleans())
def test_no_key_or_name_is_a_500(api: Api, key: str, name: str, sign: bool) -> None:
    """Signed or not, whatever the key and download name (NUL, surrogates, separators): a 2xx or a 4xx in the
    envelope, never a 5xx."""
    expires = int(datetime.now(UTC).timestamp()) + 300
    query = f"download={quote(name.encode('utf-8', 'surrogatepass'), safe='')}"
    if sign:
        query = f"expires={expires}&{query}&signature={store_of(api).sign(key, expires, name)}"
    response = api.client.get(f"/files/{quote(key.encode('utf-8', 'surrogatepass'), safe='/')}?{query}")
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["success"] is False
