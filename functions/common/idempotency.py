"""Run an operation at most once per idempotency key: Powertools idempotency on DynamoDB.

The idempotency table comes from the service's ``integration/resources`` and the record lifetime
from its config, so both are only known per request; persistence layers are therefore built on
first use and kept per (table, lifetime). The key is scoped to the tenant and the user, so two
users who happen to pick the same key never see each other's result. The request payload is
validated too: the same key with a different payload is a conflict, not a replay.

Table layout: Powertools defaults (hash key ``id``, TTL attribute ``expiration``).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError, IdempotencyValidationError

from .errors import Conflict

Operation = Callable[[Mapping[str, Any]], dict[str, Any]]
_KEY_FIELD = "key"
_PAYLOAD_FIELD = "payload"
_DATA_ARGUMENT = "request"


class IdempotentCall:
    """Runs operations through Powertools ``idempotent_function`` with per-call configuration."""

    def __init__(self, dynamodb_client: Any, *, key_prefix: str) -> None:
        self._client = dynamodb_client
        self._key_prefix = key_prefix
        self._layers: dict[tuple[str, int], DynamoDBPersistenceLayer] = {}

    def run(
        self,
        operation: Operation,
        *,
        table: str,
        key: Mapping[str, str],
        payload: Mapping[str, Any],
        expires_after_seconds: int,
        lambda_context: Any,
    ) -> dict[str, Any]:
        """``operation(payload)`` the first time ``key`` is seen, its stored result afterwards.

        Raises ``Conflict`` when ``key`` was used with another payload, or is still in progress.
        """
        config = IdempotencyConfig(
            event_key_jmespath=_KEY_FIELD,
            payload_validation_jmespath=_PAYLOAD_FIELD,
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
        )
        if lambda_context is not None:
            # Lets Powertools expire an in-progress record when the invocation times out.
            config.register_lambda_context(lambda_context)

        def call(request: Mapping[str, Any]) -> dict[str, Any]:
            return operation(request[_PAYLOAD_FIELD])

        guarded = idempotent_function(
            call,
            data_keyword_argument=_DATA_ARGUMENT,
            persistence_store=self._layer(table, expires_after_seconds),
            config=config,
            key_prefix=self._key_prefix,
        )
        try:
            return guarded(**{_DATA_ARGUMENT: {_KEY_FIELD: dict(key), _PAYLOAD_FIELD: dict(payload)}})
        except IdempotencyValidationError:
            raise Conflict("this Idempotency-Key was already used for a different request") from None
        except IdempotencyAlreadyInProgressError:
            raise Conflict("a request with this Idempotency-Key is still in progress") from None

    def _layer(self, table: str, expires_after_seconds: int) -> DynamoDBPersistenceLayer:
        # Powertools configures a layer once, on first use; a new lifetime needs a new layer.
        layer = self._layers.get((table, expires_after_seconds))
        if layer is None:
            layer = DynamoDBPersistenceLayer(table_name=table, boto3_client=self._client)
            self._layers[(table, expires_after_seconds)] = layer
        return layer
