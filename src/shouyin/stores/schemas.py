from __future__ import annotations

from typing import Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Rounding = Literal["none", "jiao", "yuan"]


def _valid_timezone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError("unknown time zone")
    return value


def check_hours(opens: int | None, closes: int | None) -> None:
    """Opening hours in minutes after local midnight: closes after opens (1440 is midnight;
    0 to 1440 is around the clock)."""
    if opens is not None and closes is not None and closes <= opens:
        raise ValueError("closes_minutes must be after opens_minutes")


class StoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_\-]+$")
    name: str = Field(min_length=1, max_length=120)
    address: str | None = Field(default=None, max_length=200)
    timezone: str = "Asia/Shanghai"
    day_cutoff_minutes: int = Field(default=0, ge=0, lt=24 * 60, strict=True)
    rounding: Rounding = "none"
    # Opening hours: business-hour complaint deadlines run only while the store is open.
    opens_minutes: int = Field(default=540, ge=0, lt=24 * 60, strict=True)
    closes_minutes: int = Field(default=1260, gt=0, le=24 * 60, strict=True)

    _tz = field_validator("timezone")(_valid_timezone)

    @model_validator(mode="after")
    def _hours(self) -> StoreCreate:
        check_hours(self.opens_minutes, self.closes_minutes)
        return self


class StoreUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    address: str | None = Field(default=None, max_length=200)
    timezone: str | None = None
    day_cutoff_minutes: int | None = Field(default=None, ge=0, lt=24 * 60, strict=True)
    rounding: Rounding | None = None
    opens_minutes: int | None = Field(default=None, ge=0, lt=24 * 60, strict=True)
    closes_minutes: int | None = Field(default=None, gt=0, le=24 * 60, strict=True)
    active: bool | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _valid_timezone(value)

    @model_validator(mode="after")
    def _hours(self) -> StoreUpdate:
        # One of the two alone is checked against the stored other by the service.
        check_hours(self.opens_minutes, self.closes_minutes)
        return self


class StorePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    address: str | None
    timezone: str
    day_cutoff_minutes: int
    rounding: str
    opens_minutes: int
    closes_minutes: int
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
