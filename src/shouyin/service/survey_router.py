"""REST: survey answers from a receipt's signed link (public, the token is the key)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/surveys", tags=["service"])
