"""The answer of ``GET /config/{path+}``, as pydantic models: the route's response contract.

``source`` says where the values came from: ``ssm`` (the parameter store) or ``fallback`` (the
function's packaged fallback document, served while the parameter store is unreachable; such
entries carry no parameter version). A secure entry never carries its value.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator


class ConfigEntryView(BaseModel):
    """One entry: its name below the tenant root, its JSON value (None when secure)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    value: JsonValue
    secure: bool
    redacted: bool
    parameter_version: int | None = Field(ge=1)

    @model_validator(mode="after")
    def _secure_values_are_redacted(self) -> ConfigEntryView:
        if self.secure and (self.value is not None or not self.redacted):
            raise ValueError("a secure entry is redacted and has no value")
        return self


class ConfigListingView(BaseModel):
    """The entries at or under ``path``, a digest of them, and where they were read from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1)
    version: str = Field(min_length=1)
    # common.config_client's SOURCE_SSM and SOURCE_FALLBACK.
    source: Literal["ssm", "fallback"]
    entries: list[ConfigEntryView] = Field(min_length=1)

