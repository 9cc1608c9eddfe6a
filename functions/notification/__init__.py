"""Notification service: turns booking and payment events from the tenant's queue into messages.

Handler string: ``notification.handler.lambda_handler`` (an SQS event source with partial batch
responses). Templates, channels and amount formats come from
``/{tenant}/services/notification/{env}/business``; the outbound topic and the SES sender from
``integration``. See ``notification.config_schema``.
"""
