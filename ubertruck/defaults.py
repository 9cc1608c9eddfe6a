"""The platform defaults (``defaults.yaml``), typed.

Every value with no other home lives in that one file; this module only gives it a type so a
typo there fails loudly at load time instead of deep inside a component.

>>> from ubertruck.defaults import load_defaults
>>> "dev" in load_defaults().platform.environments
True
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import PROJECT_ROOT
from .errors import UserError, UserErrors
from .safe_yaml import load_file

DEFAULTS_FILE = PROJECT_ROOT / "defaults.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PlatformSection(_Strict):
    project: str
    environments: list[str]
    tenant_id_max_length: int
    reserved_tenant_ids: list[str]
    allowed_env_vars: list[str]
    supported_regions: list[str]
    services: list[str]
    sensitive_config: list[str]
    lambda_runtime: str
    lambda_architecture: str
    tenant_tag: str


class OfflineSection(_Strict):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)
    aws_provider_version: str
    organization: str
    policy_pack_startup_seconds: float
    policy_pack_shutdown_seconds: float
    gc_young_threshold: int
    pack_fast_paths_env_var: str
    pack_sdk_path_report_env_var: str


class EngineSection(_Strict):
    tools_dir: str
    tools_env_var: str
    state_dir: str
    backend_env_var: str
    passphrase_env_var: str
    default_secrets_provider: str
    operation_timeout_seconds: int
    parallel: int
    local_skip_checkpoints: bool
    failures: dict[str, list[str]]
    generic_errors: list[str]


class LocalAwsSection(_Strict):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)
    store_env_var: str
    store_default_subdir: str
    faults_file: str
    transient_error: str
    default_account_id: str
    autoname_suffix_length: int
    server_threads: int
    shutdown_grace_seconds: float
    install_timeout_seconds: float
    max_message_bytes: int
    orphan_check_seconds: float
    behaviours_env_var: str


class OffboardingSection(_Strict):
    retained_types: list[str]
    retention_dir: str
    audit_file: str


class ServiceSection(_Strict):
    """The provisioning service (``platformctl/service``): its job store, tokens and audit trail."""

    database_file: str
    database_url_env_var: str
    sqlite_busy_timeout_ms: int
    postgres_connect_timeout_seconds: int
    audit_file: str
    token_prefix: str
    token_id_prefix: str
    token_secret_bytes: int = Field(ge=16)
    #: At most 32: the salt column holds 64 hex characters.
    token_salt_bytes: int = Field(ge=8, le=32)
    #: At most 24: the job store's id columns hold 64 characters (tok_ or job_ and two hex digits a byte).
    id_bytes: int = Field(ge=4, le=24)
    token_label_max_length: int
    token_max_expiry_days: int
    server_host: str
    server_port: int = Field(ge=1, le=65535)
    server_workers: int = Field(ge=1)
    server_read_threads: int = Field(ge=1)
    max_body_bytes: int = Field(ge=1024)
    events_poll_seconds: float = Field(gt=0)
    events_output_batch_lines: int = Field(ge=1)
    queue_file: str
    queue_name: str = Field(min_length=1)
    redis_url_env_var: str
    workers: int = Field(ge=1)
    worker_poll_max_seconds: float = Field(gt=0)
    task_retries: int = Field(ge=0)
    task_retry_delay_seconds: float = Field(ge=0)
    task_retry_backoff: float = Field(ge=1)
    runs_dir: str
    gate_dir: str
    registry_cache_dir: str


class TierSettings(_Strict):
    #: Requests per second; API Gateway takes a rate as a number with a fraction.
    throttle_rate_limit: float
    throttle_burst_limit: int
    quota_limit: int
    quota_period: str


#: An AWS account id: twelve digits (quoted in YAML, so a leading zero survives).
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"


class EnvironmentSettings(_Strict):
    #: The environment's AWS account: every provider of its stacks pins it (allowedAccountIds).
    account_id: str = Field(pattern=ACCOUNT_ID_PATTERN)
    log_level: str
    deletion_protection: bool
    kms_deletion_window_days: int
    secret_recovery_window_days: int
    tenant_config: dict[str, Any] = Field(default_factory=dict)


class ComplianceSection(_Strict):
    cloudwatch_retention_days: list[int]
    default_data_retention_days: int
    minimum_data_retention_days: int


class SharedSection(_Strict):
    alarm_topic_suffix: str
    dashboard_suffix: str
    artifact_retention_days: int
    platform_key_suffix: str
    log_retention_days: int
    dashboard_period_seconds: int


class PipelineSection(_Strict):
    build_image: str
    build_compute_type: str
    build_environment_type: str
    python_version: str
    pulumi_version: str
    build_timeout_minutes: dict[str, int]
    queued_timeout_minutes: int
    approval_environments: list[str]
    health_check_minutes: int
    execution_mode: str


class RolloutRetrySection(_Strict):
    max_attempts: int
    backoff_base_seconds: float
    backoff_factor: float
    backoff_max_seconds: float
    jitter_fraction: float


class RolloutSection(_Strict):
    """Waves of ``platformctl preview|up|destroy|refresh --all`` (``platformctl/apply``)."""

    tier_order: list[str]
    concurrency: int
    #: An integer is a count of failed stacks per wave, a float a fraction of the wave.
    failure_threshold: int | float
    retry: RolloutRetrySection
    log_root: str
    report_file: str


class ArtifactsSection(_Strict):
    """Lambda artifacts (``platformctl package``): where they go, the wheels, Lambda's limits."""

    output_dir: str
    wheelhouse_dir: str
    requirements_file: str
    common_package: str
    #: Lambda architecture -> the manylinux platform tags pip may choose wheels for.
    wheel_platforms: dict[str, list[str]]
    python_implementation: str
    max_zipped_bytes: int
    max_unzipped_bytes: int
    #: (year, month, day, hour, minute, second) of every zip entry.
    zip_timestamp: list[int] = Field(min_length=6, max_length=6)
    zip_file_mode: int
    zip_compression_level: int
    hash_length: int
    exclude: list[str]
    download_timeout_seconds: int


