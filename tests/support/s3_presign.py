"""What S3 checks of a presigned GET, for tests: moto's server serves any URL that carries a signature without
verifying it (and cannot verify query-string auth when IAM is enforced), so tampered or expired presigns are
judged here the way S3 judges them: SigV4 recomputed with the secret over the method, path and query, and the
expiry counted from ``X-Amz-Date``."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from unittest.mock import patch
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PRESIGN_MAX = timedelta(days=7)


def s3_accepts(url: str, secret_key: str, now: datetime) -> bool:
    """Whether S3 would serve this presigned GET at ``now`` (signature and expiry; not permissions)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    try:
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        lifetime = timedelta(seconds=int(params["X-Amz-Expires"]))
        access_key, _, region, service, _ = params["X-Amz-Credential"].split("/")
        signature = params["X-Amz-Signature"]
    except (KeyError, ValueError):
        return False
    if not timedelta(seconds=1) <= lifetime <= PRESIGN_MAX or now > signed_at.replace(tzinfo=UTC) + lifetime:
        return False
    operation = [(k, v) for k, v in query if not k.startswith("X-Amz-")]
    request = AWSRequest("GET", urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(operation), "")))
    auth = S3SigV4QueryAuth(Credentials(access_key, secret_key), service, region, expires=int(lifetime.total_seconds()))
    with patch("botocore.auth.get_current_datetime", return_value=signed_at):
        auth.add_auth(request)
    expected = dict(parse_qsl(urlsplit(request.url).query))["X-Amz-Signature"]
    return hmac.compare_digest(expected.encode(), signature.encode())
