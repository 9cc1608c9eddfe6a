"""Property tests: whatever a registry file holds, the loader answers with a Tenant or with
one-line ``UserError`` s, never a crash; valid documents round-trip; ``deep_merge`` keeps its
promises (override wins, untouched keys kept, inputs untouched)."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ubertruck.defaults import load_defaults
from ubertruck.errors import UserError, UserErrors
from ubertruck.registry import Tenant, load_tenant
from ubertruck.registry.loader import parse_tenant
from ubertruck.registry.secrets import secret_shape
from ubertruck.registry.starter import starter_document
from ubertruck.safe_yaml import load_text
from ubertruck.settings import deep_merge

from .support import valid_document

DEFAULTS = load_defaults()
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHERE = "tenants/north-star.yaml"


def _check_outcome(data: Any, where: str = WHERE) -> None:
    """The loader's contract: a Tenant, or UserError(s) whose every line names ``where``."""
    try:
        tenant = parse_tenant(data, where, expected_id="north-star")
    except UserErrors as exc:
        assert exc.errors
        for error in exc.errors:
            _check_error(error, where)
        return
    except UserError as exc:
        _check_error(exc, where)
        return
    assert isinstance(tenant, Tenant)
    assert tenant.id == "north-star"


def _check_error(error: UserError, where: str) -> None:
    assert "\n" not in str(error), str(error)
    assert str(error).startswith(where)


# --- random documents --------------------------------------------------------------------------

FIELD_NAMES = st.sampled_from(
    ["id", "display_name", "tier", "region", "contacts", "environments", "compliance", "config", "secrets", "policy",
     "global", "services", "security", "residency", "allowed_regions", "secret_name", "dev", "prod", "booking", "dict", "list"]
)
KEYS = FIELD_NAMES | st.text(max_size=12)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.dates()
    | st.sampled_from(["dev", "prod", "basic", "ap-south-1", "north-star", "AKIAIOSFODNN7EXAMPLE", "2024-01-01"])
)
DATA = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=25,
)


