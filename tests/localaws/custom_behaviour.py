"""A behaviour registrar, named to the provider process through the behaviours variable."""

from __future__ import annotations

from typing import Any

from platformctl.localaws.behaviours import BehaviourRegistry, GenericBehaviour, Target
from platformctl.localaws.catalog import facts_for

TOPIC = "aws:sns/topic:Topic"


class MarkedTopics(GenericBehaviour):
    def create(self, target: Target, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        resource_id, state = super().create(target, inputs)
        return resource_id, {**state, "createdBy": "custom-backend"}


def register(registry: BehaviourRegistry) -> None:
    registry.register(TOPIC, MarkedTopics(facts_for(TOPIC)))
