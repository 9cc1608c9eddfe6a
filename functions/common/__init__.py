"""Shared library of the UberTruck platform functions, shipped to Lambda as a layer.

Each module holds one utility; import what you need from its module:

>>> from common.environment import FunctionEnvironment
>>> FunctionEnvironment.parse_config_url("ssm:///acme")
'acme'

Modules:
    environment      the four environment variables a function may read, parsed
    config_schema    pydantic models of the global config and the base of service schemas
    ssm_provider     Powertools SSMProvider that keeps each parameter's type and version
    fallback         the packaged ``fallback.json`` the config client falls back to
    config_client    ``ConfigurationClient(service, environment).get_config(path)``
    aws_clients      boto3 clients whose timeouts and retries come from config
    observability    Logger, Metrics and Tracer for one function, metric names
    errors           the error standard: exceptions mapped to 400/403/404/409/500
    tenant           tenant context from the authorizer, own-tenant check
    authorization    role -> operation checks from ``authorization_policies``
    audit            one audit record per operation, into the tenant's audit table
    request_scope    what one API request carries from the runtime to its route
    validation       request body and query parsing into pydantic models (400 on failure)
    pagination       opaque list cursors bound to one DynamoDB partition
    idempotency      Powertools idempotency on DynamoDB, configured per call from config
    events           domain events to SNS
    http_client      JSON over HTTPS with timeout and retries from config
    retry            backoff delays from ``retry_policies``
    money            integer minor units and basis points, rounded half-up
    clock            the current time, in one place so tests can move it
    dynamo_items     DynamoDB attribute-value (de)serialisation for the low-level client
    runtime          the function template for non-HTTP functions
    api              the function template for API Gateway REST functions
"""
