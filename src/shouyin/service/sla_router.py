"""REST: notices (breaches, warnings), closed days, and running the SLA check."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/service", tags=["service"])
