"""A short-lived, in-process cache of who a session or API token belongs to.

Every request needs its principal; looking it up costs a query and an ORM load, a large share
of a fast checkout. Entries live a few seconds, and logout, revocation and any user change
drop them at once, so access is never kept longer than the request that removes it.
"""

from __future__ import annotations

import threading
import time

from shouyin.auth.principal import Principal

TTL_SECONDS = 10.0
MAX_ENTRIES = 10_000


class PrincipalCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + TTL_SECONDS, principal)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


PRINCIPALS = PrincipalCache()
