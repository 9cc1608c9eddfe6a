"""YAML loading for untrusted files: data only, no tags, no aliases, bounded size.

PyYAML's SafeLoader already refuses tags that construct Python objects, but it accepts anchors
and aliases, which make "billion laughs" documents that are tiny on disk and explode in memory
the moment anything walks them. Registry files never need aliases, so they are refused while
composing, before any node is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent

from .errors import UserError

#: Registry and defaults files are small documents; anything bigger is refused unread.
MAX_DOCUMENT_BYTES = 1024 * 1024


class _DataOnlyLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and every non-standard tag."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: ANN401 (PyYAML's signature)
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed; write the value out", event.start_mark
            )
        return super().compose_node(parent, index)


def _refuse_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:  # noqa: ANN401
    raise yaml.constructor.ConstructorError(
        None, None, f"tag {node.tag} is not allowed; registry files hold plain data", node.start_mark
    )


_DataOnlyLoader.add_multi_constructor("!", _refuse_tag)
_DataOnlyLoader.add_multi_constructor("tag:yaml.org,2002:python/", _refuse_tag)


def load_text(text: str, where: str) -> Any:  # noqa: ANN401 (any YAML data)
    """Parse one YAML document of plain data; raise ``UserError`` naming ``where`` and the line."""
    if len(text.encode("utf-8", errors="replace")) > MAX_DOCUMENT_BYTES:
        raise UserError(where, f"file is larger than {MAX_DOCUMENT_BYTES} bytes; expected a small YAML document")
    try:
        return yaml.load(text, Loader=_DataOnlyLoader)  # noqa: S506 (the loader is data-only)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise UserError(where, f"{line}malformed YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise UserError(where, f"malformed YAML: {exc}") from None
    except RecursionError:
        raise UserError(where, "malformed YAML: nesting is too deep") from None


def load_file(path: Path) -> Any:  # noqa: ANN401
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
