"""The hash chain rule. Pure."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> Any:
    """JSON-native copy of a value, as it will read back from any database."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = dict(fields)
    at = payload.get("at")
    if isinstance(at, datetime):
        payload["at"] = at.isoformat(timespec="microseconds")
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()
