"""Extending the rules: --rules files, the repository's antipatterns.yaml, allow entries, and
what a bad rules file is told."""

from __future__ import annotations

from pathlib import Path

import pytest

from platformctl.scan import scan
from platformctl.scan.ruleset import shipped_rule_file
from ubertruck.errors import UserError

from .conftest import found, write

REGION_RULE = """\
version: 1
rules:
  - id: ACME001
    name: hardcoded-region
    severity: high
    message: Hardcoded AWS region
    description: Regions come from the tenant's residency settings.
    help: Read the region from the merged tenant settings.
    keywords: [region]
    text: 'region\\s*=\\s*["'']?[a-z]{2}-[a-z]+-[0-9]'
    python: {name: '(^|_)region$', value: string, in: [assignment, keyword]}
"""


def test_every_shipped_rule_has_a_python_reading_and_a_text_pattern() -> None:
    rules = shipped_rule_file().rules
    assert [r.id for r in rules] == ["UT001", "UT002", "UT003", "UT004", "UT005"]
    assert all(r.python is not None and r.text is not None for r in rules)


def test_rules_option_adds_a_rule_for_python_and_text(tmp_path: Path) -> None:
    rules = write(tmp_path / "cfg", "extra.yaml", REGION_RULE)
    write(tmp_path / "src", "app.py", 'client = boto3.client("s3", region="ap-south-1")\n')
    write(tmp_path / "src", "deploy.cfg", "region = ap-south-1\n")
    report = scan([tmp_path / "src"], [rules], jobs=1)
    assert found(report) == [("app.py", 1, "ACME001"), ("deploy.cfg", 1, "ACME001")]


def test_antipatterns_yaml_at_the_repository_root_is_read(tmp_path: Path) -> None:
    write(tmp_path, "antipatterns.yaml", REGION_RULE)
    write(tmp_path, "app.py", 'region = "eu-west-1"\n')
    assert found(scan([tmp_path], jobs=1)) == [("app.py", 1, "ACME001")]


def test_allow_entry_exempts_a_path_from_the_named_rules_only(tmp_path: Path) -> None:
    write(
        tmp_path,
        "antipatterns.yaml",
        "version: 1\nallow:\n  - path: vendor/*.py\n    reason: vendored SDK, kept byte-identical\n    rules: [UT002]\n",
    )
    write(tmp_path, "vendor/sdk.py", "timeout = 30\nrate = 5\n")
    assert found(scan([tmp_path], jobs=1)) == [("vendor/sdk.py", 2, "UT001")]


def test_a_rule_id_cannot_be_redefined(tmp_path: Path) -> None:
    rules = write(tmp_path, "extra.yaml", REGION_RULE.replace("ACME001", "UT002"))
    with pytest.raises(UserError, match=r"extra.yaml: UT002: rule id already defined by rules.yaml \(shipped\)"):
        scan([tmp_path], [rules], jobs=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nrules: [{id: X1}]\n", r"rules\.0\.name: Field required"),
        ("version: 1\nrulez: []\n", r"rulez: Extra inputs are not permitted"),
        ("version: 2\n", r"version: Input should be 1"),
        ("- just\n- a list\n", r"expected a mapping with `version: 1`"),
        ("version: 1\nrules: [\n", r"malformed YAML"),
        ("version: 1\nrules: [{id: X1, name: x, severity: low, message: m, description: d, help: h, text: a, colour: red}]\n",
         r"rules\.0\.colour: Extra inputs are not permitted"),
        ("version: 1\nrules: [{id: X1, name: x, severity: low, message: m, description: d, help: h, text: '(a'}]\n",
         r"rules\.0\.text: not a valid regular expression"),
        (REGION_RULE.replace("'(^|_)region$'", "'(unclosed'"), r"rules\.0\.python\.name: not a valid regular expression"),
        ("version: 1\nallow: [{path: a.py, reason: ''}]\n", r"allow\.0\.reason: every allow entry needs a reason"),
        ("version: 1\nrules: [{id: X1, name: x, severity: low, message: m, description: d, help: h, text: a, keywords: ['a b']}]\n",
         r"rules\.0\.keywords: keywords must be words of letters, digits, _ and -"),
        ("version: 1\nallow: [{path: a.py, reason: ok, rules: [NOPE1]}]\n", r"unknown rule id\(s\) \['NOPE1'\]"),
        ("version: 1\nrules: [{id: X1, name: x, severity: low, message: m, description: d, help: h}]\n",
         r"a rule needs `text`, `python` or both"),
    ],
)
def test_bad_rules_file_is_a_user_error_naming_the_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    rules = write(tmp_path, "bad.yaml", text)
    with pytest.raises(UserError, match=expected) as caught:
        scan([tmp_path], [rules], jobs=1)
    assert "bad.yaml" in str(caught.value)


def test_missing_rules_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"missing\.yaml: rules file not found"):
        scan([tmp_path], [tmp_path / "missing.yaml"], jobs=1)
