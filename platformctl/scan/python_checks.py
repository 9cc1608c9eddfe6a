"""Python-aware matching: rules read the syntax tree, so comments and strings never count.

A rule's ``python`` section names the places it looks at (``in``): assignments (plain,
annotated, augmented, walrus; to names, attributes and string-keyed subscripts, with tuple
unpacking paired element by element), keyword arguments, parameter defaults, literal dict keys,
``get``-style fallbacks, and comparisons against string literals (``==``, ``!=``, ``is``, ``in``,
``startswith``/``endswith``, ``match``/``case``). A value counts only when it is a literal:
``rate = config["rate"]`` is fine, ``rate = 5`` is not.

>>> import ast
>>> from platformctl.scan.ruleset import shipped_rule_file
>>> rules = [PythonRule.from_rule(r) for r in shipped_rule_file().rules if r.python]
>>> tree = ast.parse('requests.get(url, timeout=30)\\n"timeout = 30"\\n# timeout = 30\\n')
>>> [(h.rule_id, h.line, h.name) for h in python_hits(tree, rules, None)]
[('UT002', 1, 'timeout')]
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

from .names import is_upper_name, snake_name
from .ruleset import PatternRule

_NUMERIC_TEXT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*")
# Calls whose first string argument names a setting and whose next argument is its fallback.
_FALLBACK_CALLS = {"get": 0, "getenv": 0, "setdefault": 0, "getattr": 1}
_PREFIX_TESTS = {"startswith", "endswith"}

Scalar = Union[float, str, None]


@dataclass(frozen=True)
class Literal:
    """A literal value: ``kind`` is number or string; ``value`` is None for folded arithmetic
    such as ``30 * 60``, which is a literal but never a sentinel."""

    kind: str
    value: Scalar


@dataclass(frozen=True)
class Hit:
    """A rule that matched at ``line`` and byte offset ``col_offset`` (as ``ast`` counts them)."""

    rule_id: str
    line: int
    col_offset: int
    name: str


@dataclass(frozen=True)
class PythonRule:
    """A rule's ``python`` section, compiled."""

    rule_id: str
    name: re.Pattern[str]
    case: str
    value: str
    ignore: tuple[Union[int, float, str], ...]
    contexts: frozenset[str]

    @classmethod
    def from_rule(cls, rule: PatternRule) -> PythonRule:
        spec = rule.python
        if spec is None:
            raise ValueError(f"rule {rule.id} has no python section")
        return cls(rule.id, spec.name_regex, spec.case, spec.value, tuple(spec.ignore), frozenset(spec.contexts))

    def wants_name(self, words: str, upper: bool) -> bool:
        """Whether a name (as snake_case ``words``; ``upper`` if written ALL_CAPS) is this rule's."""
        if (self.case == "upper" and not upper) or (self.case == "lower" and upper):
            return False
        return self.name.search(words) is not None

    def wants_raw_name(self, name: str) -> bool:
        """:meth:`wants_name` for a name as written in the source."""
        return self.wants_name(snake_name(name), is_upper_name(name))

    def wants_value(self, literal: Literal) -> bool:
        """Whether ``literal`` is of this rule's kind and not one of its sentinels."""
        value: Scalar
        if self.value == "numeric" and literal.kind == "string":
            if not _NUMERIC_TEXT.fullmatch(str(literal.value)):
                return False
            value = float(str(literal.value))
        elif self.value in ("numeric", literal.kind):
            value = literal.value
        else:
            return False
        return not any(_same_scalar(sentinel, value) for sentinel in self.ignore)


def _same_scalar(sentinel: Union[int, float, str], value: Scalar) -> bool:
    # Strings equal strings and numbers equal numbers: 0 is not the string sentinel "".
    if isinstance(sentinel, str) or isinstance(value, str):
        return isinstance(sentinel, str) and isinstance(value, str) and sentinel == value
    return value is not None and float(sentinel) == value


