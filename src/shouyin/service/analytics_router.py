"""REST: service analytics (feedback scores, NPS, complaint volumes, times, breaches)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/service-reports", tags=["service"])
