"""Offboarding: a tenant's data outlives its stack until its compliance retention ends.

While a stack is being offboarded (stack config ``ubertruck:offboarding``), every resource of
the retained types (defaults.yaml ``offboarding.retained_types``: the tables, among them the
audit table, and the tenant's KMS key) is registered with ``retain_on_delete``. The destroy
that follows then removes them from the stack but leaves them in the account, where
``platformctl offboard`` records them until the retention ends.
"""

from __future__ import annotations

from typing import Iterable

import pulumi


def retain_on_delete(types: Iterable[str]) -> None:
    """From now on, register resources of ``types`` with ``retain_on_delete=True``."""
    retained = frozenset(types)

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ not in retained:
            return None
        return pulumi.ResourceTransformResult(
            props=args.props, opts=pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(retain_on_delete=True))
        )

    pulumi.runtime.register_resource_transform(transform)
