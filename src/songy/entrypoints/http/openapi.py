"""Schemas used only to document the API in OpenAPI (validation itself lives in the domain)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from songy.domain.formats import supported_format_names
from songy.domain.generation_request import (
    DEFAULT_LENGTH_MS,
    DEFAULT_MODEL_ID,
    LENGTH_MAX_MS,
    LENGTH_MIN_MS,
    NAME_MAX_CHARS,
    PROMPT_MAX_CHARS,
)


class GenerateMusicBody(BaseModel):
    """name (1-100 chars after trim), prompt (1-4100 chars), lengthMs (3000-300000), outputFormat, modelId."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX_CHARS)
    prompt: str = Field(min_length=1, max_length=PROMPT_MAX_CHARS)
    lengthMs: int = Field(DEFAULT_LENGTH_MS, ge=LENGTH_MIN_MS, le=LENGTH_MAX_MS)
    outputFormat: str = Field("mp3_44100_128", json_schema_extra={"enum": supported_format_names()})
    modelId: str = DEFAULT_MODEL_ID
