"""``platformctl payments reconcile``: settle a tenant stack's unfinished payment operations.

``--stack <tenant>-<env>`` names the tenant stack. The command runs the very reconciler the
stack's scheduled function runs (``functions/payment/reconciliation.py``, loaded through
``ubertruck.contracts.load_function_module``), with the operator's AWS credentials (the usual
boto3 chain: ``AWS_PROFILE``, environment, SSO) in the tenant's region, against what the
function itself uses: the payment config in the tenant's SSM namespace (its published
``integration/resources`` name the payments table, the events topic and the provider's API key
secret), and the provider's HTTPS API.

``--older-than MINUTES`` settles operations started at least that long ago (default: the
tenant's ``technical.reconciliation.settle_after_minutes``; 0 takes every unfinished one);
``--dry-run`` asks the provider nothing and writes nothing, and shows what would be settled.
At most ``technical.reconciliation.max_operations_per_run`` operations are taken per run.

Prints a table of what it did with each operation. Exit codes: 0 every operation was settled
(or nothing was unfinished), 1 some are still pending (the provider could not answer; run it
again later), 2 bad input (an unknown stack, a shared stack, unreadable config, AWS refusing the
credentials): one line saying what, never a secret.

Wired into the CLI by ``register(app)``.
"""

from __future__ import annotations

import logging
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Optional

import typer
from rich.console import Console
from rich.table import Table

from ubertruck.contracts import load_function_module, payment_schema
from ubertruck.defaults import load_defaults
from ubertruck.errors import EXIT_VIOLATIONS, UserError
from ubertruck.registry.loader import REGISTRY_DIR
from ubertruck.settings import tenant_settings
from ubertruck.stacks import resolve_stack

SERVICE = "payment"

app = typer.Typer(help="The payment service's operator side: settle unfinished operations.", no_args_is_help=True)

#: How the provider is reached: HTTPS as in Lambda (a test hands in a transport to its fake).
provider_opener: Callable[..., Any] = urllib.request.urlopen


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="payments")


def _console() -> Console:
    # Made per call: Rich reads the terminal width (COLUMNS) when a console is created.
    return Console(highlight=False, soft_wrap=True)


@app.command("reconcile")
def reconcile(
    stack: str = typer.Option(..., "--stack", metavar="TENANT-ENV", help="The tenant stack, <tenant>-<env>."),
    older_than: Optional[int] = typer.Option(
        None, "--older-than", metavar="MINUTES", min=0, help="Settle operations started at least this long ago (default: the tenant's settle_after_minutes)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be settled; ask the provider nothing and write nothing."),
    registry: Path = typer.Option(REGISTRY_DIR, "--registry", help="The tenant registry folder."),
) -> None:
    """Settle the stack's unfinished payment authorizations, captures and refunds."""
    defaults = load_defaults()
    ref, tenant = resolve_stack(stack, defaults.platform.environments, registry)
    if tenant is None:
        raise UserError(f"stack '{stack}'", "is a shared stack; payments belong to tenant stacks <tenant>-<env>")
    settings = tenant_settings(tenant, ref.environment, defaults)
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    try:
        outcomes = _run(tenant.id, ref.environment, settings.region, older_than, dry_run)
    except (BotoCoreError, ClientError) as exc:
        raise UserError(f"stack '{stack}'", f"AWS refused or could not be reached ({type(exc).__name__}): {exc}") from None
    except load_function_module("common", "errors").ConfigurationError as exc:
        raise UserError(f"stack '{stack}'", f"the payment service cannot be used: {exc}") from None
    _print(outcomes, dry_run)
    if any(outcome.action == _reconciliation().STILL_PENDING for outcome in outcomes):
        raise typer.Exit(EXIT_VIOLATIONS)


def _reconciliation() -> Any:
    return load_function_module(SERVICE, "reconciliation")


def _run(tenant_id: str, environment: str, region: str, older_than: Optional[int], dry_run: bool) -> list[Any]:
    """The reconciler's outcomes for one tenant environment, with this process's AWS session."""
    import boto3  # type: ignore[import-untyped]

    reconciliation = _reconciliation()
    config_client = load_function_module("common", "config_client")
    session = boto3.session.Session(region_name=region)
    client = config_client.ConfigurationClient(
        SERVICE,
        environment,
        schema=payment_schema.PaymentConfig,
        tenant_id=tenant_id,
        provider=load_function_module("common", "ssm_provider").DescribedSSMProvider(boto3_client=session.client("ssm")),
        logger=_quiet_logger(),
    )
    service, global_snapshot = client.service_config(), client.global_config()
    aws_config = load_function_module("common", "aws_clients").botocore_config(global_snapshot.model.operational)
    payments = reconciliation.TenantPayments(
        tenant_id=tenant_id,
        config=service.model,
        global_config=global_snapshot.model,
        config_version=service.version,
        dynamodb=session.client("dynamodb", config=aws_config),
        sns=session.client("sns", config=aws_config),
        api_key=load_function_module(SERVICE, "api_key").ProviderApiKey(session.client("secretsmanager", config=aws_config)),
        provider=load_function_module(SERVICE, "provider").ProviderClient(breaker=load_function_module(SERVICE, "circuit_breaker").CircuitBreaker(), opener=provider_opener),
    )
    rules = service.model.technical.reconciliation
    minutes = rules.settle_after_minutes if older_than is None else older_than
    return list(
        reconciliation.tenant_reconciler(payments).run(
            now=datetime.now(timezone.utc), older_than=timedelta(minutes=minutes), limit=rules.max_operations_per_run, dry_run=dry_run
        )
    )


def _quiet_logger() -> Any:
    """The config client's logger: errors only, to stderr (stdout holds the table). Its warning
    about a missing config tree says what the one ``error:`` line says already."""
    from aws_lambda_powertools import Logger

    return Logger(service=SERVICE, level=logging.ERROR, logger_handler=logging.StreamHandler(sys.stderr))


def _print(outcomes: list[Any], dry_run: bool) -> None:
    console = _console()
    if not outcomes:
        console.print("no unfinished payment operations to settle")
        return
    table = Table("payment", "operation", "refund", "started", "action", "status", "detail", title="payment operations" + (" (dry run)" if dry_run else ""))
    for outcome in outcomes:
        table.add_row(outcome.payment_id, outcome.operation, outcome.refund_id or "", outcome.started_at, outcome.action, outcome.status, outcome.detail)
    console.print(table)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
    console.print(f"{len(outcomes)} operation(s): " + ", ".join(f"{count} {action}" for action, count in sorted(counts.items())))
