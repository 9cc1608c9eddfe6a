"""Fares from ``business/pricing_models``, in integer minor units.

    base fare                        base_fare_minor
  + distance                         per_km_minor  x distance_km   (rounded half-up)
  + weight                           per_kg_minor  x weight_kg     (rounded half-up)
  + surcharges                       surcharges[name] for each name requested
  = subtotal
    fare      = max(subtotal, minimum_fare_minor)
    tax       = fare x tax_rate_basis_points / 10 000               (rounded half-up)
    total     = fare + tax

Rounding: each fractional part (distance, weight, tax) is computed exactly with ``Decimal`` and
rounded once, half-up, to whole minor units, so the parts of the breakdown always add up to the
total. A fare is never below the minimum fare; the total adds tax on top of it.

>>> pricing = PricingModels(currency="INR", base_fare_minor=50000, per_km_minor=2500, per_kg_minor=10,
...     minimum_fare_minor=75000, tax_rate_basis_points=1800, surcharges={"night": 1000})
>>> fare = quote(QuoteRequest(distance_km="12", weight_kg="1000", surcharges=["night"]), pricing)
>>> fare.subtotal_minor, fare.tax_minor, fare.total_minor
(91000, 16380, 107380)
"""

from __future__ import annotations

from decimal import Decimal

from common.errors import BadRequest, FieldError
from common.money import basis_points_of, round_half_up

from .config_schema import BusinessRules, PricingModels
from .models import QuoteRequest
from .views import PriceView as Quote


def check_limits(request: QuoteRequest, rules: BusinessRules, pricing: PricingModels) -> None:
    """``BadRequest`` naming each input beyond the tenant's limits or unknown to its pricing."""
    problems: list[FieldError] = []
    if request.distance_km > Decimal(str(rules.max_distance_km)):
        problems.append(FieldError("distance_km", f"must be at most {rules.max_distance_km:g} km", "less_than_equal"))
    if request.weight_kg > Decimal(str(rules.max_weight_kg)):
        problems.append(FieldError("weight_kg", f"must be at most {rules.max_weight_kg:g} kg", "less_than_equal"))
    unknown = [name for name in request.surcharges if name not in pricing.surcharges]
    if unknown:
        allowed = ", ".join(sorted(pricing.surcharges)) or "none"
        problems.append(FieldError("surcharges", f"unknown surcharge(s) {', '.join(unknown)}; allowed: {allowed}", "enum"))
    if problems:
        raise BadRequest("invalid request", problems)


def quote(request: QuoteRequest, pricing: PricingModels) -> Quote:
    """The fare for ``request`` under ``pricing`` (limits are checked by ``check_limits``)."""
    distance_minor = round_half_up(Decimal(pricing.per_km_minor) * request.distance_km)
    weight_minor = round_half_up(Decimal(pricing.per_kg_minor) * request.weight_kg)
    surcharges_minor = {name: pricing.surcharges[name] for name in request.surcharges}
    subtotal = pricing.base_fare_minor + distance_minor + weight_minor + sum(surcharges_minor.values())
    fare = max(subtotal, pricing.minimum_fare_minor)
    tax = basis_points_of(fare, pricing.tax_rate_basis_points)
    return Quote(
        currency=pricing.currency,
        base_fare_minor=pricing.base_fare_minor,
        distance_minor=distance_minor,
        weight_minor=weight_minor,
        surcharges_minor=surcharges_minor,
        subtotal_minor=subtotal,
        minimum_fare_minor=pricing.minimum_fare_minor,
        minimum_fare_applied=subtotal < pricing.minimum_fare_minor,
        fare_minor=fare,
        tax_basis_points=pricing.tax_rate_basis_points,
        tax_minor=tax,
        total_minor=fare + tax,
    )
