"""Document numbers: a stem (kind, store, day) and a sequence, e.g. TK-S01-20261123-007."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_


def numbers_of(column: Any, stem: str) -> ColumnElement[bool]:
    """The numbers made of ``stem`` and digits, as a range an index serves (SQLite cannot
    serve ``LIKE … ESCAPE`` from one). Exact in any collation: after the shared stem come
    only digits, and digits sort by value everywhere."""
    return and_(column >= stem + "0", column <= stem + "9" * 9)
