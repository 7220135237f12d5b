"""The validated request to generate one track: the rules of the API contract, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from songy.domain.errors import FieldError, ValidationError
from songy.domain.formats import DEFAULT_OUTPUT_FORMAT, OutputFormat

NAME_MAX_CHARS = 100
PROMPT_MAX_CHARS = 4100
LENGTH_MIN_MS = 3_000
LENGTH_MAX_MS = 300_000
DEFAULT_LENGTH_MS = 30_000
DEFAULT_MODEL_ID = "music_v1"
SUPPORTED_MODELS = frozenset({"music_v1"})

_FIELDS = ("name", "prompt", "lengthMs", "outputFormat", "modelId")


@dataclass(frozen=True)
class GenerationRequest:
    """What a user asks for. Build it with :meth:`create`, which checks every rule at once."""

    name: str
    prompt: str
    length_ms: int = DEFAULT_LENGTH_MS
    output_format: OutputFormat = DEFAULT_OUTPUT_FORMAT
    model_id: str = DEFAULT_MODEL_ID

    @classmethod
    def create(
        cls,
        *,
        name: Any,
        prompt: Any,
        length_ms: Any = DEFAULT_LENGTH_MS,
        output_format: Any = DEFAULT_OUTPUT_FORMAT.name,
        model_id: Any = DEFAULT_MODEL_ID,
    ) -> GenerationRequest:
        """Validate raw values; raise :class:`ValidationError` listing every broken field."""
        errors: list[FieldError] = []
        clean_name = _text(errors, "name", name, NAME_MAX_CHARS)
        clean_prompt = _text(errors, "prompt", prompt, PROMPT_MAX_CHARS)

        if not isinstance(length_ms, int) or isinstance(length_ms, bool):
            errors.append(FieldError("lengthMs", "must be an integer number of milliseconds"))
        elif not LENGTH_MIN_MS <= length_ms <= LENGTH_MAX_MS:
            errors.append(FieldError("lengthMs", f"must be between {LENGTH_MIN_MS} and {LENGTH_MAX_MS}"))

        fmt = DEFAULT_OUTPUT_FORMAT
        if not isinstance(output_format, str):
            errors.append(FieldError("outputFormat", "must be a string"))
        else:
            try:
                fmt = OutputFormat.parse(output_format)
            except ValueError as exc:
                errors.append(FieldError("outputFormat", str(exc)))

        if not isinstance(model_id, str) or model_id not in SUPPORTED_MODELS:
            errors.append(FieldError("modelId", f"must be one of {sorted(SUPPORTED_MODELS)}"))

        if errors:
            raise ValidationError(errors)
        return cls(clean_name, clean_prompt, length_ms, fmt, model_id)

    @classmethod
    def from_mapping(cls, body: Any) -> GenerationRequest:
        """Validate a JSON object with the API's camelCase keys; unknown keys are rejected."""
        if not isinstance(body, dict):
            raise ValidationError([FieldError("body", "must be a JSON object")])
        errors = [FieldError(key, "unknown field") for key in sorted(set(body) - set(_FIELDS))]
        errors += [FieldError(key, "is required") for key in ("name", "prompt") if key not in body]
        try:
            request = cls.create(
                name=body.get("name", ""),
                prompt=body.get("prompt", ""),
                length_ms=body.get("lengthMs", DEFAULT_LENGTH_MS),
                output_format=body.get("outputFormat", DEFAULT_OUTPUT_FORMAT.name),
                model_id=body.get("modelId", DEFAULT_MODEL_ID),
            )
        except ValidationError as exc:
            reported = {e.field for e in errors}
            errors += [d for d in exc.details if d.field not in reported]
        if errors:
            raise ValidationError(errors)
        return request


def _text(errors: list[FieldError], field: str, value: Any, max_chars: int) -> str:
    if not isinstance(value, str):
        errors.append(FieldError(field, "must be a string"))
        return ""
    stripped = value.strip()
    if not stripped:
        errors.append(FieldError(field, "must not be empty"))
    elif len(stripped) > max_chars:
        errors.append(FieldError(field, f"must be at most {max_chars} characters"))
    elif "\x00" in stripped:
        errors.append(FieldError(field, "must not contain NUL characters"))
    return stripped
