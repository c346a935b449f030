"""Printing at a register: receipts, shift reports and the cash drawer.

Other parts call these functions; each returns whether anything was sent to a printer
(False when the register has no printer set up).
"""

from __future__ import annotations

from sqlalchemy.orm import Session


def print_report(
    session: Session, *, register_id: int, title: str, lines: list[tuple[str, str]]
) -> bool:
    """Print a report (X, Z, shift close) as label/value rows under a title."""
    return False


def kick_drawer(session: Session, *, register_id: int) -> bool:
    """Open the cash drawer attached to the register's printer."""
    return False