class PlatformDefaults(_Strict):
    platform: PlatformSection
    offline: OfflineSection
    engine: EngineSection
    offboarding: OffboardingSection
    service: ServiceSection
    localaws: LocalAwsSection
    tiers: dict[str, TierSettings]
    environments: dict[str, EnvironmentSettings]
    compliance: ComplianceSection
    shared: SharedSection
    #: Defaults of the policy packs' own parameters (read by ``policies/rules``; free-form here).
    policy: dict[str, Any]
    pipeline: PipelineSection
    rollout: RolloutSection
    artifacts: ArtifactsSection
    tenant_config: dict[str, Any]

    def log_retention_for(self, data_retention_days: int) -> int:
        """The smallest CloudWatch retention that keeps logs at least ``data_retention_days``."""
        for allowed in self.compliance.cloudwatch_retention_days:
            if allowed >= data_retention_days:
                return allowed
        return self.compliance.cloudwatch_retention_days[-1]


def parse_defaults(data: Any, where: str) -> PlatformDefaults:
    """Validate a defaults document; every declared environment must have settings."""
    try:
        defaults = PlatformDefaults.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{where}: {field}", first["msg"]) from None
    missing = set(defaults.platform.environments) - set(defaults.environments)
    if missing:
        raise UserError(f"{where}: environments", f"no settings for declared environment(s) {sorted(missing)}")
    errors = tenant_config_errors(defaults, where)
    if errors:
        raise UserErrors(errors)
    return defaults


def tenant_config_errors(defaults: PlatformDefaults, where: str) -> list[UserError]:
    """``tenant_config``, with each environment's layer over it, against the services' config
    schemas: the defaults every tenant inherits must be valid on their own."""
    # Imported here: the settings module imports this one.
    from .settings import complete_tree, config_problems, deep_merge

    platform = defaults.platform
    errors: dict[str, UserError] = {}
    for environment in platform.environments:
        layer = defaults.environments[environment].tenant_config
        tree = complete_tree(deep_merge(defaults.tenant_config, layer), platform.services)
        for problem in config_problems(tree, platform.services, environment, platform.sensitive_config):
            node: Any = layer
            for part in problem.loc:
                node = node.get(part) if isinstance(node, dict) else None
            # Reported where the value is set: the environment's layer when it sets the entry.
            field = f"environments.{environment}.tenant_config.{problem.dotted}" if node is not None else f"tenant_config.{problem.dotted}"
            errors.setdefault(field, UserError(f"{where}: {field}", problem.problem))
    return list(errors.values())


@lru_cache(maxsize=4)
def load_defaults(path: Path = DEFAULTS_FILE) -> PlatformDefaults:
    """Load and cache the defaults file."""
    return parse_defaults(load_file(path), str(path))
