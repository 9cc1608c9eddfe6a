"""Inline suppressions: each names its rules and gives a reason, or it is a finding itself."""

from __future__ import annotations

from pathlib import Path

from platformctl.scan import scan

from .conftest import found, write


def test_suppression_with_a_reason_silences_its_rule_and_keeps_the_reason(tmp_path: Path) -> None:
    write(tmp_path, "client.py", "PAGE = get(url, timeout=900)  # antipattern: ignore[UT002] reason: AWS caps Lambda at 900 s\n")
    report = scan([tmp_path], jobs=1)
    assert found(report) == []
    assert [(s.finding.rule_id, s.reason) for s in report.suppressed] == [("UT002", "AWS caps Lambda at 900 s")]


def test_suppression_without_a_reason_is_a_finding_and_suppresses_nothing(tmp_path: Path) -> None:
    write(tmp_path, "client.py", "get(url, timeout=30)  # antipattern: ignore[UT002]\n")
    assert found(scan([tmp_path], jobs=1)) == [("client.py", 1, "UT002"), ("client.py", 1, "UT900")]


def test_suppression_with_an_empty_reason_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, "client.py", "get(url, timeout=30)  # antipattern: ignore[UT002] reason:   \n")
    assert ("client.py", 1, "UT900") in found(scan([tmp_path], jobs=1))


def test_suppression_naming_an_unknown_rule_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, "client.py", "get(url, timeout=30)  # antipattern: ignore[UT999] reason: typo in the id\n")
    assert found(scan([tmp_path], jobs=1)) == [("client.py", 1, "UT002"), ("client.py", 1, "UT901")]


def test_blanket_suppressions_are_findings(tmp_path: Path) -> None:
    write(
        tmp_path,
        "client.py",
        """\
        get(url, timeout=30)  # antipattern: ignore
        get(url, timeout=30)  # antipattern: ignore[*] reason: everything
        # antipattern: ignore-file
        """,
    )
    rules = [(line, rule) for _, line, rule in found(scan([tmp_path], jobs=1))]
    assert rules == [(1, "UT002"), (1, "UT902"), (2, "UT002"), (2, "UT902"), (3, "UT902")]


def test_meta_rules_cannot_be_suppressed(tmp_path: Path) -> None:
    write(tmp_path, "client.py", "x = 1  # antipattern: ignore[UT900] reason: quiet please\n")
    assert found(scan([tmp_path], jobs=1)) == [("client.py", 1, "UT902")]


def test_suppression_that_suppresses_nothing_is_reported_as_stale(tmp_path: Path) -> None:
    write(tmp_path, "client.py", "get(url, timeout=cfg.timeout)  # antipattern: ignore[UT002] reason: was 30 once\n")
    assert found(scan([tmp_path], jobs=1)) == [("client.py", 1, "UT903")]


def test_suppression_covers_only_its_own_line(tmp_path: Path) -> None:
    write(tmp_path, "client.py", "# antipattern: ignore[UT002] reason: the next line\nget(url, timeout=30)\n")
    assert found(scan([tmp_path], jobs=1)) == [("client.py", 1, "UT903"), ("client.py", 2, "UT002")]


def test_suppression_may_name_several_rules(tmp_path: Path) -> None:
    write(tmp_path, "client.py", "rate, timeout = 5, 30  # antipattern: ignore[UT001, UT002] reason: protocol constants\n")
    report = scan([tmp_path], jobs=1)
    assert found(report) == []
    assert sorted(s.finding.rule_id for s in report.suppressed) == ["UT001", "UT002"]


def test_suppression_text_inside_a_string_is_not_a_suppression(tmp_path: Path) -> None:
    write(
        tmp_path,
        "docs.py",
        '''\
        EXAMPLE = "get(url, timeout=30)  # antipattern: ignore"
        """A docstring showing # antipattern: ignore[UT002] is not one either."""
        get(url, timeout=30)  # the string above does not cover this
        ''',
    )
    assert found(scan([tmp_path], jobs=1)) == [("docs.py", 3, "UT002")]


def test_suppression_in_an_env_file(tmp_path: Path) -> None:
    write(tmp_path, "service.env", "MAX_RETRY_COUNT=3  # antipattern: ignore[UT005] reason: fixed by the vendor SDK\n")
    report = scan([tmp_path], jobs=1)
    assert found(report) == [] and [s.finding.rule_id for s in report.suppressed] == ["UT005"]


def test_malformed_suppression_in_a_yaml_file_is_a_finding(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "environment:\n  TIMEOUT: 30  # antipattern: disable\n")
    assert found(scan([tmp_path], jobs=1)) == [("compose.yaml", 2, "UT005"), ("compose.yaml", 2, "UT902")]


def test_json_has_no_comments_so_marker_text_in_it_is_neither_a_suppression_nor_a_finding(tmp_path: Path) -> None:
    write(tmp_path, "settings.json", '{"note": "x # antipattern: ignore", "TIMEOUT": 30}\n')
    assert found(scan([tmp_path], jobs=1)) == [("settings.json", 1, "UT005")]
