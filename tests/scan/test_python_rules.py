"""Each shipped rule on Python source: cases that must be found and cases that must not."""

from __future__ import annotations

import pytest

# (source, the rule expected to fire on line 1 and nothing else)
VIOLATIONS = {
    "UT001": [
        "rate = 5\n",
        "base_rate = 500\n",
        "self.tax_rate = 0.18\n",
        "baseRate = 5\n",
        "rate: float = 0.18\n",
        "rate += 5\n",
        'cfg["rate"] = 5\n',
        "limiter(rate_limit=50)\n",
        "def price(distance, rate=5):\n    return distance\n",
        'PLAN = {"rate": 5}\n',
        'value = config.get("rate", 5)\n',
        "print(rate := 5)\n",
        "rate = 30 * 60\n",
        "rate = -1\n",
        "rate = '0.18'\n",
    ],
    "UT002": [
        "requests.get(url, timeout=30)\n",
        "timeout = 30\n",
        "timeout = 1\n",
        "read_timeout_ms = 500\n",
        "client(connectTimeout=5)\n",
        "def fetch(url, *, timeout=30):\n    return url\n",
        "handler = lambda event, timeout=30: event\n",
        'options = {"timeout": 30}\n',
        'seconds = os.environ.get("timeout", "30")\n',
        'seconds = getattr(settings, "timeout", 30)\n',
        "timeout = '30'\n",
    ],
    "UT003": [
        'api_key = "sk_live_abc123"\n',
        'client = Client(api_key="abc123")\n',
        'headers = {"x-api-key": "abc123"}\n',
        'APIKey = "abc123"\n',
        'key = os.getenv("API_KEY", "abc123")\n',
        'def connect(api_key="abc123"):\n    return api_key\n',
    ],
    "UT004": [
        'if tenant == "acme":\n    pass\n',
        'if tenant_id in ("acme",):\n    pass\n',
        'if "acme" == tenant_id:\n    pass\n',
        'if request.tenant.id != "acme":\n    pass\n',
        'if event["tenant_id"] == "acme":\n    pass\n',
        'if event.get("tenant_id") == "acme":\n    pass\n',
        'if tenant_id.startswith("acme"):\n    pass\n',
        'fee = 1 if tenantId == "acme" else 2\n',
    ],
    "UT005": [
        "BASE_RATE = 500\n",
        "TAX_RATE = 0.18\n",
        "RETRY_COUNT = 3\n",
        "TIMEOUT = 30\n",
        'os.environ["TIMEOUT"] = "30"\n',
        'env = {"BASE_RATE": "500"}\n',
        'retries = os.getenv("RETRY_COUNT", "3")\n',
    ],
}

COMPLIANT = [
    'rate = config["rate"]\n',
    "rate = settings.booking.rate\n",
    "rate = 0\n",
    "rate = None\n",
    "rate = True\n",
    "generate = 5\n",
    "separate = 5\n",
    "rated = 5\n",
    "self.rate += 1\n",
    "# timeout = 30\n",
    "x = 1  # timeout = 30\n",
    '"""timeout = 30 and rate = 5 in a docstring."""\n',
    'def f():\n    """Call with timeout=30."""\n',
    'message = "timeout = 30"\n',
    "timeout = settings.timeout\n",
    "requests.get(url, timeout=timeout)\n",
    "requests.get(url, timeout=0)\n",
    "timeout = 'thirty'\n",
    "api_key = os.environ['API_KEY']\n",
    'api_key = ""\n',
    'api_key_header = "X-Api-Key"\n',
    "api_key = get_secret(name)\n",
    'if tenant.tier == "enterprise":\n    pass\n',
    "if tenant_id == other_id:\n    pass\n",
    'if tenant_id == "":\n    pass\n',
    'tenant = "acme"\n',
    'assert tags["tenant_id"] == "acme"\n',
    '# if tenant == "acme":\n',
    'LOG_LEVEL = "INFO"\n',
    "MAX_WORKERS = 4\n",
    "TIMEOUT = settings.timeout\n",
    "RETRY_COUNT = 0\n",
    'ALLOWED = ("TIMEOUT", "RATE")\n',
]


