"""YAML loading for untrusted files: data only, no tags, no aliases, bounded size.

PyYAML's SafeLoader already refuses tags that construct Python objects, but it accepts anchors
and aliases, which make "billion laughs" documents that are tiny on disk and explode in memory
the moment anything walks them. Registry files never need aliases, so they are refused while
composing, before any node is built.

Besides aliases, the loader refuses what plain data never needs and what would surprise a
reader: every non-standard tag, the standard tags that build non-data objects (``!!binary``,
``!!set``, ``!!omap``, ``!!pairs``), a key given twice in one mapping (PyYAML would silently
keep the last), and a scalar that its tag cannot read (``!!int x``, a 5,000-digit integer).
Every such problem is a ``UserError`` on one line, naming the file, line and column.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.events import AliasEvent

from .errors import UserError

#: Registry and defaults files are small documents; anything bigger is refused unread.
MAX_DOCUMENT_BYTES = 1024 * 1024

#: Standard YAML tags whose constructors build bytes, sets or tuples rather than plain data.
_NON_DATA_STANDARD_TAGS = ("binary", "set", "omap", "pairs")

_STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"

#: What PyYAML's scalar constructors raise (unmarked) when a tagged value cannot be read.
_SCALAR_READ_ERRORS = (ValueError, KeyError, TypeError, OverflowError, IndexError, AttributeError)


def _alias_error(event: AliasEvent) -> yaml.composer.ComposerError:
    # libyaml's events carry yaml._yaml.Mark, which the stubs do not accept here; the error only formats it.
    return yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed; write the value out", event.start_mark)  # type: ignore[arg-type]


if TYPE_CHECKING:
    # The mixin is only ever combined with a SafeLoader (pure-Python or libyaml), whose constructor it extends.
    _ConstructorBase = yaml.constructor.SafeConstructor
else:
    _ConstructorBase = object


class _DataOnlyConstruction(_ConstructorBase):
    """Construction rules shared by the pure-Python and the libyaml loaders: non-data tags,
    duplicate keys and unreadable scalars are refused."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except _SCALAR_READ_ERRORS:
            # The value itself is not echoed: it may be long, or be the very secret being refused.
            raise yaml.constructor.ConstructorError(
                None, None, f"the value cannot be read as {_short_tag(node.tag)}", node.start_mark
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == f"{_STANDARD_TAG_PREFIX}merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # an unhashable key: the base class reports it with its position
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {reprlib.repr(key)} appears twice in one mapping; keep one", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _DataOnlyLoader(_DataOnlyConstruction, yaml.SafeLoader):
    """SafeLoader that also refuses aliases while composing, before any node is built."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            raise _alias_error(self.peek_event())
        return super().compose_node(parent, index)


#: libyaml parses a registry file several times faster; where PyYAML was built without it the
#: pure-Python loader serves alone. Aliases are refused on its event stream before loading.
_FAST_BASE: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)
_FastDataOnlyLoader: type[yaml.CSafeLoader] | None = None
if _FAST_BASE is not None:

    class _FastDataOnlyLoaderClass(_DataOnlyConstruction, yaml.CSafeLoader):
        """The same rules over libyaml's parser (aliases are refused on its event stream)."""

    _FastDataOnlyLoader = _FastDataOnlyLoaderClass


def _refuse_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, f"tag {_short_tag(node.tag)} is not allowed; registry files hold plain data", node.start_mark
    )


_LOADERS: list[type[yaml.SafeLoader] | type[yaml.CSafeLoader]] = [_DataOnlyLoader]
if _FastDataOnlyLoader is not None:
    _LOADERS.append(_FastDataOnlyLoader)
for _loader in _LOADERS:
    _loader.add_multi_constructor("!", _refuse_tag)
    _loader.add_multi_constructor(f"{_STANDARD_TAG_PREFIX}python/", _refuse_tag)


def _refuse_standard_tag(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return _refuse_tag(loader, "", node)


for _tag in _NON_DATA_STANDARD_TAGS:
    for _loader in _LOADERS:
        _loader.add_constructor(f"{_STANDARD_TAG_PREFIX}{_tag}", _refuse_standard_tag)


def _short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:int`` as a YAML author writes it: ``!!int``."""
    return tag.replace(_STANDARD_TAG_PREFIX, "!!")


def _one_line(text: object) -> str:
    """PyYAML's messages span lines; an operator gets one line per problem."""
    return " ".join(str(text).split())


def load_text(text: str, where: str) -> Any:
    """Parse one YAML document of plain data; raise ``UserError`` naming ``where`` and the line."""
    if len(text.encode("utf-8", errors="replace")) > MAX_DOCUMENT_BYTES:
        raise UserError(where, f"file is larger than {MAX_DOCUMENT_BYTES} bytes; expected a small YAML document")
    try:
        if _FAST_BASE is None or _FastDataOnlyLoader is None:
            return yaml.load(text, Loader=_DataOnlyLoader)
        for event in yaml.parse(text, Loader=_FAST_BASE):
            if isinstance(event, AliasEvent):
                raise _alias_error(event)
        return yaml.load(text, Loader=_FastDataOnlyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = _one_line(exc.problem or exc.context)
        if "nesting depth" in problem:  # libyaml's words for what the pure-Python loader hits as recursion
            problem = "nesting is too deep"
        raise UserError(where, f"{line}malformed YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:
        raise UserError(
            where, f"position {exc.position}: malformed YAML: character #x{exc.character:04x} is not allowed in YAML text"
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(where, f"malformed YAML: {_one_line(exc)}") from None
    except RecursionError:
        raise UserError(where, "malformed YAML: nesting is too deep") from None


def load_file(path: Path) -> Any:
    """Read and parse ``path`` with :func:`load_text`."""
    where = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UserError(where, f"cannot read file: {exc.strerror}") from None
    if size > MAX_DOCUMENT_BYTES:
        raise UserError(where, f"file is larger than {MAX_DOCUMENT_BYTES} bytes; expected a small YAML document")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(where, "file is not UTF-8 text") from None
    except OSError as exc:
        raise UserError(where, f"cannot read file: {exc.strerror}") from None
    return load_text(text, where)
