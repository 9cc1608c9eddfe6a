"""Money as integer minor units; rates as basis points; one rounding rule: half-up.

Amounts never pass through ``float``. A fractional amount (a per-km price times 12.345 km) is
computed exactly with ``Decimal`` and rounded once to whole minor units, halves away from zero
(``ROUND_HALF_UP``), which is what invoices and most tax authorities expect.

>>> round_half_up(Decimal("2.5")), round_half_up(Decimal("2.4999"))
(3, 2)
>>> basis_points_of(12345, 1800)          # 18 % of 123.45 = 22.221 -> 22.22
2222
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# By definition: one basis point is one hundredth of a percent.
BASIS_POINTS_PER_WHOLE = Decimal(10_000)


def round_half_up(amount: Decimal) -> int:
    """``amount`` rounded to a whole number of minor units, halves away from zero."""
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def basis_points_of(amount_minor: int, basis_points: int) -> int:
    """``basis_points`` of ``amount_minor``, rounded half-up to minor units."""
    return round_half_up(Decimal(amount_minor) * Decimal(basis_points) / BASIS_POINTS_PER_WHOLE)
