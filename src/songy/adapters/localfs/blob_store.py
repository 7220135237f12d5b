"""Blobs as files under a root directory, with metadata in a JSON sidecar, served by the API at ``/files``.

Every ``/files`` URL Songy hands out is signed and expiring: an HMAC-SHA256 over the key, the expiry and the
variant (the ``download`` file name, empty for playing inline), checked in constant time. Only with ``public``
(``SONGY_PUBLIC_AUDIO=true``) is an unsigned ``/files`` URL served, as the seed's public bucket was.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterable
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import quote

from songy.domain.errors import PermanentGenerationError, TransientGenerationError
from songy.ports.blobs import SignedUrl, StoredBlob
from songy.ports.system import Clock

META_SUFFIX = ".meta.json"
UPLOAD_PREFIX = ".upload-"
UPLOAD_GRACE_S = 1.0  # a temporary file this young may not be locked by its writer yet
KEY_ALPHABET = re.compile(r"[A-Za-z0-9._/-]{1,1024}")  # what domain/naming.py makes; S3 keys stop at 1024 bytes
EXPIRES_DIGITS_MAX = 12
_KEY_DERIVATION = b"songy /files link signatures v1"


class InvalidKey(ValueError):
    """A key that would leave the root directory or name a sidecar."""


class LocalFsBlobStore:
    """Writes go to a temporary file and are renamed into place, so a reader never sees half a file. The writer
    holds an exclusive lock on its temporary file until the rename, so a partial file whose lock is free belongs to
    a dead process (the kernel drops the lock of a killed one) and is removed by :meth:`remove_abandoned_uploads`.

    ``signing_key`` is a secret from which the link-signing key is derived (so a signature never reveals or
    doubles as that secret); ``clock`` decides when a link has expired.
    """

    def __init__(
        self,
        root: Path,
        public_base_url: str,
        signing_key: bytes,
        *,
        clock: Clock | None = None,
        public: bool = False,
    ) -> None:
        self.root = root.resolve()
        self._base_url = public_base_url.rstrip("/")
        self._signing_key = hmac.new(signing_key, _KEY_DERIVATION, hashlib.sha256).digest()
        self._now = clock.now if clock is not None else (lambda: datetime.now(UTC))
        self.public = public

    def path_for(self, key: str) -> Path:
        """The file of ``key``; raises :class:`InvalidKey` for anything that could escape the root or that no
        stored key can be (NUL, surrogates, control or non-ASCII characters, ``\\``, sidecars)."""
        if not KEY_ALPHABET.fullmatch(key):
            raise InvalidKey(key)
        pure = PurePosixPath(key)
        if pure.is_absolute() or ".." in pure.parts or key.endswith(META_SUFFIX):
            raise InvalidKey(key)
        path = (self.root / pure).resolve()
        if self.root not in path.parents:
            raise InvalidKey(key)
        return path

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], content_type: str, metadata: dict[str, str]
    ) -> StoredBlob:
        path = self.path_for(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=UPLOAD_PREFIX)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            raise PermanentGenerationError(f"local storage at {self.root} is not writable: {exc}") from exc
        size = 0
        try:
            with os.fdopen(fd, "wb") as tmp:  # closing it releases the lock: only after the rename
                async for chunk in chunks:
                    await asyncio.to_thread(tmp.write, chunk)
                    size += len(chunk)
                sidecar = {"content_type": content_type, "metadata": metadata, "size": size}
                path.with_name(path.name + META_SUFFIX).write_text(json.dumps(sidecar))
                os.replace(tmp_name, path)
        except OSError as exc:
            raise TransientGenerationError(f"writing {key} to local storage failed: {exc}") from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        return StoredBlob(key, size, self.public_url(key))

    async def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise OSError(f"{self.root} is not writable")

    async def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path_for(key).read_bytes)

    async def read_into(self, key: str, sink: IO[bytes]) -> None:
        def copy() -> None:
            with self.path_for(key).open("rb") as source:
                shutil.copyfileobj(source, sink)

        try:
            await asyncio.to_thread(copy)
        except OSError as exc:
            raise TransientGenerationError(f"reading {key} from local storage failed: {exc}") from exc

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        path.unlink(missing_ok=True)
        path.with_name(path.name + META_SUFFIX).unlink(missing_ok=True)

    async def delete_prefix(self, prefix: str) -> int:
        pure = PurePosixPath(prefix)
        directory = (self.root / pure.parent).resolve()
        if directory != self.root and self.root not in directory.parents:
            raise InvalidKey(prefix)
        name_prefix = pure.name if not prefix.endswith("/") else ""
        doomed = [p for p in directory.glob("*") if p.name.startswith(name_prefix) and not p.name.endswith(META_SUFFIX)]
        for path in doomed:
            await self.delete(str(path.relative_to(self.root)))
        return len(doomed)

    async def remove_abandoned_uploads(self) -> int:
        return await asyncio.to_thread(self._remove_abandoned_uploads)

    def _remove_abandoned_uploads(self) -> int:
        removed = 0
        for path in self.root.rglob(UPLOAD_PREFIX + "*") if self.root.is_dir() else ():
            with contextlib.suppress(OSError):  # gone meanwhile, or renamed into place by its writer
                if time.time() - path.stat().st_mtime < UPLOAD_GRACE_S:
                    continue
                with open(path, "rb") as handle:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # its writer is alive
                    path.unlink()
                    removed += 1
        return removed

    def content_type(self, key: str) -> str:
        path = self.path_for(key)
        try:
            return json.loads(path.with_name(path.name + META_SUFFIX).read_text())["content_type"]
        except (OSError, ValueError, KeyError):
            return "application/octet-stream"

    def metadata(self, key: str) -> dict[str, str]:
        path = self.path_for(key)
        return json.loads(path.with_name(path.name + META_SUFFIX).read_text())["metadata"]

    def public_url(self, key: str) -> str:
        """The unsigned URL: served only when the store is ``public``."""
        return f"{self._base_url}/files/{quote(key)}"

    async def signed_url(self, key: str, expires_in: timedelta, filename: str | None = None) -> SignedUrl:
        expires = int((self._now() + expires_in).timestamp())
        url = f"{self.public_url(key)}?expires={expires}"
        if filename:
            url += f"&download={quote(filename, safe='')}"
        url += f"&signature={self.sign(key, expires, filename or '')}"
        return SignedUrl(url, datetime.fromtimestamp(expires, UTC))

    def sign(self, key: str, expires: int, variant: str = "") -> str:
        """The signature of ``key`` until ``expires`` (Unix seconds) for ``variant`` (the download name or "")."""
        message = f"{key}\n{expires}\n{variant}".encode("utf-8", "surrogatepass")
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def authorizes(self, key: str, expires: str | None, signature: str | None, variant: str | None) -> bool:
        """Whether a request for ``key`` with these query parameters may be served: signed by this store for
        this key and variant and not yet expired, or unsigned while the store is ``public``. Never raises."""
        if signature is None:
            return self.public
        if expires is None or not (expires.isascii() and expires.isdigit()) or len(expires) > EXPIRES_DIGITS_MAX:
            return False
        if int(expires) < self._now().timestamp() or not KEY_ALPHABET.fullmatch(key):
            return False
        expected = self.sign(key, int(expires), variant or "").encode()
        return hmac.compare_digest(expected, signature.encode("utf-8", "surrogatepass"))
