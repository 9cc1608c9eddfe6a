"""Payment service: authorize, capture, refund and read payments through the tenant's provider.

Handler strings: ``payment.handler.lambda_handler`` (the API) and
``payment.reconciler.lambda_handler`` (the scheduled reconciler of unfinished operations). Limits
and currency come from ``/{tenant}/services/payment/{env}/business``; the provider endpoint and
the API key's secret from ``integration``; timeouts and retries from ``global/operational``; the
circuit breaker and the reconciler's schedule from ``technical``. See ``payment.config_schema``.
"""
