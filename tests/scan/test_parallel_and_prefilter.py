"""The speed machinery must not change results: worker processes, and the keyword prefilter."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformctl.scan import engine, scan
from platformctl.scan.names import starts_word
from platformctl.scan.prefilter import KeywordFilter

from .conftest import found, write


def test_worker_processes_find_exactly_what_one_process_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(24):
        write(tmp_path, f"pkg{n % 3}/module{n}.py", f"def f{n}():\n    return get(url, timeout={n + 1})\n")
        write(tmp_path, f"env/service{n}.env", f"RETRY_COUNT={n + 1}\n")
    write(tmp_path, "pkg0/suppressed.py", "rate = 5  # antipattern: ignore[UT001] reason: protocol constant\n")
    sequential = scan([tmp_path], jobs=1)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    parallel = scan([tmp_path], jobs=2)
    assert len(sequential.findings) == 48
    assert (parallel.findings, parallel.suppressed, parallel.files_scanned) == (
        sequential.findings, sequential.suppressed, sequential.files_scanned,
    )


def test_python_file_without_a_literal_bound_to_a_keyword_name_is_not_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[bytes] = []
    real_parse = engine.parse_python
    monkeypatch.setattr(engine, "parse_python", lambda source: parsed.append(source) or real_parse(source))
    write(
        tmp_path,
        "plain.py",
        'def generate(items, timeout):\n    """\n    >>> generate([], timeout=30)\n    """\n'
        "    # timeout = 30 would be wrong\n    log(BASE_RATE, RETRY_COUNT)\n"
        "    return get(enumerate(items), timeout=timeout)\n",
    )
    write(tmp_path, "bound.py", "timeout = (\n    settings.timeout\n)\n")
    assert found(scan([tmp_path], jobs=1)) == []
    assert parsed == [b"timeout = (\n    settings.timeout\n)\n"]


@pytest.mark.parametrize(
    ("text", "at", "expected"),
    [
        (b"rate", 0, True),
        (b"base_rate", 5, True),
        (b"baseRate", 4, True),
        (b"APIKey", 3, True),
        (b"self.rate", 5, True),
        (b"generate", 4, False),
        (b"MAXRATE", 3, False),
    ],
)
def test_starts_word_follows_the_snake_case_split(text: bytes, at: int, expected: bool) -> None:
    assert starts_word(text, at) is expected


def test_candidate_lines_are_where_the_name_is_bound_or_compared() -> None:
    source = b'x = 1\ntimeout = 30\nprint(timeout.total())\nif tenant == "a":\n    pass\n'
    timeout, tenant = KeywordFilter.build(["timeout"]), KeywordFilter.build(["tenant"])
    assert timeout.candidate_lines(source, source.lower(), "numeric", comparison=False) == [2]
    assert tenant.candidate_lines(source, source.lower(), None, comparison=True) == [4]


def test_keyword_with_a_capital_matches_case_exactly_and_a_lower_case_one_any_case() -> None:
    upper, lower = KeywordFilter.build(["RATE"]), KeywordFilter.build(["rate"])
    source = b"BASE_RATE=1\nbase_rate=1\n"
    assert upper.keyword_lines(source, source.lower()) == [1]
    assert lower.keyword_lines(source, source.lower()) == [1, 2]


def test_rule_without_keywords_examines_every_file() -> None:
    assert KeywordFilter.build([]).candidate_lines(b"anything", b"anything", "number", comparison=True) is None
