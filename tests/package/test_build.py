"""The build: manifest shape, determinism, content addressing, size limits, the layer's arch."""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path

import pytest

from platformctl.package import BuildReport, PackageOptions, build_artifacts
from platformctl.package.files import file_sha256
from platformctl.package.sources import handler_modules
from ubertruck.errors import UserError

from .conftest import FUNCTIONS_DIR, options_for

#: ELF header: e_machine is the 16-bit little-endian field at offset 18.
ELF_MAGIC = b"\x7fELF"
ELF_MACHINE = {"x86_64": 62, "arm64": 183}  # EM_X86_64, EM_AARCH64


def _manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text())


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.zip"))}


def test_manifest_lists_every_handler_with_relative_paths(host_build: BuildReport) -> None:
    root = host_build.artifacts.root
    document = _manifest(root)
    expected = {m.name: m for m in handler_modules(FUNCTIONS_DIR, "common")}
    assert {f["name"] for f in document["functions"]} == set(expected)
    (layer,) = document["layers"]
    for entry in document["functions"]:
        module = expected[entry["name"]]
        assert entry["handler"] == f"{module.service}.{module.module}.lambda_handler"
        assert (entry["runtime"], entry["architecture"]) == ("python3.11", "x86_64")
        assert entry["layers"] == [layer["artifact"]]
        for path in (entry["artifact"], *entry["layers"]):
            assert not Path(path).is_absolute() and ".." not in Path(path).parts
            assert (root / path).is_file()
        assert file_sha256(root / entry["artifact"]) == entry["sha256"]
        # The name carries the content hash.
        assert entry["sha256"].startswith(Path(entry["artifact"]).stem.rsplit("-", 1)[1])
        with zipfile.ZipFile(root / entry["artifact"]) as archive:
            names = archive.namelist()
        assert f"{module.service}/{module.module}.py" in names
        assert all(n.startswith(f"{module.service}/") for n in names)
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_zips_are_sorted_with_fixed_times_and_permissions(host_build: BuildReport) -> None:
    options = options_for("x86_64", host_build.artifacts.root)
    for path in (host_build.artifacts.layer, *host_build.artifacts.functions.values()):
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {tuple(options.zip.timestamp)}
        assert {(i.external_attr >> 16) & 0o777 for i in infos} == {options.zip.file_mode}


def test_rebuild_with_nothing_changed_writes_nothing(build_copy: tuple[PackageOptions, Path]) -> None:
    options, output = build_copy
    before = {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.is_file() and p.name != ".lock"}
    report = build_artifacts(options)
    assert report.built == []
    after = {p: p.stat().st_mtime_ns for p in before}
    assert after == before


def test_a_fresh_build_gives_identical_bytes(host_build: BuildReport, tmp_path: Path) -> None:
    fresh = build_artifacts(options_for("x86_64", tmp_path / "fresh"))
    assert sorted(fresh.built) == sorted(set(fresh.built))
    assert _files(tmp_path / "fresh") == _files(host_build.artifacts.root)
    assert _manifest(tmp_path / "fresh") == _manifest(host_build.artifacts.root)


def test_changing_one_function_rebuilds_only_its_artifact(build_copy: tuple[PackageOptions, Path]) -> None:
    options, output = build_copy
    before = _manifest(output)
    with (options.functions_dir / "booking" / "service.py").open("a") as handle:
        handle.write("\n# a change\n")
    report = build_artifacts(options)
    after = _manifest(output)
    changed = {f["name"] for f, g in zip(before["functions"], after["functions"]) if f != g}
    assert changed == {"booking.handler"}
    assert after["layers"] == before["layers"]
    assert len(report.built) == 1 and report.built[0].startswith("functions/booking-")
    assert report.built[0] == next(f["artifact"] for f in after["functions"] if f["name"] == "booking.handler")


def test_a_zip_over_the_upload_limit_is_refused_naming_it(build_copy: tuple[PackageOptions, Path]) -> None:
    options, output = build_copy
    before = (output / "manifest.json").read_bytes()
    smallest = min(f["size"] for f in _manifest(output)["functions"])
    with pytest.raises(UserError) as caught:
        build_artifacts(dataclasses.replace(options, max_zipped_bytes=smallest))
    message = str(caught.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(("functions/", "layers/")) and ".zip: " in message
    assert f"limit of {smallest} bytes (artifacts.max_zipped_bytes)" in message
    # Nothing over the limit reaches the manifest the program deploys from.
    assert (output / "manifest.json").read_bytes() == before


def test_a_function_over_the_unzipped_limit_with_its_layer_is_refused(build_copy: tuple[PackageOptions, Path]) -> None:
    options, output = build_copy
    layer = _manifest(output)["layers"][0]["unzipped_size"]
    with pytest.raises(UserError, match=rf"^functions/\S+\.zip: \d+ bytes unzipped with its layer, over Lambda's limit of {layer} bytes \(artifacts.max_unzipped_bytes\)$"):
        build_artifacts(dataclasses.replace(options, max_unzipped_bytes=layer))


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_layer_holds_pydantic_core_compiled_for_the_architecture(arch: str, host_build: BuildReport, tmp_path: Path) -> None:
    layer = host_build.artifacts.layer if arch == "x86_64" else build_artifacts(options_for(arch, tmp_path / arch)).artifacts.layer
    with zipfile.ZipFile(layer) as archive:
        (name,) = [n for n in archive.namelist() if n.startswith("python/pydantic_core/_pydantic_core") and n.endswith(".so")]
        header = archive.read(name)[:20]
        names = set(archive.namelist())
    assert header[:4] == ELF_MAGIC
    assert int.from_bytes(header[18:20], "little") == ELF_MACHINE[arch]
    assert "python/common/__init__.py" in names
    for module in ("aws_lambda_powertools/__init__.py", "pydantic/__init__.py", "jwt/__init__.py", "aws_xray_sdk/__init__.py", "boto3/__init__.py"):
        assert f"python/{module}" in names
