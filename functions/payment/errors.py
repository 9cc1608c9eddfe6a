"""The payment service's own failures, in the shape of the error standard (``common.errors``).

    402 PaymentDeclined       the provider declined the payment (a business outcome, not a fault)
    502 ProviderError         the provider refused a request retrying cannot fix
    503 ProviderUnavailable   the provider did not answer after every retry, or its circuit is open

>>> ProviderUnavailable("payment provider unavailable").status_code
503
"""

from __future__ import annotations

from http import HTTPStatus

from common.errors import ServiceError


class PaymentDeclined(ServiceError, status_code=HTTPStatus.PAYMENT_REQUIRED.value, code="payment_declined", metric="PaymentDeclined"):
    """The provider declined; the body says so without the provider's raw answer."""


class ProviderError(ServiceError, status_code=HTTPStatus.BAD_GATEWAY.value, code="provider_error", metric="ProviderError"):
    """The provider rejected the request itself (not the payment)."""


class ProviderUnavailable(ServiceError, status_code=HTTPStatus.SERVICE_UNAVAILABLE.value, code="provider_unavailable", metric="ProviderUnavailable"):
    """The provider cannot be reached now; the client may retry with the same Idempotency-Key."""
