"""The starter registry file that ``platformctl tenants new`` writes."""

from __future__ import annotations

from ..defaults import load_defaults

_TEMPLATE = """\
# Registry file for tenant '{tenant_id}'. Everything not set here comes from defaults.yaml.
# Validate with: platformctl tenants validate tenants/{tenant_id}.yaml
id: "{tenant_id}"
display_name: "{tenant_id}"
tier: {tier}
region: {region}
contacts:
  - {{name: Platform owner, email: owner@{tenant_id}.example, role: owner}}
environments: [{environments}]
compliance:
  data_retention_days: {retention}
  audit: {{enabled: true}}
  residency: {{allowed_regions: [{region}]}}
# config:        # overrides of the seed hierarchy, e.g.
#   services:
#     booking:
#       business:
#         pricing_models: {{currency: INR, base_fare_minor: 50000, ...}}
# References to Secrets Manager secrets, never values. The payment service needs its
# provider's API key; put the value in Secrets Manager (it is issued by the provider).
secrets:
  {provider_key}: {{secret_name: {tenant_id}/payment/provider-api-key, rotation: external}}
"""


def starter_document(tenant_id: str, tier: str, region: str) -> str:
    """A valid registry document for a new tenant, in the first declared environment only.

    The id is quoted: a valid id such as ``123``, ``1e3`` or ``true`` would otherwise read back
    as a number or a boolean.
    """
    defaults = load_defaults()
    # The registry key the payment service looks its provider key up by (from the config tree).
    provider_key = defaults.tenant_config["services"]["payment"]["integration"]["api_keys_reference"]["provider_api_key"]
    return _TEMPLATE.format(
        provider_key=provider_key,
        tenant_id=tenant_id,
        tier=tier,
        region=region,
        environments=defaults.platform.environments[0],
        retention=defaults.compliance.default_data_retention_days,
    )
