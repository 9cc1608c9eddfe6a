"""Which files a scan reads: skipped folders, binary files, git-ignored files, explicit paths."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from platformctl.scan import scan
from platformctl.scan.files import classify

from .conftest import found, write

VIOLATION = "timeout = 30\n"


@pytest.mark.parametrize("folder", [".git", ".venv", "__pycache__", "node_modules", "pkg/node_modules"])
def test_tool_and_dependency_folders_are_skipped(tmp_path: Path, folder: str) -> None:
    write(tmp_path, f"{folder}/module.py", VIOLATION)
    write(tmp_path, "main.py", VIOLATION)
    assert found(scan([tmp_path], jobs=1)) == [("main.py", 1, "UT002")]


def test_binary_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "blob.json").write_bytes(b'{"TIMEOUT": 30}\x00\x01\x02')
    report = scan([tmp_path], jobs=1)
    assert (found(report), report.files_scanned) == ([], 0)


def test_symlink_is_not_followed(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere", "module.py", VIOLATION)
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "link.py").symlink_to(tmp_path / "elsewhere" / "module.py")
    assert found(scan([tmp_path / "repo"], jobs=1)) == []


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")
def test_inside_git_ignored_files_are_skipped_and_paths_are_relative_to_the_top_level(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, ".gitignore", "generated/\n")
    write(tmp_path, "generated/module.py", VIOLATION)
    write(tmp_path, "src/module.py", VIOLATION)
    assert found(scan([tmp_path / "src"], jobs=1)) == [("src/module.py", 1, "UT002")]
    assert found(scan([tmp_path], jobs=1)) == [("src/module.py", 1, "UT002")]


def test_file_named_on_the_command_line_is_read_even_without_a_known_suffix(tmp_path: Path) -> None:
    write(tmp_path, "notes.txt", "TIMEOUT=30\n")
    assert found(scan([tmp_path], jobs=1)) == []
    assert found(scan([tmp_path / "notes.txt"], jobs=1)) == [("notes.txt", 1, "UT005")]


def test_several_paths_report_each_file_once(tmp_path: Path) -> None:
    write(tmp_path, "a/module.py", VIOLATION)
    assert found(scan([tmp_path, tmp_path / "a", tmp_path / "a" / "module.py"], jobs=1)) == [("a/module.py", 1, "UT002")]


@pytest.mark.parametrize(
    ("relative", "head", "kind"),
    [
        ("pkg/module.py", b"", "python"),
        ("stubs/module.pyi", b"", "python"),
        ("bin/tool", b"#!/usr/bin/env python3\n", "python"),
        (".ci/run", b"#!/usr/bin/env bash\nset -e\n", "text"),
        ("bin/tool", b"#!/usr/bin/perl\n", None),
        ("Dockerfile", b"", "text"),
        ("README.md", b"", None),
    ],
)
def test_classify(relative: str, head: bytes, kind: str | None) -> None:
    assert classify(relative, head, ("*.yaml", "Dockerfile")) == kind
