"""The plan's table: one aligned row per stack."""

from __future__ import annotations

from platformctl.engine import report
from platformctl.engine.plan import PlannedStack
from ubertruck.stacks import StackRef


def _stack(name: str, tenant: str | None, cached: bool, violations: list[dict] = ()) -> PlannedStack:  # type: ignore[assignment]
    return PlannedStack(ref=StackRef(name=name, environment="dev", tenant_id=tenant), source="", resource_count=len(name) * 7,
                        outputs={}, violations=list(violations), cached=cached)


def test_one_row_per_stack_with_its_counts_under_the_headers() -> None:
    mandatory = {"pack": "p", "policy": "x", "level": "mandatory", "urn": "u", "message": "m"}
    stacks = [_stack("dev", None, True), _stack("northwind-dev", "northwind", False, [mandatory, mandatory])]
    lines = report.table(stacks).splitlines()
    assert lines[0] == "Offline plan"
    assert lines[1].split() == list(report.TABLE_COLUMNS)
    assert lines[3].split() == ["dev", "(shared)", "dev", "21", "0", "0", "0", "yes"]
    assert lines[4].split() == ["northwind-dev", "northwind", "dev", "91", "2", "0", "0"]
    assert len(lines) == 2 + 1 + len(stacks)


def test_columns_line_up() -> None:
    stacks = [_stack(f"t{i}-dev", f"t{i}", i % 2 == 0) for i in (1, 22, 333)]
    lines = report.table(stacks).splitlines()[1:]
    # Every column starts where its header starts (counts are right-aligned to the header's end).
    starts = [lines[0].index(name) for name in ("tenant", "env")]
    for row in lines[2:]:
        assert [row[s - 2 : s] for s in starts] == ["  ", "  "]
        assert row[starts[0]] != " " and row[starts[1]] != " "
