"""Each shipped rule on files that are not Python: environment, YAML, JSON, Dockerfile, shell."""

from __future__ import annotations

import pytest

VIOLATIONS = [
    ("service.env", "BASE_RATE=500\n", "UT005"),
    ("service.env", "TAX_RATE=0.18\n", "UT005"),
    (".env", "RETRY_COUNT=3\n", "UT005"),
    (".env.prod", "export TIMEOUT=30\n", "UT005"),
    ("compose.yaml", 'services:\n  api:\n    environment:\n      TIMEOUT: "30"\n', "UT005"),
    ("Dockerfile", "FROM python:3.11\nENV TIMEOUT=30\n", "UT005"),
    ("setup.cfg", "[client]\ntimeout = 30\n", "UT002"),
    ("pyproject.toml", "[limits]\nrate = 5\n", "UT001"),
    ("settings.json", '{"api_key": "abc123"}\n', "UT003"),
    ("deploy.sh", 'if [ "$TENANT_ID" = "acme" ]; then echo; fi\n', "UT004"),
    ("bin/deploy", '#!/usr/bin/env bash\nif [ "$TENANT_ID" = "acme" ]; then echo; fi\n', "UT004"),
]

COMPLIANT = [
    ("service.env", "# TIMEOUT=30\n"),
    ("service.env", "LOG_LEVEL=INFO  # TIMEOUT=30 would be wrong here\n"),
    ("service.env", "SERVICE_NAME=booking\nCONFIG_SERVICE_URL=https://config.internal\n"),
    ("tenant.yaml", "timeout: 30\nrate: 5\n"),
    ("tenant.yaml", "secrets:\n  provider_api_key:\n    secret_name: acme/payment/key\n"),
    ("settings.json", '{"api_key": ""}\n'),
    ("settings.ini", "; timeout = 30\n"),
    ("notes.md", "Never write TIMEOUT=30 or timeout = 30.\n"),
    ("deploy.sh", 'if [ "$ENVIRONMENT" = "prod" ]; then echo; fi\n'),
]


@pytest.mark.parametrize(("name", "text", "rule"), VIOLATIONS)
def test_violation_in_a_text_file_is_found_by_its_rule(scan_source, name: str, text: str, rule: str) -> None:
    assert [(path, found_rule) for path, _, found_rule in scan_source(text, name=name)] == [(name, rule)]


@pytest.mark.parametrize(("name", "text"), COMPLIANT)
def test_compliant_text_file_has_no_finding(scan_source, name: str, text: str) -> None:
    assert scan_source(text, name=name) == []


def test_text_finding_points_at_the_name_not_the_character_before_it(tmp_path) -> None:
    from platformctl.scan import scan

    (tmp_path / "service.env").write_text("export BASE_RATE=500\n")
    [finding] = scan([tmp_path], jobs=1).findings
    assert (finding.line, finding.column) == (1, len("export ") + 1)


def test_defaults_yaml_at_the_root_is_exempt_by_the_shipped_allow_list(scan_source) -> None:
    assert scan_source("environment:\n  TIMEOUT: 30\n", name="defaults.yaml") == []


def test_defaults_yaml_elsewhere_is_not_exempt(scan_source) -> None:
    assert scan_source("environment:\n  TIMEOUT: 30\n", name="config/defaults.yaml") == [("config/defaults.yaml", 2, "UT005")]


@pytest.mark.parametrize("text", ["LOG_LEVEL=INFO\r\nTIMEOUT=30  # seconds\r\n", "A=1\x0cB=2\nTIMEOUT=30\n"])
def test_lines_are_counted_by_newline_as_grep_counts_them(tmp_path, text: str) -> None:
    from platformctl.scan import scan

    (tmp_path / "service.env").write_bytes(text.encode())
    assert [(f.line, f.rule_id) for f in scan([tmp_path], jobs=1).findings] == [(2, "UT005")]
