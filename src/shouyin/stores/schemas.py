from __future__ import annotations

from typing import Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

Rounding = Literal["none", "jiao", "yuan"]


def _valid_timezone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError("unknown time zone")
    return value


class StoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_\-]+$")
    name: str = Field(min_length=1, max_length=120)
    address: str | None = Field(default=None, max_length=200)
    timezone: str = "Asia/Shanghai"
    day_cutoff_minutes: int = Field(default=0, ge=0, lt=24 * 60, strict=True)
    rounding: Rounding = "none"

    _tz = field_validator("timezone")(_valid_timezone)


class StoreUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    address: str | None = Field(default=None, max_length=200)
    timezone: str | None = None
    day_cutoff_minutes: int | None = Field(default=None, ge=0, lt=24 * 60, strict=True)
    rounding: Rounding | None = None
    active: bool | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _valid_timezone(value)


class StorePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    address: str | None
    timezone: str
    day_cutoff_minutes: int
    rounding: str
    active: bool


class RegisterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_\-]+$")
    name: str = Field(min_length=1, max_length=120)


class RegisterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    store_id: int
    code: str
    name: str
    active: bool
