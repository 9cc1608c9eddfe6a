"""What the tracking API answers, as pydantic models: every success body is built through one of them.

>>> PositionView.model_validate({"booking_id": "bk_1", "lat": 1, "lon": 2, "speed_kmh": 3, "recorded_at": "t", "received_at": "t", "reported_by": "d"}).heading_deg is None
True
"""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PositionView(_View):
    """One stored position: where, how fast, when recorded and received, and who reported it."""

    booking_id: str
    lat: float
    lon: float
    speed_kmh: float
    heading_deg: float | None = None
    recorded_at: str
    received_at: str
    reported_by: str


class PositionHistoryView(_View):
    """``GET .../history``: one page of positions, newest first, and the next page's cursor."""

    booking_id: str
    items: list[PositionView]
    next_cursor: str | None


def position_view(position: Mapping[str, Any]) -> dict[str, Any]:
    """The API representation of a stored position (numbers as JSON numbers)."""
    return PositionView.model_validate({name: position.get(name) for name in PositionView.model_fields}).model_dump(mode="json")


def history_view(booking_id: str, positions: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    """One page of history, built through ``PositionHistoryView``."""
    items = [{name: item.get(name) for name in PositionView.model_fields} for item in positions]
    return PositionHistoryView.model_validate({"booking_id": booking_id, "items": items, "next_cursor": next_cursor}).model_dump(mode="json")
