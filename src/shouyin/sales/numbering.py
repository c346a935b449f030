"""Human-readable order numbers: store code, business date, sequence of the day."""

from __future__ import annotations

from datetime import date


def order_number(store_code: str, business_date: date, seq: int) -> str:
    return f"{store_code}-{business_date:%Y%m%d}-{seq:04d}"
