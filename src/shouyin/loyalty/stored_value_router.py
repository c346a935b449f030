"""Placeholder: filled in by the loyalty work."""

from fastapi import APIRouter

router = APIRouter()
