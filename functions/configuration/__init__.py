"""Configuration service: the config read API, ``GET /config/{path+}``, over the caller's own tenant namespace.

Handler string: ``configuration.handler.lambda_handler``.
"""