@PROPERTY_SETTINGS
@given(DATA)
def test_random_data_never_crashes_the_loader(data):
    _check_outcome(data)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document with one place replaced, removed or added: reaches the deep validators."""
    document = valid_document()
    path = draw(st.sampled_from(_paths(document)))
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[path[-1]] = draw(DATA)
    elif action == "remove":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(KEYS)] = draw(DATA)
    else:
        parent.append(draw(DATA))
    return document


@PROPERTY_SETTINGS
@given(mutated_documents())
def test_a_valid_document_with_any_one_change_never_crashes_the_loader(document):
    _check_outcome(document)


YAML_FRAGMENTS = st.sampled_from(
    ["\n", "  ", ": ", "- ", "? ", "{", "}", "[", "]", ",", "&a ", "*a", "!!", "!Ref ", "!!python/name:os.system",
     "!!int ", "!!binary ", "|\n", ">-\n", "'", '"', "#", "---\n", "...\n", "%YAML 1.1\n", "<<: ", "\t", "\\", "\x00",
     "id: north-star\n", "tier: ", "0x1F", "1e400", ".nan", "~", "yes", "2024-13-45"]
)
YAML_TEXT = st.lists(YAML_FRAGMENTS | st.text(max_size=10), max_size=30).map("".join)


@PROPERTY_SETTINGS
@given(YAML_TEXT)
def test_random_yaml_text_never_crashes_the_loader(text):
    try:
        data = load_text(text, WHERE)
    except UserError as exc:
        _check_error(exc, WHERE)
        return
    _check_outcome(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200) | YAML_TEXT.map(lambda t: t.encode("utf-8", errors="surrogatepass")))
def test_random_bytes_in_a_file_never_crash_the_loader(tmp_path, raw):
    path = tmp_path / "north-star.yaml"
    path.write_bytes(raw)
    try:
        tenant = load_tenant(path)
    except UserErrors as exc:
        for error in exc.errors:
            _check_error(error, str(path))
    except UserError as exc:
        _check_error(exc, str(path))
    else:
        assert tenant.id == "north-star"


# --- valid documents round-trip ---------------------------------------------------------------

# Ids shaped like real ones (words, digits, hyphens). Any DNS label is a valid id, but a long
# random-looking one (`x7k2q9...`) is, by design, indistinguishable from a pasted token once it
# is part of a secret name, and the secret check refuses it.
TENANT_IDS = st.from_regex(r"[a-z][a-z0-9]{0,9}(-[a-z0-9]{1,6}){0,3}", fullmatch=True).filter(
    lambda i: i not in DEFAULTS.platform.reserved_tenant_ids
)
PLAIN_TEXT = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N", "P", "Zs", "S")), min_size=1, max_size=30
).filter(lambda s: secret_shape(s) is None and s.strip() == s and s != "")


def _config_leaves(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict) and node:
        return [leaf for key, value in node.items() for leaf in _config_leaves(value, (*path, key))]
    return [(path, node)]


#: Every entry the platform defaults set, with its default value: a tenant may restate any of
#: them (values are checked against the services' schemas, so random keys would be refused).
CONFIG_LEAVES = _config_leaves(DEFAULTS.tenant_config)


def _tree(leaves: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path, value in leaves:
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = copy.deepcopy(value)
    return tree


CONFIG_LAYER = st.lists(st.sampled_from(CONFIG_LEAVES), max_size=4).map(_tree)


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    platform = DEFAULTS.platform
    allowed = draw(st.lists(st.sampled_from(platform.supported_regions), min_size=1, unique=True))
    tenant_id = draw(TENANT_IDS)
    envs = draw(st.lists(st.sampled_from(platform.environments), min_size=1, unique=True))
    return {
        "id": tenant_id,
        "display_name": draw(PLAIN_TEXT),
        "tier": draw(st.sampled_from(sorted(DEFAULTS.tiers))),
        "region": draw(st.sampled_from(allowed)),
        "contacts": [{"name": draw(PLAIN_TEXT), "email": f"ops@{tenant_id}.example", "role": "owner"}],
        "environments": envs,
        "compliance": {
            "data_retention_days": draw(st.integers(DEFAULTS.compliance.minimum_data_retention_days, 3653)),
            "audit": {"enabled": draw(st.booleans())},
            "residency": {"allowed_regions": allowed},
        },
        "config": {
            **draw(CONFIG_LAYER),
            "environments": {env: draw(CONFIG_LAYER) for env in envs},
        },
        "secrets": {"provider_key": {"secret_name": f"{tenant_id}/provider/key"}},
        "policy": {
            "exemptions": [
                {"policy": "some-policy", "reason": "accepted risk, reviewed", "expires": draw(st.dates(dt.date(2000, 1, 1)))}
            ]
        },
    }


def _as_file(document: dict[str, Any]) -> str:
    """Block-style YAML, keys in document order, the way `tenants new` and people write files."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_documents())
def test_a_valid_document_round_trips_through_yaml(document):
    where = f"tenants/{document['id']}.yaml"
    tenant = parse_tenant(load_text(_as_file(document), where), where, expected_id=document["id"])
    assert tenant == Tenant.model_validate(document)
    # And the typed model, written back out, is the same tenant again.
    again = parse_tenant(load_text(_as_file(tenant.model_dump(by_alias=True)), where), where, expected_id=tenant.id)
    assert again == tenant


@PROPERTY_SETTINGS
@given(
    TENANT_IDS,
    st.sampled_from(sorted(DEFAULTS.tiers)),
    st.sampled_from(DEFAULTS.platform.supported_regions),
)
def test_the_starter_document_is_valid_for_any_valid_id_tier_and_region(tenant_id, tier, region):
    where = f"tenants/{tenant_id}.yaml"
    tenant = parse_tenant(load_text(starter_document(tenant_id, tier, region), where), where, expected_id=tenant_id)
    assert (tenant.id, tenant.tier, tenant.region) == (tenant_id, tier, region)
    assert tenant.environments == [DEFAULTS.platform.environments[0]]


