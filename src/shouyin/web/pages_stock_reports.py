"""Back office: stock reports per store and category, with CSV and Excel export."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
