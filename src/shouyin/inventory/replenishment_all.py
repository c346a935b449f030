"""Every store's replenishment list at once, the stores side by side.

Stores are independent, so their lists are computed on separate connections by a few
threads: SQLite and PostgreSQL both run queries on separate connections in parallel, and
Python's drivers release the GIL while the database works. The chain's list (the alert scan,
the bench) then takes about the time of the slowest share instead of the sum of all stores.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from shouyin.db import Database
from shouyin.inventory.replenishment import Low, low_products

# Beyond a handful, threads only queue for the same cores and the same disk.
MAX_WORKERS = 4


def workers_for(stores: int) -> int:
    return max(1, min(stores, os.cpu_count() or 1, MAX_WORKERS))


def low_by_store(
    db: Database, store_ids: Sequence[int], *, now: datetime, workers: int | None = None
) -> dict[int, list[Low]]:
    """Each store's products to reorder as of ``now``, computed in parallel reads."""

    def one(store_id: int) -> tuple[int, list[Low]]:
        with db.read() as session:
            return store_id, low_products(session, store_id=store_id, now=now)

    threads = workers or workers_for(len(store_ids))
    if threads == 1:
        return dict(one(store_id) for store_id in store_ids)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="replenish") as pool:
        return dict(pool.map(one, store_ids))
