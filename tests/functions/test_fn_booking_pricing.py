"""Booking fares and cancellation terms: hand-computed cases from pricing_cases.yaml, properties."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.cancellation import cancellation_terms, ensure_cancellable
from booking.config_schema import BookingConfig, BusinessRules, PricingModels, SlaDefinitions
from booking.models import QuoteRequest
from booking.pricing import check_limits, quote
from common.errors import BadRequest, Conflict

from .fn_support import DEFAULTS, load_yaml

CASES = load_yaml(Path(__file__).with_name("pricing_cases.yaml"))
BOOKING_DEFAULTS = DEFAULTS["tenant_config"]["services"]["booking"]
DEFAULT_PRICING = PricingModels.model_validate(BOOKING_DEFAULTS["business"]["pricing_models"])
DEFAULT_RULES = BusinessRules.model_validate(BOOKING_DEFAULTS["business"]["business_rules"])
DEFAULT_SLA = SlaDefinitions.model_validate(BOOKING_DEFAULTS["business"]["sla_definitions"])
BREAKDOWN = ("distance_minor", "weight_minor", "subtotal_minor", "fare_minor", "minimum_fare_applied", "tax_minor", "total_minor")


def case_id(case: dict[str, Any]) -> str:
    return f"{case['config']}-{case['distance_km']}km-{case['weight_kg']}kg-{'+'.join(case['surcharges']) or 'plain'}"


@pytest.mark.parametrize("case", CASES["cases"], ids=case_id)
def test_fare_matches_the_hand_computed_breakdown(case: dict[str, Any]) -> None:
    pricing = PricingModels.model_validate(CASES["configs"][case["config"]])
    fare = quote(QuoteRequest(distance_km=case["distance_km"], weight_kg=case["weight_kg"], surcharges=case["surcharges"]), pricing)
    assert {name: getattr(fare, name) for name in BREAKDOWN} == {name: case[name] for name in BREAKDOWN}
    assert fare.currency == pricing.currency


def test_defaults_yaml_booking_config_is_valid() -> None:
    tree = {**BOOKING_DEFAULTS, "integration": {"resources": {"bookings_table": "t", "audit_table": "a", "idempotency_table": "i", "events_topic_arn": "arn:aws:sns:ap-south-1:1:t"}}}
    assert BookingConfig.model_validate(tree).business.pricing_models == DEFAULT_PRICING


pricing_models = st.builds(
    PricingModels,
    currency=st.sampled_from(["INR", "SGD", "EUR"]),
    base_fare_minor=st.integers(0, 10**7),
    per_km_minor=st.integers(0, 10**5),
    per_kg_minor=st.integers(0, 10**4),
    minimum_fare_minor=st.integers(0, 10**7),
    tax_rate_basis_points=st.integers(0, 5000),
    surcharges=st.dictionaries(st.sampled_from(["night", "fragile", "hazmat"]), st.integers(0, 10**5), max_size=3),
)
amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(5000), places=3)


@settings(max_examples=300, deadline=None)
@given(pricing=pricing_models, distance=amounts, weight=amounts, data=st.data())
def test_fare_properties_hold_for_any_config(pricing: PricingModels, distance: Decimal, weight: Decimal, data: st.DataObject) -> None:
    names = data.draw(st.lists(st.sampled_from(sorted(pricing.surcharges)), unique=True) if pricing.surcharges else st.just([]))
    fare = quote(QuoteRequest(distance_km=distance, weight_kg=weight, surcharges=names), pricing)
    assert fare.fare_minor >= pricing.minimum_fare_minor
    assert fare.total_minor >= pricing.minimum_fare_minor
    assert fare.subtotal_minor == fare.base_fare_minor + fare.distance_minor + fare.weight_minor + sum(fare.surcharges_minor.values())
    assert fare.total_minor == fare.fare_minor + fare.tax_minor
    assert abs(fare.tax_minor - Decimal(fare.fare_minor) * pricing.tax_rate_basis_points / 10_000) <= Decimal("0.5")
    assert fare.minimum_fare_applied == (fare.subtotal_minor < pricing.minimum_fare_minor)
    assert all(isinstance(getattr(fare, name), int) for name in BREAKDOWN if name != "minimum_fare_applied")


@settings(max_examples=200, deadline=None)
@given(pricing=pricing_models, distance=amounts, extra=amounts, weight=amounts)
def test_a_longer_trip_never_costs_less(pricing: PricingModels, distance: Decimal, extra: Decimal, weight: Decimal) -> None:
    shorter = quote(QuoteRequest(distance_km=distance, weight_kg=weight), pricing)
    longer = quote(QuoteRequest(distance_km=distance + extra, weight_kg=weight), pricing)
    assert longer.total_minor >= shorter.total_minor


def test_limits_come_from_business_rules() -> None:
    at_limit = QuoteRequest(distance_km=Decimal(str(DEFAULT_RULES.max_distance_km)), weight_kg=Decimal(str(DEFAULT_RULES.max_weight_kg)))
    check_limits(at_limit, DEFAULT_RULES, DEFAULT_PRICING)
    beyond = QuoteRequest(distance_km=at_limit.distance_km + Decimal("0.001"), weight_kg=at_limit.weight_kg + 1, surcharges=["teleport"])
    with pytest.raises(BadRequest) as raised:
        check_limits(beyond, DEFAULT_RULES, DEFAULT_PRICING)
    assert [d.field for d in raised.value.details] == ["distance_km", "weight_kg", "surcharges"]
    tighter = DEFAULT_RULES.model_copy(update={"max_distance_km": float(at_limit.distance_km) - 1})
    with pytest.raises(BadRequest):
        check_limits(at_limit, tighter, DEFAULT_PRICING)


@pytest.mark.parametrize("body", [
    {"distance_km": 0, "weight_kg": 1}, {"distance_km": "NaN", "weight_kg": 1},
    {"distance_km": 1, "weight_kg": 1, "surcharges": ["night", "night"]}, {"distance_km": 1, "weight_kg": 1, "price": 1},
])
def test_quote_request_rejects_impossible_shipments(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        QuoteRequest.model_validate(body)


# --- cancellation --------------------------------------------------------------------------------

BOOKED = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_cancellation_is_free_inside_the_window_inclusive() -> None:
    window = timedelta(minutes=DEFAULT_SLA.free_cancellation_minutes)
    terms = cancellation_terms(107380, BOOKED, BOOKED + window, DEFAULT_SLA)
    assert (terms.free, terms.fee_minor) == (True, 0)


def test_cancellation_after_the_window_costs_the_configured_share() -> None:
    after = BOOKED + timedelta(minutes=DEFAULT_SLA.free_cancellation_minutes, seconds=1)
    terms = cancellation_terms(107380, BOOKED, after, DEFAULT_SLA)
    # 10 % (1000 basis points in defaults.yaml) of 107380 = 10738
    assert (terms.free, terms.fee_minor, terms.fee_basis_points) == (False, 10738, DEFAULT_SLA.cancellation_fee_basis_points)


def test_other_sla_config_changes_the_terms() -> None:
    sla = SlaDefinitions(free_cancellation_minutes=5, cancellation_fee_basis_points=2500, max_cancellable_status=["PENDING"])
    terms = cancellation_terms(1513, BOOKED, BOOKED + timedelta(minutes=6), sla)
    assert terms.fee_minor == 378  # 25 % of 1513 = 378.25
    with pytest.raises(Conflict):
        ensure_cancellable("CONFIRMED", sla)
    ensure_cancellable("CONFIRMED", DEFAULT_SLA)


def test_unknown_status_in_sla_config_is_invalid() -> None:
    with pytest.raises(ValueError):
        SlaDefinitions(free_cancellation_minutes=5, cancellation_fee_basis_points=10, max_cancellable_status=["LOST"])
