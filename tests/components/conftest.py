"""Plans of the real program (``__main__.py``) for the component tests, made once per test run.

Each stack is planned the way ``platformctl plan`` plans it (``Planner._job``): the stack's config
(``Pulumi.yaml`` defaults, then ``Pulumi.<stack>.yaml``) plus ``ubertruck:registryDir``; the shared
stack of the environment first, then the tenant stack reading the shared outputs through its
``StackReference``. A test that needs the registry changed plans against an edited copy of
``tenants/`` (``PlanStore.with_registry_change``).

Plans are cached per process and, under ``pytest -n``, shared between the workers through files
in the run's temporary root (one worker plans a stack while the others wait for it), so each
stack is planned once per run.
"""

from __future__ import annotations

import copy
import dataclasses
import fcntl
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml

from platformctl.engine.capture import SECRET_SIG, SIG_KEY, CapturedResource
from platformctl.engine.runner import run_stack, stack_config
from ubertruck import PROJECT_ROOT
from ubertruck.atomic import write_text_atomic
from ubertruck.defaults import load_defaults
from ubertruck.registry.loader import REGISTRY_DIR, load_tenant, tenant_file
from ubertruck.settings import TenantSettings, tenant_settings
from ubertruck.stacks import StackRef, parse_stack_name, read_environment_tenant_stacks

DEFAULTS = load_defaults()
PROJECT = DEFAULTS.platform.project
ORGANIZATION = DEFAULTS.offline.organization



def account_of(environment: str) -> str:
    """The environment's AWS account (``defaults.yaml``): the one its stacks' providers pin and
    its ARNs name."""
    return DEFAULTS.environments[environment].account_id


#: The dev account, which most tests' stacks (acme-dev, the dev shared stack) live in.
DEV_ACCOUNT = account_of("dev")

#: A change to one tenant's registry file, made on its parsed YAML.
RegistryEdit = Callable[[dict[str, Any]], None]


