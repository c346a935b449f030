"""Back office: service analytics with charts and export."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
