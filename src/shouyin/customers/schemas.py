from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Gender = Literal["m", "f", "u"]
Source = Literal["store", "mini_program", "import", "referral"]
Tag = str


class MemberCreate(BaseModel):
    """The short form at the till is mobile, name and consent; the rest is optional."""

    model_config = ConfigDict(extra="forbid")
    mobile: str = Field(min_length=4, max_length=32)
    name: str = Field(min_length=1, max_length=60)
    consent: bool = Field(description="The member agreed to the membership privacy notice")
    marketing_opt_in: bool = False
    store_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    gender: Gender = "u"
    birthday: date | None = None
    address: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=120, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    source: Source = "store"
    tags: list[str] = Field(default_factory=list, max_length=20)
    notes: str | None = Field(default=None, max_length=500)


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mobile: str | None = Field(default=None, min_length=4, max_length=32)
    name: str | None = Field(default=None, min_length=1, max_length=60)
    gender: Gender | None = None
    birthday: date | None = None
    address: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=120, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    tags: list[str] | None = Field(default=None, max_length=20)
    notes: str | None = Field(default=None, max_length=500)
    marketing_opt_in: bool | None = None


class MemberSummary(BaseModel):
    """What the till shows in a pick list: never more than a masked mobile."""

    id: int
    card_no: str
    name: str
    mobile_masked: str | None
    store_id: int | None
    status: str


class MemberPublic(MemberSummary):
    mobile: str | None = Field(description="Full number only for roles with members.personal")
    gender: str
    birthday: date | None
    age: int | None
    address: str | None
    email: str | None
    source: str
    tags: list[str]
    notes: str | None
    marketing_opt_in: bool
    created_at: datetime
    updated_at: datetime


class MemberPage(BaseModel):
    items: list[MemberSummary]
    total: int
    limit: int
    offset: int


class TagChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]] = Field(
        min_length=1, max_length=5000
    )
    add: list[str] = Field(default_factory=list, max_length=20)
    remove: list[str] = Field(default_factory=list, max_length=20)


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: Literal["membership", "marketing"]
    granted: bool


class DuplicatePublic(BaseModel):
    reason: Literal["name_birthday", "name_last4"]
    member_ids: list[int]


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duplicate_id: int = Field(ge=1, le=2**31 - 1, strict=True)
