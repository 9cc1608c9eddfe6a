"""Auth service: the tenant's Lambda REQUEST authorizer for its REST API.

Handler string: ``auth.handler.lambda_handler``.
"""