@dataclass
class Plan:
    """One planned stack of the real program, with the look-ups the tests need."""

    stack: str
    resources: list[CapturedResource]
    outputs: dict[str, Any]
    #: Settings built afresh from the registry: the program never saw this copy, so nothing it
    #: did to its own can make an expectation agree with it. None for a shared stack.
    tenant_settings: TenantSettings | None = None
    #: The outputs of the shared stack this tenant stack read ({} for a shared stack).
    shared_outputs: dict[str, Any] = field(default_factory=dict)

    # -- the tenant -------------------------------------------------------------------------

    @property
    def settings(self) -> TenantSettings:
        if self.tenant_settings is None:
            raise AttributeError(f"{self.stack} is a shared stack: it has no tenant settings")
        return self.tenant_settings

    @property
    def prefix(self) -> str:
        return self.settings.prefix

    @property
    def environment(self) -> str:
        return parse_stack_name(self.stack, DEFAULTS.platform.environments).environment

    @property
    def account(self) -> str:
        """The account of the stack's environment."""
        return account_of(self.environment)

    def arn(self, service: str, resource: str) -> str:
        """An ARN of ``service`` in this tenant's account and region."""
        return f"arn:aws:{service}:{self.settings.region}:{self.account}:{resource}"

    @property
    def key_arn(self) -> str:
        return self.outputs["kms_key_arn"]

    @property
    def alarm_topic_arn(self) -> str:
        """The shared stack's alarm topic in this tenant's region (the one its alarms notify)."""
        return self.shared_outputs["alarm_topic_arns"][self.settings.region]

    # -- resources --------------------------------------------------------------------------

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, type_: str, name: str) -> CapturedResource:
        (match,) = [r for r in self.of_type(type_) if r.name == name]
        return match

    def by_name(self, name: str, type_: str | None = None) -> CapturedResource:
        """The one resource called ``name`` (of ``type_``, where a component shares the name)."""
        matches = [r for r in self.resources if r.name == name and (type_ is None or r.type == type_)]
        assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
        return matches[0]

    def by_urn(self, urn: str) -> CapturedResource:
        (match,) = [r for r in self.resources if r.urn == urn]
        return match

    def under(self, component_type: str) -> list[CapturedResource]:
        """Resources registered (at any depth) inside components of ``component_type``."""
        return [r for r in self.resources if f"{component_type}$" in r.urn.split("::")[2]]

    def text(self) -> str:
        """Every input of every resource, as one JSON text (for isolation checks)."""
        return json.dumps([r.wire_inputs for r in self.resources], sort_keys=True)

    def function(self, service: str, function: str) -> CapturedResource:
        return self.by_name(f"{self.prefix}-{service}-{function}", "aws:lambda/function:Function")

    # -- policies ---------------------------------------------------------------------------

    def policies(self, component_type: str) -> list[dict[str, Any]]:
        """The inline role policy documents under the component, parsed."""
        return [json.loads(r.inputs["policy"]) for r in self.under(component_type) if r.type == "aws:iam/rolePolicy:RolePolicy"]

    def role_policy(self, service: str) -> dict[str, Any]:
        """The inline policy document of the service's role."""
        return json.loads(self.by_name(f"{self.prefix}-{service}-policy").inputs["policy"])

    def grants(self, service: str) -> dict[str, set[str]]:
        """Action → the resources the service's role may use it on."""
        allowed: dict[str, set[str]] = {}
        for statement in self.role_policy(service)["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in statement["Action"]:
                allowed.setdefault(action, set()).update(statement["Resource"])
        return allowed

    # -- configuration and API --------------------------------------------------------------

    def parameter_value(self, path: str) -> str:
        """The value of the SSM parameter at ``path``, unmasked (the AWS SDK marks every
        parameter value secret, so the plain view masks them all)."""
        (param,) = [r for r in self.of_type("aws:ssm/parameter:Parameter") if r.inputs["name"] == path]
        value = param.wire_inputs["value"]
        return value["value"] if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG else value

    def published_resources(self, service: str) -> dict[str, str]:
        """What ``service`` publishes at its ``integration/resources`` parameter."""
        settings = self.settings
        return json.loads(self.parameter_value(f"/{settings.tenant_id}/services/{service}/{settings.environment}/integration/resources"))

    def routes(self, first_segment: str) -> list[str]:
        """The API's routes (``METHOD /path``) whose path starts with ``/<first_segment>``, in
        the API's stable order (``check_routes``: sorted by route key). The services' own
        order does not reach the plan: the API sorts every service's routes into one tree."""
        api = f"{self.prefix}-api-"
        keys = []
        for method in self.of_type("aws:apigateway/method:Method"):
            if method.inputs["httpMethod"] == "OPTIONS":
                continue
            name = method.name.removeprefix(api)
            verb, slash, path = name.partition("/")
            keys.append(f"{verb} {slash}{path}")
        return sorted(k for k in keys if k.split(" ", 1)[1].split("/")[1] == first_segment)


def policy_of(resource: CapturedResource, field: str = "policy") -> dict[str, Any]:
    """A policy-document input, parsed."""
    return json.loads(resource.inputs[field])


# ----------------------------------------------------------------------------- planning


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _registry_digest(registry_dir: Path) -> str:
    """The registry's content: plans of edited copies are cached on what they hold, not where."""
    return _digest(*[(p.name, p.read_text()) for p in sorted(registry_dir.iterdir()) if p.is_file()])


def stack_run_config(ref: StackRef, registry_dir: Path) -> tuple[dict[str, str], str, str]:
    """What ``platformctl plan`` gives ``ref``'s run (see ``Planner._job``): the config with
    ``registryDir``, the organization of the shared stack reference, and the default region."""
    config = stack_config(PROJECT_ROOT, ref.name)
    config[f"{PROJECT}:registryDir"] = str(registry_dir.resolve())
    organization = config.get(f"{PROJECT}:sharedStackOrganization", ORGANIZATION)
    shared_config = stack_config(PROJECT_ROOT, ref.environment)
    region = config.get("aws:region") or shared_config.get("aws:region") or DEFAULTS.platform.supported_regions[0]
    return config, organization, region


class PlanStore:
    """Plans stacks of the real program once: cached in this process and in ``cache_dir``
    (shared by the workers of one ``pytest -n`` run; None: this process only)."""

    def __init__(self, cache_dir: Path | None, scratch: pytest.TempPathFactory) -> None:
        self.cache_dir = cache_dir
        self.scratch = scratch
        self._memo: dict[str, tuple[list[CapturedResource], dict[str, Any]]] = {}

    def plan(self, stack: str, registry_dir: Path = REGISTRY_DIR) -> Plan:
        """The plan of ``stack`` with the registry at ``registry_dir``."""
        ref = parse_stack_name(stack, DEFAULTS.platform.environments)
        if ref.tenant_id is None:
            resources, outputs = self._shared_run(ref, registry_dir)
            return Plan(stack, resources, outputs)
        _, shared_outputs = self._shared_run(StackRef(name=ref.environment, environment=ref.environment), registry_dir)
        config, organization, region = stack_run_config(ref, registry_dir)
        references = {f"{organization}/{PROJECT}/{ref.environment}": shared_outputs}
        key = _digest("tenant", stack, _registry_digest(registry_dir), shared_outputs)
        resources, outputs = self._cached(key, lambda: self._run(ref, config, region, references, organization))
        settings = tenant_settings(load_tenant(tenant_file(ref.tenant_id, registry_dir)), ref.environment, DEFAULTS)
        return Plan(stack, resources, outputs, settings, shared_outputs)

    def with_registry_change(self, stack: str, tenant_id: str, edit: RegistryEdit) -> Plan:
        """The plan of ``stack`` against a copy of ``tenants/`` whose ``tenant_id`` file ``edit`` changed."""
        registry_dir = self.scratch.mktemp("registry") / "tenants"
        shutil.copytree(REGISTRY_DIR, registry_dir)
        path = tenant_file(tenant_id, registry_dir)
        document = yaml.safe_load(path.read_text())
        edit(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return self.plan(stack, registry_dir)

    def _shared_run(self, ref: StackRef, registry_dir: Path) -> tuple[list[CapturedResource], dict[str, Any]]:
        # A shared stack reads of the registry only which tenants run in its environment and
        # where; an edit that leaves that alone reuses the shared plan of the real registry.
        view = read_environment_tenant_stacks(ref.environment, DEFAULTS.platform.environments, registry_dir)
        config, organization, region = stack_run_config(ref, registry_dir)
        key = _digest("shared", ref.name, [dataclasses.astuple(s) for s in view])
        return self._cached(key, lambda: self._run(ref, config, region, {}, organization))

    @staticmethod
    def _run(
        ref: StackRef, config: dict[str, str], region: str, references: dict[str, dict[str, Any]], organization: str
    ) -> tuple[list[CapturedResource], dict[str, Any]]:
        run = run_stack(ref.name, PROJECT, account_of(ref.environment), region, references, organization, config=config)
        return run.resources, run.outputs

    def _cached(
        self, key: str, make: Callable[[], tuple[list[CapturedResource], dict[str, Any]]]
    ) -> tuple[list[CapturedResource], dict[str, Any]]:
        if key not in self._memo:
            self._memo[key] = make() if self.cache_dir is None else self._shared_file(key, make)
        return self._memo[key]

    def _shared_file(
        self, key: str, make: Callable[[], tuple[list[CapturedResource], dict[str, Any]]]
    ) -> tuple[list[CapturedResource], dict[str, Any]]:
        assert self.cache_dir is not None
        path = self.cache_dir / f"{key}.json"
        with (self.cache_dir / f"{key}.lock").open("w") as lock:
            # Whoever takes the lock first plans; the others wait, then read its file.
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.is_file():
                resources, outputs = make()
                write_text_atomic(path, json.dumps({"resources": [r.to_dict() for r in resources], "outputs": outputs}))
        stored = json.loads(path.read_text())
        return [CapturedResource.from_dict(r) for r in stored["resources"]], stored["outputs"]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def plans(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> PlanStore:
    """The run's plans. Under xdist every worker's temporary root sits in one folder per run."""
    if hasattr(request.config, "workerinput"):
        cache_dir = tmp_path_factory.getbasetemp().parent / "component-plans"
        cache_dir.mkdir(exist_ok=True)
        return PlanStore(cache_dir, tmp_path_factory)
    return PlanStore(None, tmp_path_factory)


def _stack_fixture(stack: str) -> Any:
    """A session fixture: the plan of ``stack`` with the real registry."""

    @pytest.fixture(scope="session")
    def plan(plans: PlanStore) -> Plan:
        return plans.plan(stack)

    return plan


shared_dev = _stack_fixture("dev")
shared_prod = _stack_fixture("prod")
acme_dev = _stack_fixture("acme-dev")
acme_prod = _stack_fixture("acme-prod")
globex_dev = _stack_fixture("globex-dev")
initech_dev = _stack_fixture("initech-dev")


@pytest.fixture(scope="session")
def plan(acme_dev: Plan) -> Plan:
    """The stack the business services' tests read (acme in dev)."""
    return acme_dev


@pytest.fixture(params=["acme_dev", "globex_dev", "initech_dev"])
def any_plan(request: pytest.FixtureRequest) -> Iterator[Plan]:
    yield request.getfixturevalue(request.param)


# ----------------------------------------------------------------------------- settings only


def settings_for(tenant_id: str, environment: str) -> TenantSettings:
    """``<tenant_id>-<environment>``'s settings from the real registry (for unit checks that
    build a ``TenantContext`` without planning)."""
    return tenant_settings(load_tenant(tenant_file(tenant_id)), environment, DEFAULTS)


def with_config(settings: TenantSettings, change: Callable[[dict[str, Any]], None]) -> TenantSettings:
    """``settings`` with ``change`` applied to a copy of its merged config tree."""
    config = copy.deepcopy(settings.config)
    change(config)
    return dataclasses.replace(settings, config=config)
