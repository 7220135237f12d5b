"""Private audio on S3 (moto's server over HTTP): every audio URL Songy hands out is a presigned GET, the bucket
and its objects stay private, and a tampered or expired presign is refused.

moto refuses an unsigned GET of a private object (403) but serves any URL that carries a signature without
verifying it, so signatures and expiry are judged by :func:`tests.support.s3_presign.s3_accepts`, S3's own
check rebuilt on botocore's signer."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import httpx
import pytest
from litestar.testing import TestClient

from songy.container import build_container
from songy.entrypoints.http.app import create_app
from songy.settings import Settings
from tests.api.conftest import SECRET, Api
from tests.support.s3_presign import s3_accepts

pytestmark = pytest.mark.integration

S3_SECRET = "testing"
TTL_S = 900


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key=S3_SECRET,
    )


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"songy-private-{uuid.uuid4().hex[:10]}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def make_s3_api(tmp_path: Path, s3_endpoint: str, bucket: str) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient[Any]] = []

    def factory(**overrides: Any) -> Api:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path / f"data{len(clients)}",
            dev_token_secret=SECRET,
            outbox_poll_interval_s=0.05,
            blob_store="s3",
            s3_endpoint_url=s3_endpoint,
            s3_bucket=bucket,
            s3_access_key_id="testing",
            s3_secret_access_key=S3_SECRET,
            download_url_ttl_s=TTL_S,
            **overrides,
        )
        client = TestClient(create_app(build_container(settings)))
        client.__enter__()
        clients.append(client)
        return Api(client, client.app.state.container)

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


def completed(api: Api) -> dict[str, Any]:
    data = api.wait_for(api.generate().json()["data"]["musicId"])
    assert data["status"] == "COMPLETED", data
    return data


def download_url(api: Api, music_id: str, query: str = "") -> str:
    response = api.client.get(f"/api/music-generator/download/{music_id}{query}", headers=api.auth())
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["url"])


def assert_presigned(url: str) -> None:
    params = parse_qs(urlsplit(url).query)
    assert params["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and params["X-Amz-Expires"] == [str(TTL_S)], url
    assert s3_accepts(url, S3_SECRET, datetime.now(UTC)), url


def test_every_url_handed_out_is_presigned_and_reads_the_stored_bytes(
    make_s3_api: Callable[..., Api], s3_endpoint: str, bucket: str
) -> None:
    api = make_s3_api()
    track = completed(api)
    music_id = track["musicId"]
    [key] = [o["Key"] for o in s3_client(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]]
    stored = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    listed = api.client.get("/api/music-generator/", headers=api.auth()).json()["data"]["items"][0]["audioUrl"]
    original = download_url(api, music_id)
    handed_out = [track["audioUrl"], api.status(music_id).json()["data"]["audioUrl"], listed, original]
    for url in handed_out:
        assert_presigned(url)
        assert urlsplit(url).path == f"/{bucket}/{quote(key)}"
        assert httpx.get(url).content == stored
    assert "response-content-disposition" not in track["audioUrl"]  # plays inline
    assert httpx.get(original).headers["content-disposition"].startswith("attachment;")
    wav = download_url(api, music_id, "?format=wav_22050")
    assert_presigned(wav)
    assert httpx.get(wav).content[:4] == b"RIFF"


def test_the_bucket_and_objects_stay_private(make_s3_api: Callable[..., Api], s3_endpoint: str, bucket: str) -> None:
    api = make_s3_api()
    track = completed(api)
    download_url(api, track["musicId"], "?format=wav_22050")
    client = s3_client(s3_endpoint)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 2
    everyone = {
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    }
    acls = [client.get_bucket_acl(Bucket=bucket), *(client.get_object_acl(Bucket=bucket, Key=k) for k in keys)]
    for acl in acls:
        assert not [g for g in acl["Grants"] if g["Grantee"].get("URI") in everyone], acl["Grants"]
    with pytest.raises(client.exceptions.ClientError, match="NoSuchBucketPolicy"):
        client.get_bucket_policy(Bucket=bucket)
    for key in keys:  # the seed's public URL of each object is refused to an anonymous reader
        assert httpx.get(f"{s3_endpoint}/{bucket}/{quote(key)}").status_code == 403


def test_a_tampered_or_expired_presign_is_refused(make_s3_api: Callable[..., Api]) -> None:
    api = make_s3_api()
    track = completed(api)
    other = completed(api)
    url = track["audioUrl"]
    now = datetime.now(UTC)
    assert s3_accepts(url, S3_SECRET, now)
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    other_path = urlsplit(other["audioUrl"]).path
    refused = {
        "expired": (url, now + timedelta(seconds=TTL_S + 1)),
        "tampered signature": (url.replace(signature, flipped), now),
        "another object's path": (url.replace(urlsplit(url).path, other_path), now),
        "longer lifetime": (url.replace(f"X-Amz-Expires={TTL_S}", f"X-Amz-Expires={TTL_S * 4}"), now),
        "unsigned": (url.split("?", 1)[0], now),
    }
    for case, (candidate, moment) in refused.items():
        assert not s3_accepts(candidate, S3_SECRET, moment), case
    download = download_url(api, track["musicId"])
    renamed = download.replace("response-content-disposition=attachment", "response-content-disposition=inline")
    assert s3_accepts(download, S3_SECRET, now) and not s3_accepts(renamed, S3_SECRET, now)


def test_public_audio_is_the_seed_style_stable_url(
    make_s3_api: Callable[..., Api], s3_endpoint: str, bucket: str
) -> None:
    api = make_s3_api(public_audio=True)
    track = completed(api)
    assert track["audioUrl"].startswith(f"{s3_endpoint}/{bucket}/music/") and "?" not in track["audioUrl"]
    assert api.status(track["musicId"]).json()["data"]["audioUrl"] == track["audioUrl"]
    assert_presigned(download_url(api, track["musicId"]))  # download links stay signed and expiring