# --- deep_merge ---------------------------------------------------------------------------------

MERGE_KEYS = st.sampled_from(list("abcde"))
TREES = st.recursive(
    st.integers(0, 9) | st.text(max_size=3) | st.lists(st.integers(0, 9), max_size=2),
    lambda children: st.dictionaries(MERGE_KEYS, children, max_size=4),
    max_leaves=15,
)
MAPPINGS = st.dictionaries(MERGE_KEYS, TREES, max_size=4)


def _leaves(node: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every non-mapping value of a tree, by its key path."""
    found: dict[tuple[str, ...], Any] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            found.update(_leaves(value, (*prefix, key)))
        else:
            found[(*prefix, key)] = value
    return found


def _at(tree: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _touched(override: dict[str, Any], path: tuple[str, ...]) -> bool:
    """Whether ``override`` names ``path`` or replaces one of its ancestors."""
    node: Any = override
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return not isinstance(node, dict)
        node = node[key]
    return True


@settings(max_examples=200, deadline=None)
@given(MAPPINGS, MAPPINGS)
def test_deep_merge_override_wins_and_untouched_keys_are_kept(base, override):
    base_before, override_before = copy.deepcopy(base), copy.deepcopy(override)
    merged = deep_merge(base, override)

    for path, value in _leaves(override).items():
        assert _at(merged, path) == value, path
    for path, value in _leaves(base).items():
        if not _touched(override, path):
            assert _at(merged, path) == value, path
    assert set(merged) == set(base) | set(override)
    # Neither input is changed, and the result shares no mutable part with them.
    assert (base, override) == (base_before, override_before)
    for value in merged.values():
        if isinstance(value, (dict, list)):
            value.clear()
    assert (base, override) == (base_before, override_before)


@settings(max_examples=100, deadline=None)
@given(MAPPINGS)
def test_deep_merge_with_nothing_or_itself_is_the_identity(tree):
    assert deep_merge(tree, {}) == tree
    assert deep_merge({}, tree) == tree
    assert deep_merge(tree, tree) == tree


def test_merge_order_of_a_shipped_tenant_matches_the_documented_layers():
    """defaults < env defaults < tenant config < tenant per-env config (see settings.py)."""
    from ubertruck.registry import load_tenant as load
    from ubertruck.settings import merged_config

    tenant = load(Path(__file__).resolve().parents[2] / "tenants" / "acme.yaml")
    prod = merged_config(tenant, "prod", DEFAULTS)
    dev = merged_config(tenant, "dev", DEFAULTS)
    booking_prod = prod["services"]["booking"]["technical"]["scaling_policies"]
    # Tenant per-env override beats the tenant's and the platform's values...
    assert booking_prod["memory_mb"] == tenant.config.environments["prod"].services["booking"].technical["scaling_policies"]["memory_mb"]
    # ...but only in that environment.
    assert dev["services"]["booking"]["technical"]["scaling_policies"]["memory_mb"] == (
        DEFAULTS.tenant_config["services"]["booking"]["technical"]["scaling_policies"]["memory_mb"]
    )
    # Platform per-env defaults beat platform defaults.
    prod_timeouts = DEFAULTS.environments["prod"].tenant_config["global"]["operational"]["timeouts"]
    assert prod["global"]["operational"]["timeouts"]["function_timeout_seconds"] == prod_timeouts["function_timeout_seconds"]
    # Keys nobody overrides survive every layer.
    assert prod["global"]["operational"]["timeouts"]["authorizer_ttl_seconds"] == (
        DEFAULTS.tenant_config["global"]["operational"]["timeouts"]["authorizer_ttl_seconds"]
    )
