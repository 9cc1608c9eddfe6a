"""Untrusted YAML: no object-constructing tags, no aliases (billion laughs), bounded size.

Speed is not asserted by wall clock here (see benchmarks/); an alias bomb is shown to be refused
at its first alias, and the loader's peak memory is measured with tracemalloc.
"""

from __future__ import annotations

import tracemalloc

import pytest

from ubertruck import safe_yaml
from ubertruck.errors import UserError
from ubertruck.safe_yaml import load_text

from .support import assert_reports, validate_errors

#: The classic billion-laughs document: 9 levels of 9 aliases, about 10**9 "lol" when expanded.
BILLION_LAUGHS = "\n".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
)

#: The same attack through merge keys, which need aliases too.
MERGE_BOMB = "\n".join(
    ["m0: &m0 {x: lol}"] + [f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 9)}], y{i}: 1}}" for i in range(1, 10)]
)

#: Peak memory the loader may use on a tiny hostile document. An expanded bomb needs gigabytes.
_PEAK_BYTES_LIMIT = 2 * 1024 * 1024  # antipattern: ignore[UT005] reason: a test's bound on loader memory, not a platform value


def _peak_memory_of_refusal(text: str) -> tuple[UserError, int]:
    tracemalloc.start()
    try:
        with pytest.raises(UserError) as caught:
            load_text(text, "bomb.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return caught.value, peak


@pytest.mark.parametrize("text", [BILLION_LAUGHS, MERGE_BOMB], ids=["aliases", "merge-keys"])
def test_alias_bomb_is_refused_at_the_first_alias_with_small_memory(text):
    error, peak = _peak_memory_of_refusal(text)
    assert "aliases (*name) are not allowed" in str(error)
    # Refused while composing line 2, where the first alias is: nothing was expanded.
    assert "line 2," in str(error)
    assert peak < _PEAK_BYTES_LIMIT, f"peak {peak} bytes"


def test_alias_bomb_in_a_registry_file_exits_2(tmp_path):
    path = tmp_path / "north-star.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    lines = validate_errors(path, watch=tmp_path)
    assert_reports(lines, path, None, "aliases (*name) are not allowed")


def test_a_single_alias_is_refused():
    with pytest.raises(UserError, match=r"line 2, column 4: .*aliases"):
        load_text("a: &x 1\nb: *x\n", "f.yaml")


def test_an_anchor_without_alias_is_harmless_data():
    assert load_text("a: &x 1\n", "f.yaml") == {"a": 1}


def test_deep_nesting_is_refused_not_a_crash():
    with pytest.raises(UserError, match="nesting is too deep"):
        load_text("[" * 5000 + "]" * 5000, "deep.yaml")


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("x: !!python/object/apply:os.system ['echo pwned']\n", "!!python/object/apply:os.system"),
        ("x: !!python/object/new:subprocess.Popen [['true']]\n", "!!python/object/new:subprocess.Popen"),
        ("x: !!python/name:os.system\n", "!!python/name:os.system"),
        ("x: !!python/module:os\n", "!!python/module:os"),
        ("x: !!python/tuple [1, 2]\n", "!!python/tuple"),
        ("x: !Ref MyBucket\n", "!Ref"),
        ("x: !GetAtt Bucket.Arn\n", "!GetAtt"),
        ("x: !!binary aGVsbG8=\n", "!!binary"),
        ("x: !!set {a, b}\n", "!!set"),
        ("x: !!omap [{a: 1}]\n", "!!omap"),
        ("x: !!pairs [{a: 1}]\n", "!!pairs"),
    ],
)
def test_tags_that_construct_objects_are_refused(tmp_path, text, tag):
    path = tmp_path / "north-star.yaml"
    path.write_text(text, encoding="utf-8")
    lines = validate_errors(path, watch=tmp_path)
    assert_reports(lines, path, None, f"tag {tag} is not allowed", "line 1")


def test_object_tag_is_never_executed(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "north-star.yaml"
    path.write_text(f"x: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    validate_errors(path, watch=tmp_path)
    assert not marker.exists()


def test_unknown_global_tag_is_refused():
    with pytest.raises(UserError, match="could not determine a constructor"):
        load_text("x: !<tag:example.com,2000:thing> 1\n", "f.yaml")


@pytest.mark.parametrize(
    ("text", "tag"),
    [("x: !!int twelve\n", "!!int"), ("x: !!float many\n", "!!float"), ("x: !!bool maybe\n", "!!bool"), ("x: " + "7" * 5000 + "\n", "!!int")],
    ids=["int", "float", "bool", "5000-digit-int"],
)
def test_scalar_its_tag_cannot_read_is_bad_input_not_a_crash(text, tag):
    with pytest.raises(UserError, match=f"line 1, column 4: malformed YAML: the value cannot be read as {tag}"):
        load_text(text, "f.yaml")


def test_standard_scalar_tags_still_work():
    assert load_text("a: !!str 123\nb: !!int '7'\nc: !!float '1.5'\nd: !!null ''\n", "f.yaml") == {
        "a": "123",
        "b": 7,
        "c": 1.5,
        "d": None,
    }


def test_text_over_the_size_limit_is_refused_unparsed():
    with pytest.raises(UserError, match="larger than"):
        load_text("#" * (safe_yaml.MAX_DOCUMENT_BYTES + 1), "big.yaml")
