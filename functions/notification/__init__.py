"""Notification service: turns booking and payment events from the tenant's queue into messages.

Handler string: ``notification.handler.lambda_handler`` (an SQS event source with partial batch
responses). Templates, channels, amount formats, where recipients come from and how long a send is
remembered come from ``/{tenant}/services/notification/{env}/business``; the outbound topic, the
SES sender, the user pool and the bookings and idempotency tables from ``integration``. Each event
goes out at most once per channel, to a recipient from the tenant's own records. See
``notification.config_schema`` and ``notification.consumer``.
"""
