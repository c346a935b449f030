"""REST: complaint tickets (投诉): open, assign, work, resolve, attachments, compensation."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/tickets", tags=["service"])
