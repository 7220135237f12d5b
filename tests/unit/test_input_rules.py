"""The rules the input guard applies: what text can be stored, what can be an id, and how a JSON body's bad
string is found and named wherever it is."""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from songy.adapters.memory.system import SequentialIds
from songy.adapters.system import Cuid2Ids
from songy.domain.ids import is_id
from songy.domain.text import unstorable_reason
from songy.entrypoints.http.input_guard import body_refusal

every_char = st.characters(exclude_categories=())  # NUL and lone surrogates included
clean_char = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


def test_ids_songy_makes_and_ids_it_met_before_are_ids() -> None:
    cuid2 = Cuid2Ids()
    made = [cuid2.new_id() for _ in range(200)]
    seed_style = "cmf0abc123def456ghi789jkl"  # Prisma cuid v1, 25 characters, as in the seed's examples
    test_doubles = [SequentialIds("cm").new_id(), "nope", "m1"]
    assert all(is_id(i) for i in [*made, seed_style, *test_doubles])


@given(st.text(every_char, max_size=40))
def test_an_id_is_one_to_32_lowercase_ascii_letters_or_digits(text: str) -> None:
    expected = 1 <= len(text) <= 32 and all(c in string.ascii_lowercase + string.digits for c in text)
    assert is_id(text) is expected


def test_what_cannot_be_an_id() -> None:
    for text in [
        "",
        "a" * 33,
        "ABC",
        "a-b",
        "a b",
        "a\x00",
        "名前",
        "\uff41\uff42\uff43",
        "abc\n",
        "١٢٣",
        None,
        5,
        ["abc"],
    ]:
        assert not is_id(text), text


@given(st.text(every_char, max_size=60))
def test_text_is_storable_exactly_when_it_has_no_nul_and_no_lone_surrogate(text: str) -> None:
    has_surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert (unstorable_reason(text) is None) is ("\x00" not in text and not has_surrogate)


def test_other_control_characters_are_storable_text() -> None:
    assert unstorable_reason("tab\there, new\nline, esc \x1b, del \x7f, bell \x07") is None


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(clean_char, max_size=10))
clean_json = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(clean_char, max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
poison = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "\udcff"])


def _containers(document: Any, path: str = "") -> list[tuple[Any, str]]:
    """Every dict and list in ``document`` with the field path the guard should report for it."""
    found = []
    if isinstance(document, dict):
        found.append((document, path))
        for key, value in document.items():
            found += _containers(value, f"{path}.{key}" if path else key)
    elif isinstance(document, list):
        found.append((document, path))
        for index, value in enumerate(document):
            found += _containers(value, f"{path or 'body'}[{index}]")
    return found


@given(clean_json.filter(lambda d: isinstance(d, dict | list)), st.data())
def test_a_poisoned_string_anywhere_in_a_body_is_found_and_named_by_its_path(document: Any, data: Any) -> None:
    def is_plain(key: str) -> bool:  # keys the guard echoes as they are
        return key.isprintable() and len(key) <= 80

    assume(all(is_plain(k) for c, _ in _containers(document) if isinstance(c, dict) for k in c))
    assert body_refusal(json.dumps(document).encode()) is None
    container, path = data.draw(st.sampled_from(_containers(document)))
    bad = data.draw(poison)
    if isinstance(container, dict):
        key = data.draw(st.text(string.ascii_letters, min_size=1, max_size=6).filter(lambda k: k not in container))
        container[key] = bad
        expected = f"{path}.{key}" if path else key
    else:
        container.append(bad)
        expected = f"{path or 'body'}[{len(container) - 1}]"
    for encoded in (
        json.dumps(document).encode(),
        json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    ):
        refusal = body_refusal(encoded)
        assert refusal is not None and [d.field for d in refusal.details] == [expected]


def test_bodies_that_are_not_json_are_left_to_the_handler() -> None:
    assert body_refusal(b"") is None
    assert body_refusal(b"{not json") is None
    assert body_refusal(b"[" * 100_000) is None
