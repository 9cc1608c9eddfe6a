"""The payment service's own failures, in the shape of the error standard (``common.errors``).

    402 PaymentDeclined           the provider declined the payment (a business outcome, not a fault)
    502 ProviderError             the provider refused a request retrying cannot fix
    502 ProviderAnswerUnreadable  the provider answered, but not with a result we can read: the
                                  operation may have happened, so its record stays pending
    503 ProviderUnavailable       the provider did not answer after every retry, or its circuit is
                                  open; answered with ``Retry-After`` like every 503

>>> ProviderUnavailable("payment provider unavailable").status_code
503
"""

from __future__ import annotations

from http import HTTPStatus

from common.errors import ServiceError, ServiceUnavailable


class PaymentDeclined(ServiceError, status_code=HTTPStatus.PAYMENT_REQUIRED.value, code="payment_declined", metric="PaymentDeclined"):
    """The provider declined; the body says so without the provider's raw answer."""


class ProviderError(ServiceError, status_code=HTTPStatus.BAD_GATEWAY.value, code="provider_error", metric="ProviderError"):
    """The provider rejected the request itself (not the payment)."""


class ProviderAnswerUnreadable(ProviderError, status_code=HTTPStatus.BAD_GATEWAY.value, code="provider_error", metric="ProviderError"):
    """The provider's success answer could not be read: whether it acted is unknown."""


class ProviderUnavailable(ServiceUnavailable, status_code=HTTPStatus.SERVICE_UNAVAILABLE.value, code="provider_unavailable", metric="ProviderUnavailable"):
    """The provider cannot be reached now; the client may retry with the same Idempotency-Key."""
