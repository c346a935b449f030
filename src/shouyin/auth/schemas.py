from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shouyin.auth.permissions import Role


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=8, max_length=200)
    role: Role
    store_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    role: Role | None = None
    store_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)
    unlock: bool = False


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    store_id: int | None
    active: bool
    locked_until: datetime | None
    created_at: datetime


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class MePublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    store_id: int | None
    permissions: list[str]
    csrf_token: str | None = None


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    scopes: list[str] = Field(default_factory=list, max_length=50)
    expires_days: int | None = Field(default=None, ge=1, le=3650, strict=True)


class TokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    scopes: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    token: str