@pytest.mark.parametrize(
    ("rule", "source"), [(rule, source) for rule, sources in VIOLATIONS.items() for source in sources]
)
def test_violation_is_found_once_by_its_rule(scan_source, rule: str, source: str) -> None:
    assert [(line, found_rule) for _, line, found_rule in scan_source(source)] == [(1, rule)]


@pytest.mark.parametrize("source", COMPLIANT)
def test_compliant_source_has_no_finding(scan_source, source: str) -> None:
    assert scan_source(source) == []


def test_match_case_is_reported_at_the_case_pattern(scan_source) -> None:
    assert scan_source('match tenant_id:\n    case "globex" | "acme":\n        pass\n') == [("module.py", 2, "UT004")]


def test_tuple_unpacking_pairs_each_target_with_its_value(scan_source) -> None:
    assert scan_source("rate, timeout, name = 5, 30, other\n") == [("module.py", 1, "UT001"), ("module.py", 1, "UT002")]


def test_keyword_argument_in_a_call_spread_over_lines_is_found_on_its_own_line(scan_source) -> None:
    assert scan_source("client.call(\n    url,\n    timeout=30,\n)\n") == [("module.py", 3, "UT002")]


def test_decorator_argument_is_found(scan_source) -> None:
    source = "class Api:\n    @retry(timeout=30)\n    def get(self):\n        return 1\n"
    assert scan_source(source) == [("module.py", 2, "UT002")]


def test_column_counts_characters_not_bytes(tmp_path) -> None:
    from platformctl.scan import scan

    (tmp_path / "module.py").write_text('label = "été"; requests.get(url, timeout=30)\n', encoding="utf-8")
    [finding] = scan([tmp_path], jobs=1).findings
    before = 'label = "été"; requests.get(url, '
    assert (finding.line, finding.column) == (1, len(before) + 1)


def test_finding_message_names_the_setting_but_not_its_value(scan_source, tmp_path) -> None:
    from platformctl.scan import scan

    scan_source('api_key = "sk_live_secret"\n')
    [finding] = scan([tmp_path], jobs=1).findings
    assert "api_key" in finding.message and "sk_live_secret" not in finding.message


def test_python_file_that_does_not_parse_is_read_with_the_line_patterns(scan_source) -> None:
    assert scan_source("def broken(:\n    timeout = 30\n") == [("module.py", 2, "UT002")]


def test_python_shebang_script_without_suffix_is_read_as_python(scan_source) -> None:
    source = '#!/usr/bin/env python3\n"""timeout = 30 here is a docstring."""\nTIMEOUT = 30\n'
    assert scan_source(source, name="bin/tool") == [("bin/tool", 3, "UT005")]


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ('SETTINGS = {"tcp.idle_timeout.seconds": 350}\n', 1),
        ('SETTINGS = {\n    "timeout":\n        30,\n}\n', 2),
        ('value = config.get(\n    "timeout",\n    30,\n)\n', 2),
        ("timeout = \\\n    30\n", 1),
        ("timeout = (\n    30\n)\n", 1),
        ("timeout = other = 30\n", 1),
        ("timeout: Final[int] = 30\n", 1),
        ("(rate, timeout) = (5, 30)\n", 1),
    ],
)
def test_forms_the_prefilter_must_not_drop_are_found(scan_source, source: str, line: int) -> None:
    assert ("module.py", line, "UT002") in scan_source(source)


@pytest.mark.parametrize(
    "source",
    [
        'if tenant ==\\\n        "acme":\n    pass\n',
        'if tenant == (\n    "acme"\n):\n    pass\n',
        'if tenant in (\n    "acme",\n    "globex",\n):\n    pass\n',
        'if tenant == ("acme"):\n    pass\n',
        'if ("acme") == tenant:\n    pass\n',
        'if tenant == r"acme":\n    pass\n',
        'if tenant is not "acme":\n    pass\n',
        'if tenant not in ["acme"]:\n    pass\n',
        'if "acme" not in tenant_ids:\n    pass\n',
        'if "acme" in (tenant):\n    pass\n',
        'if tenant_id.startswith(("acme", "globex")):\n    pass\n',
        'if tenant_id.endswith(\n    "-acme"\n):\n    pass\n',
        'ok = ("acme"\n      == tenant)\n',
    ],
)
def test_comparison_layouts_the_prefilter_must_not_drop_are_found(scan_source, source: str) -> None:
    assert [rule for _, _, rule in scan_source(source)] == ["UT004"]