def literal_of(node: ast.AST) -> Optional[Literal]:
    """The literal ``node`` is, or None. Booleans are not numbers here."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or node.value is None:
            return None
        if isinstance(node.value, (int, float)):
            return Literal("number", float(node.value))
        if isinstance(node.value, str):
            return Literal("string", node.value)
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = literal_of(node.operand)
        if inner is None or inner.kind != "number":
            return None
        sign = -1.0 if isinstance(node.op, ast.USub) and inner.value is not None else 1.0
        return Literal("number", None if inner.value is None else sign * float(inner.value))
    if isinstance(node, ast.BinOp):
        left, right = literal_of(node.left), literal_of(node.right)
        if left is not None and right is not None and left.kind == right.kind == "number":
            return Literal("number", None)
    return None


def _target_name(node: ast.AST) -> Optional[str]:
    """The name an assignment sets: ``rate``, ``self.rate`` and ``cfg["rate"]`` all set ``rate``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    return None


def _name_parts(node: ast.AST) -> list[str]:
    """The dotted path a comparison reads: ``request.tenant.id`` and ``event["tenant_id"]``."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [*_name_parts(node.value), node.attr]
    if isinstance(node, ast.Subscript):
        key = _target_name(node)
        return [*_name_parts(node.value), key] if key else []
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return [*_name_parts(node.func.value), arg.value]
    return []


def _pairs(target: ast.expr, value: ast.expr) -> Iterator[tuple[ast.expr, ast.expr]]:
    """Pair targets with values, element by element through tuple unpacking of equal length."""
    if isinstance(target, (ast.Tuple, ast.List)):
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            if not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts)):
                for sub_target, sub_value in zip(target.elts, value.elts):
                    yield from _pairs(sub_target, sub_value)
        return
    yield target, value


def _is_counting_step(node: ast.AugAssign) -> bool:
    value = node.value
    return (
        isinstance(node.op, (ast.Add, ast.Sub))
        and isinstance(value, ast.Constant)
        and type(value.value) is int
        and value.value == 1
    )


def _fallback(node: ast.Call, called: str) -> Optional[tuple[ast.Constant, str, Optional[ast.AST]]]:
    """The setting's name (its node and its text) and the fallback of ``cfg.get("name", fallback)`` and its kin."""
    at = _FALLBACK_CALLS.get(called)
    key = node.args[at] if at is not None and len(node.args) > at else None
    if at is None or not isinstance(key, ast.Constant) or not isinstance(key.value, str):
        return None
    if len(node.args) > at + 1:
        return key, key.value, node.args[at + 1]
    return key, key.value, next((k.value for k in node.keywords if k.arg == "default"), None)


def _string_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


#: The nodes that carry a source position (``ast.AST`` itself does not declare one).
_Located = Union[ast.expr, ast.stmt, ast.arg, ast.keyword, ast.pattern]


