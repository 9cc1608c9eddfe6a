"""The provider functions (``aws.get_*``) the stand-in answers: the same answers as the offline engine."""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import MockCallArgs

from ..engine.monitor import PlanMocks


class UnknownFunction(Exception):
    """An invoke token the stand-in has no answer for."""


def answer_invoke(token: str, args: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """What AWS would return for function ``token`` called in ``account`` and ``region``.

    Delegates to the offline engine's mocks so that an offline plan and a local apply see the
    same caller identity, region and partition.
    """
    mocks = PlanMocks(account, region, stack_outputs={})
    try:
        return mocks.call(MockCallArgs(token=token, args=args, provider=""))
    except NotImplementedError:
        raise UnknownFunction(f"the local AWS stand-in has no answer for function '{token}'; add it to platformctl/engine/monitor.py (PlanMocks.call)") from None
