"""Payment service: authorize, capture, refund and read payments through the tenant's provider.

Handler string: ``payment.handler.lambda_handler``. Limits and currency come from
``/{tenant}/services/payment/{env}/business``; the provider endpoint and the API key's secret from
``integration``; timeouts and retries from ``global/operational``; the circuit breaker from
``technical/circuit_breakers``. See ``payment.config_schema``.
"""
