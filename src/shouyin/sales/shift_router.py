"""Routes of this part of the till; filled in by its service."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
