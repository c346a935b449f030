"""Back office: notices for managers, and the days stores are closed."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
