"""The provider API key: read from Secrets Manager through Powertools Parameters, cached.

The secret is the one the registry names (``integration/resources.provider_secret_arn``); its
value is JSON and the key is in the field ``integration/external_apis.provider_api_key_field``
(the secrets rotation function's ``api_key`` profile writes that field). The value is cached for
the service's ``technical/cache.max_age_seconds``, so a rotated key is picked up within that time.
The key is never logged and never leaves this module except into the provider request header.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from common.errors import ConfigurationError


class ProviderApiKey:
    """Fetches and caches the provider API key with one Secrets Manager client."""

    def __init__(self, secretsmanager_client: Any) -> None:
        self._provider = SecretsProvider(boto3_client=secretsmanager_client)

    def get(self, secret_arn: str, field: str, max_age: int) -> str:
        """The API key; ``ConfigurationError`` when the secret is missing or lacks ``field``."""
        try:
            value = self._provider.get(secret_arn, max_age=max_age, transform="json")
        except (GetParameterError, TransformParameterError) as exc:
            # The reason names the error kind only: the value may be in the exception's context.
            raise ConfigurationError(f"provider API key secret unreadable ({type(exc).__name__})") from None
        key = value.get(field) if isinstance(value, dict) else None
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"provider API key secret has no non-empty field {field!r}")
        return key
