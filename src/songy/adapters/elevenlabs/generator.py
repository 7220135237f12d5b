"""The ElevenLabs Music AudioGenerator: streams the audio body, classifies every failure for the retry policy."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx

from songy.domain.errors import PermanentGenerationError, TransientGenerationError
from songy.domain.formats import Codec
from songy.ports.audio import AudioSpec, OutputTolerance

log = logging.getLogger(__name__)

ERROR_BODY_MAX = 16 * 1024
DEFAULT_LENGTH_TOLERANCE = timedelta(seconds=2)


class ElevenLabsAudioGenerator:
    """Implements :class:`songy.ports.audio.AudioGenerator` against ``{base_url}/v1/music``.

    A track may differ from the asked length by ``length_tolerance`` (the model's, not the codec's); the output
    is not deterministic, so a stored track that is cut short or undecodable is worth another attempt.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.elevenlabs.io",
        timeout_s: float = 300.0,
        *,
        connect_timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
        length_tolerance: timedelta = DEFAULT_LENGTH_TOLERANCE,
    ) -> None:
        self.tolerance = OutputTolerance(length_tolerance, deterministic=False)
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._client = client

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, limits=httpx.Limits(max_connections=32))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def describe(self, spec: AudioSpec) -> dict[str, Any] | None:
        """Nothing yet: ``/v1/music`` answers audio only (its ``/detailed`` variant would tell title and genres)."""
        return None

    async def generate(self, spec: AudioSpec) -> AsyncIterator[bytes]:
        if spec.output_format.codec is Codec.WAV:
            raise PermanentGenerationError("ElevenLabs does not produce wav_*; ask for pcm_* instead")
        body: dict[str, Any] = {"prompt": spec.prompt, "music_length_ms": spec.length_ms, "model_id": spec.model_id}
        if spec.seed is not None:
            body["seed"] = spec.seed
        request = self._http().build_request(
            "POST",
            f"{self._base_url}/v1/music",
            params={"output_format": spec.output_format.name},
            headers={"xi-api-key": self._api_key, "accept": "audio/*"},
            json=body,
        )
        received = 0
        try:
            response = await self._http().send(request, stream=True)
            try:
                if response.status_code != 200:
                    raise _classify(response.status_code, await _bounded_body(response), response.headers)
                log.info("ElevenLabs song-id %s for %s ms", response.headers.get("song-id"), spec.length_ms)
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    yield chunk
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise TransientGenerationError(f"ElevenLabs timed out after {received} bytes: {exc!r}") from exc
        except httpx.TransportError as exc:  # connection refused/reset, truncated body (RemoteProtocolError)
            raise TransientGenerationError(f"ElevenLabs stream broke after {received} bytes: {exc!r}") from exc
        if received == 0:
            raise TransientGenerationError("ElevenLabs answered 200 with an empty body")


async def _bounded_body(response: httpx.Response) -> str:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data.extend(chunk)
        if len(data) >= ERROR_BODY_MAX:
            break
    return data[:ERROR_BODY_MAX].decode("utf-8", "replace")


def _detail(text: str) -> tuple[str | None, str]:
    """``(status, message)`` from ElevenLabs' ``{"detail": ...}`` error bodies, tolerant of other shapes."""
    try:
        detail = json.loads(text).get("detail")
    except (ValueError, AttributeError):
        return None, text[:300]
    if isinstance(detail, dict):
        message = str(detail.get("message", ""))
        suggestion = (
            (detail.get("data") or {}).get("prompt_suggestion") if isinstance(detail.get("data"), dict) else None
        )
        if suggestion:
            message += f" (suggestion: {suggestion})"
        return detail.get("status"), message
    if isinstance(detail, list):  # FastAPI-style validation errors
        parts = [f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg', '')}" for d in detail if isinstance(d, dict)]
        return "validation_error", "; ".join(parts)
    return None, str(detail)[:300]


def _classify(status: int, text: str, headers: httpx.Headers) -> Exception:
    code, message = _detail(text)
    if status == 429:
        retry_after = headers.get("retry-after")
        hint = f", retry after {retry_after}s" if retry_after else ""
        return TransientGenerationError(f"ElevenLabs rate limited (429{hint}): {message}".rstrip(": "))
    if status >= 500:
        return TransientGenerationError(f"ElevenLabs server error {status}: {message}".rstrip(": "))
    if status == 401:
        return PermanentGenerationError("ElevenLabs rejected the API key (401)")
    if status == 400 and code == "bad_prompt":
        return PermanentGenerationError(f"ElevenLabs rejected the prompt: {message}")
    if status == 422:
        return PermanentGenerationError(f"ElevenLabs rejected the request (422): {message}")
    if status in (402, 403) or code in ("quota_exceeded", "payment_required"):
        return PermanentGenerationError(f"ElevenLabs refused: quota or permission ({status}): {message}")
    return PermanentGenerationError(f"ElevenLabs error {status}: {message}")
