"""The registry cache: a hit is exactly what a full check loads, and only passing files are kept."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest

from ubertruck import PROJECT_ROOT
from ubertruck.registry import load_registry
from ubertruck.registry import loader
from ubertruck.registry.cache import CACHE_FILE, RegistryCache

from .support import valid_document, write_yaml


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    folder = tmp_path / "tenants"
    for tenant_id in ("north-star", "south-wind"):
        write_yaml(folder / f"{tenant_id}.yaml", valid_document(tenant_id))
    return folder


def _parses(registry: Path, cache: Path) -> tuple[dict, int]:
    """Load with the cache; return the tenants and how many files were parsed from YAML."""
    with mock.patch.object(loader, "load_file", wraps=loader.load_file) as parse:
        result = load_registry([registry], cache_dir=cache)
    result.raise_for_errors()
    return result.tenants, parse.call_count


def _rewrite(registry: Path, tenant_id: str, **changes: object) -> None:
    write_yaml(registry / f"{tenant_id}.yaml", {**valid_document(tenant_id), **changes})


def test_an_unchanged_registry_loads_from_the_cache_as_the_same_tenants(registry, tmp_path):
    cache = tmp_path / "cache"
    fresh, parsed = _parses(registry, cache)
    assert parsed == 2
    cached, parsed = _parses(registry, cache)
    assert parsed == 0
    assert cached == fresh == load_registry([registry]).tenants


def test_the_shipped_registry_round_trips_through_the_cache(tmp_path):
    fresh = load_registry([PROJECT_ROOT / "tenants"], cache_dir=tmp_path).tenants
    cached, parsed = _parses(PROJECT_ROOT / "tenants", tmp_path)
    assert parsed == 0 and cached == fresh


def test_only_the_changed_file_is_parsed_again(registry, tmp_path):
    cache = tmp_path / "cache"
    _parses(registry, cache)
    _rewrite(registry, "south-wind", display_name="South Wind Logistics")
    tenants, parsed = _parses(registry, cache)
    assert parsed == 1
    assert tenants["south-wind"].display_name == "South Wind Logistics"


def test_a_file_broken_after_it_was_cached_is_reported_not_served(registry, tmp_path):
    cache = tmp_path / "cache"
    _parses(registry, cache)
    _rewrite(registry, "south-wind", tier="platinum")
    result = load_registry([registry], cache_dir=cache)
    assert [e.where for e in result.errors] == [f"{registry / 'south-wind.yaml'}: tier"]
    assert "south-wind" not in result.tenants


def test_failing_files_are_never_cached(registry, tmp_path):
    cache = tmp_path / "cache"
    (registry / "broken.yaml").write_text("id: broken\ntier: [\n")
    result = load_registry([registry], cache_dir=cache)
    assert len(result.errors) == 1
    entries = json.loads((cache / CACHE_FILE).read_text())["entries"]
    assert sorted(Path(p).name for p in entries) == ["north-star.yaml", "south-wind.yaml"]


def test_a_renamed_file_is_checked_against_its_new_name(registry, tmp_path):
    cache = tmp_path / "cache"
    _parses(registry, cache)
    (registry / "south-wind.yaml").rename(registry / "west-wind.yaml")
    result = load_registry([registry], cache_dir=cache)
    assert [e.where for e in result.errors] == [f"{registry / 'west-wind.yaml'}: id"]


def test_a_code_change_invalidates_every_entry(registry, tmp_path):
    cache = tmp_path / "cache"
    _parses(registry, cache)
    with mock.patch("ubertruck.registry.cache.code_digest", return_value="other code"):
        _, parsed = _parses(registry, cache)
    assert parsed == 2


@pytest.mark.parametrize("damage", ["not json", '{"entries": []}', '{"entries": {"x": 1}}'])
def test_a_damaged_cache_file_is_ignored(registry, tmp_path, damage):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / CACHE_FILE).write_text(damage)
    tenants, parsed = _parses(registry, cache)
    assert parsed == 2 and sorted(tenants) == ["north-star", "south-wind"]


def test_an_entry_edited_by_hand_is_not_trusted(registry, tmp_path):
    cache = tmp_path / "cache"
    _parses(registry, cache)
    data = json.loads((cache / CACHE_FILE).read_text())
    for entry in data["entries"].values():
        entry[1] = entry[1].replace('"tier":"standard"', '"tier":"no-such-tier"')
    (cache / CACHE_FILE).write_text(json.dumps(data))
    tenants, parsed = _parses(registry, cache)
    assert parsed == 2 and {t.tier for t in tenants.values()} == {"standard"}


def test_entries_of_deleted_files_are_dropped_on_the_next_write(registry, tmp_path):
    cache = tmp_path / "cache"
    _parses(registry, cache)
    (registry / "north-star.yaml").unlink()
    write_yaml(registry / "east-gate.yaml", valid_document("east-gate"))
    _parses(registry, cache)
    entries = json.loads((cache / CACHE_FILE).read_text())["entries"]
    assert sorted(Path(p).name for p in entries) == ["east-gate.yaml", "south-wind.yaml"]


def test_without_a_cache_directory_nothing_is_written(registry, tmp_path):
    load_registry([registry])
    assert not any(tmp_path.rglob(CACHE_FILE))


def test_the_key_covers_name_and_content():
    a = RegistryCache.key(Path("a.yaml"), b"x")
    assert a != RegistryCache.key(Path("b.yaml"), b"x")
    assert a != RegistryCache.key(Path("a.yaml"), b"y")
    assert a == RegistryCache.key(Path("/elsewhere/a.yaml"), b"x")