class _Reader:
    """Walks one module, visiting only statements that span a candidate line."""

    def __init__(self, rules: Sequence[PythonRule], lines: Optional[list[int]]) -> None:
        self._rules = {context: [r for r in rules if context in r.contexts] for context in _CONTEXTS}
        self._lines = lines
        self._in_assert = False
        self.hits: list[Hit] = []

    def read(self, tree: ast.AST) -> list[Hit]:
        # An assert checks a value, it does not branch on it: `assert tags["tenant_id"] == "acme"`
        # in a test is not tenant logic. Comparisons under an assert are therefore not read.
        stack: list[tuple[ast.AST, bool]] = [(tree, False)]
        while stack:
            node, in_assert = stack.pop()
            self._in_assert = in_assert
            handler = _HANDLERS.get(type(node))
            if handler is not None:
                handler(self, node)
            below_assert = in_assert or isinstance(node, ast.Assert)
            stack.extend(
                (child, below_assert)
                for child in ast.iter_child_nodes(node)
                if not isinstance(child, ast.stmt) or self._spans_candidate(child)
            )
        return self.hits

    def _spans_candidate(self, stmt: ast.stmt) -> bool:
        if self._lines is None:
            return True
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        at = bisect_left(self._lines, first)
        return at < len(self._lines) and self._lines[at] <= (stmt.end_lineno or stmt.lineno)

    def bound(self, context: str, where: _Located, name: Optional[str], value: Optional[ast.AST]) -> None:
        """``name`` (reported at ``where``) is given ``value`` in ``context``."""
        rules = self._rules[context]
        if not rules or name is None or value is None:
            return
        literal = literal_of(value)
        if literal is None:
            return
        words, upper = snake_name(name), is_upper_name(name)
        for rule in rules:
            if rule.wants_name(words, upper) and rule.wants_value(literal):
                self.hits.append(Hit(rule.rule_id, where.lineno, where.col_offset, name))

    def compared(self, where: _Located, subject: ast.AST, candidates: Sequence[ast.AST]) -> None:
        """``subject`` is compared with each of ``candidates``; string literals count."""
        rules = [] if self._in_assert else self._rules["comparison"]
        parts = _name_parts(subject) if rules else []
        if not parts:
            return
        literals = [lit for lit in map(literal_of, candidates) if lit is not None]
        words, upper = "_".join(snake_name(p) for p in parts), is_upper_name(parts[-1])
        for rule in rules:
            if rule.wants_name(words, upper) and any(rule.wants_value(lit) for lit in literals):
                self.hits.append(Hit(rule.rule_id, where.lineno, where.col_offset, parts[-1]))

    # One method per node type; _HANDLERS maps the types to them.

    def assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            for sub_target, value in _pairs(target, node.value):
                self.bound("assignment", sub_target, _target_name(sub_target), value)

    def ann_assign(self, node: ast.AnnAssign) -> None:
        self.bound("assignment", node.target, _target_name(node.target), node.value)

    def aug_assign(self, node: ast.AugAssign) -> None:
        if not _is_counting_step(node):
            self.bound("assignment", node.target, _target_name(node.target), node.value)

    def named_expr(self, node: ast.NamedExpr) -> None:
        self.bound("assignment", node.target, node.target.id, node.value)

    def arguments(self, node: ast.arguments) -> None:
        positional = [*node.posonlyargs, *node.args]
        for arg, default in zip(positional[len(positional) - len(node.defaults) :], node.defaults):
            self.bound("default", arg, arg.arg, default)
        for arg, maybe_default in zip(node.kwonlyargs, node.kw_defaults):
            self.bound("default", arg, arg.arg, maybe_default)

    def dict_literal(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self.bound("dict_key", key, key.value, value)

    def call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            if keyword.arg is not None:
                self.bound("keyword", keyword, keyword.arg, keyword.value)
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        fallback = _fallback(node, called)
        if fallback is not None:
            key, name, default = fallback
            self.bound("fallback", key, name, default)
        if called in _PREFIX_TESTS and isinstance(func, ast.Attribute) and node.args:
            prefix = node.args[0]
            self.compared(node, func.value, prefix.elts if isinstance(prefix, ast.Tuple) else [prefix])

    def compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:]):
            if isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
                if _string_constant(right):
                    self.compared(node, left, [right])
                elif _string_constant(left):
                    self.compared(node, right, [left])
            elif isinstance(op, (ast.In, ast.NotIn)):
                if isinstance(right, (ast.Tuple, ast.List, ast.Set)):
                    self.compared(node, left, right.elts)
                elif _string_constant(right):
                    self.compared(node, left, [right])
                elif _string_constant(left):
                    self.compared(node, right, [left])

    def match(self, node: ast.Match) -> None:
        for case in node.cases:
            options = case.pattern.patterns if isinstance(case.pattern, ast.MatchOr) else [case.pattern]
            values = [p.value for p in options if isinstance(p, ast.MatchValue)]
            if values:
                self.compared(case.pattern, node.subject, values)


_CONTEXTS = ("assignment", "keyword", "default", "dict_key", "fallback", "comparison")
# Each handler takes the node type it is keyed by (hence Any: a dict cannot say so per key).
_HANDLERS: dict[type[ast.AST], Callable[[_Reader, Any], None]] = {
    ast.Assign: _Reader.assign,
    ast.AnnAssign: _Reader.ann_assign,
    ast.AugAssign: _Reader.aug_assign,
    ast.NamedExpr: _Reader.named_expr,
    ast.arguments: _Reader.arguments,
    ast.Dict: _Reader.dict_literal,
    ast.Call: _Reader.call,
    ast.Compare: _Reader.compare,
    ast.Match: _Reader.match,
}


def python_hits(tree: ast.AST, rules: Sequence[PythonRule], lines: Optional[list[int]]) -> list[Hit]:
    """Every place in ``tree`` where one of ``rules`` matches.

    ``lines`` are the candidate lines from the prefilter (sorted); statements that span none of
    them are skipped. ``None`` reads the whole tree.
    """
    return _Reader(rules, lines).read(tree) if rules else []
