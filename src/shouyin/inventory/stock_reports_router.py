"""REST: stock reports (value at cost, turnover, sell-through, slow movers, negative stock)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/stock-reports", tags=["stock reports"])
