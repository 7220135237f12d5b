"""Every validation rule of the generate request, with per-field errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from songy.domain.errors import ValidationError
from songy.domain.formats import OutputFormat, supported_format_names
from songy.domain.generation_request import (
    LENGTH_MAX_MS,
    LENGTH_MIN_MS,
    GenerationRequest,
)


def fields_of(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {d.field for d in exc.value.details}


def test_defaults_match_the_contract() -> None:
    req = GenerationRequest.from_mapping({"name": "Test Song", "prompt": "upbeat electronic music"})
    assert (req.length_ms, req.output_format.name, req.model_id) == (30000, "mp3_44100_128", "music_v1")


def test_name_is_trimmed() -> None:
    assert GenerationRequest.from_mapping({"name": "  Song  ", "prompt": "p"}).name == "Song"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "p"}, "name"),
        ({"name": "n"}, "prompt"),
        ({"name": "   ", "prompt": "p"}, "name"),
        ({"name": "x" * 101, "prompt": "p"}, "name"),
        ({"name": 5, "prompt": "p"}, "name"),
        ({"name": "n", "prompt": ""}, "prompt"),
        ({"name": "n", "prompt": "p" * 4101}, "prompt"),
        ({"name": "n", "prompt": "p", "lengthMs": 2999}, "lengthMs"),
        ({"name": "n", "prompt": "p", "lengthMs": 300001}, "lengthMs"),
        ({"name": "n", "prompt": "p", "lengthMs": "30000"}, "lengthMs"),
        ({"name": "n", "prompt": "p", "lengthMs": 30000.5}, "lengthMs"),
        ({"name": "n", "prompt": "p", "lengthMs": True}, "lengthMs"),
        ({"name": "n", "prompt": "p", "outputFormat": "flac_44100"}, "outputFormat"),
        ({"name": "n", "prompt": "p", "outputFormat": "mp3_44100_127"}, "outputFormat"),
        ({"name": "n", "prompt": "p", "modelId": "music_v9"}, "modelId"),
        ({"name": "n", "prompt": "p", "colour": "blue"}, "colour"),
    ],
)
def test_each_rule_names_its_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        GenerationRequest.from_mapping(body)
    assert fields_of(exc) == {field}


def test_all_broken_fields_are_reported_at_once() -> None:
    with pytest.raises(ValidationError) as exc:
        GenerationRequest.from_mapping({"name": "", "lengthMs": 1, "outputFormat": "x", "modelId": 1, "extra": 0})
    assert fields_of(exc) == {"name", "prompt", "lengthMs", "outputFormat", "modelId", "extra"}


def test_body_must_be_an_object() -> None:
    with pytest.raises(ValidationError) as exc:
        GenerationRequest.from_mapping(["name"])
    assert fields_of(exc) == {"body"}


@given(st.integers())
def test_length_is_accepted_exactly_inside_the_bounds(length: int) -> None:
    body = {"name": "n", "prompt": "p", "lengthMs": length}
    if LENGTH_MIN_MS <= length <= LENGTH_MAX_MS:
        assert GenerationRequest.from_mapping(body).length_ms == length
    else:
        with pytest.raises(ValidationError):
            GenerationRequest.from_mapping(body)


@given(st.text(max_size=120))
def test_name_rule_holds_for_any_text(name: str) -> None:
    body = {"name": name, "prompt": "p"}
    stripped = name.strip()
    if 1 <= len(stripped) <= 100 and "\x00" not in stripped:
        assert GenerationRequest.from_mapping(body).name == stripped
    else:
        with pytest.raises(ValidationError):
            GenerationRequest.from_mapping(body)


@given(st.sampled_from(supported_format_names()))
def test_every_supported_format_round_trips(name: str) -> None:
    assert OutputFormat.parse(name).name == name
    assert GenerationRequest.from_mapping({"name": "n", "prompt": "p", "outputFormat": name}).output_format


@given(st.text(max_size=30))
def test_format_parser_never_crashes(name: str) -> None:
    try:
        fmt = OutputFormat.parse(name)
    except ValueError:
        assert name not in supported_format_names()
    else:
        assert fmt.name == name


@given(name=st.sampled_from(supported_format_names()), noise=st.text(min_size=1, max_size=3))
def test_a_format_is_accepted_only_by_its_exact_name(name: str, noise: str) -> None:
    for variant in (name + noise, noise + name, name.replace("_", "_" + noise, 1)):
        if variant != name:
            with pytest.raises(ValueError):
                OutputFormat.parse(variant)
    assert OutputFormat.parse(name).name == name


@pytest.mark.parametrize(
    "name", ["mp3_44100_128\n", "mp3_٤٤١٠٠_128", "mp3_\uff14\uff14\uff11\uff10\uff10_128", "pcm_16000 "]
)
def test_lookalike_format_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        OutputFormat.parse(name)
