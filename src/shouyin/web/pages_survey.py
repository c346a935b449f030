"""The public survey page a receipt's QR code opens, and the complaint follow-up question."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
