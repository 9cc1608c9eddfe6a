"""Which top-level inputs changed between two sets of inputs, honouring ``ignoreChanges``.

>>> changed_inputs({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}, [])
{'b': 'update', 'c': 'add'}
>>> changed_inputs({"tags": {"x": "1"}}, {"tags": {"x": "2"}}, ["tags.x"])
{}
"""

from __future__ import annotations

import copy
import re
from typing import Any, Literal

from .values import contains_unknown, same_value

Change = Literal["add", "delete", "update"]

# One step of a property path: a name, a quoted key in brackets, or an index.
_STEP = re.compile(r'\.?([A-Za-z_$*][\w$*-]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+|\*)\]')


def path_steps(path: str) -> list[str | int]:
    """``tags["a.b"].x[0]`` -> ``["tags", "a.b", "x", 0]``; a malformed path is taken as one key."""
    steps: list[str | int] = []
    position = 0
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None or match.end() == position:
            return [path]
        name, quoted, index = match.groups()
        steps.append(name if name is not None else quoted if quoted is not None else (index if index == "*" else int(index)))
        position = match.end()
    return steps


_MISSING = object()


def _get(value: object, steps: list[str | int]) -> object:
    for step in steps:
        if isinstance(value, dict) and isinstance(step, str) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            return _MISSING
    return value


def _set(container: dict[str, Any], steps: list[str | int], value: object) -> None:
    parent: Any = _get(container, steps[:-1]) if len(steps) > 1 else container
    last = steps[-1]
    if isinstance(parent, dict) and isinstance(last, str):
        if value is _MISSING:
            parent.pop(last, None)
        else:
            parent[last] = value
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent) and value is not _MISSING:
        parent[last] = value


def apply_ignore_changes(olds: dict[str, Any], news: dict[str, Any], ignore_changes: list[str]) -> dict[str, Any]:
    """``news`` with every ignored path put back to its old value (or left out, if it had none)."""
    if not ignore_changes:
        return news
    result = copy.deepcopy(news)
    for path in ignore_changes:
        steps = path_steps(path)
        if steps == ["*"]:
            return copy.deepcopy(olds)
        if "*" in steps:
            # A wildcard over list items or keys: ignore the whole property it sits under.
            steps = steps[: steps.index("*")]
        if steps:
            old = _get(olds, steps)
            _set(result, steps, old if old is _MISSING else copy.deepcopy(old))
    return result


def changed_inputs(olds: dict[str, Any], news: dict[str, Any], ignore_changes: list[str]) -> dict[str, Change]:
    """Top-level inputs that differ, in key order: added, deleted or updated.

    A new value that is not known yet (a preview) counts as a change: it may well be one.
    """
    # A null input and an absent one are the same thing to AWS.
    olds = {key: value for key, value in olds.items() if value is not None}
    news = {key: value for key, value in apply_ignore_changes(olds, news, ignore_changes).items() if value is not None}
    changes: dict[str, Change] = {}
    for key in sorted(set(olds) | set(news)):
        if key not in olds:
            changes[key] = "add"
        elif key not in news:
            changes[key] = "delete"
        elif contains_unknown(news[key]) or not same_value(olds[key], news[key]):
            changes[key] = "update"
    return changes
