"""Back office: the complaint queue and a ticket's page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
