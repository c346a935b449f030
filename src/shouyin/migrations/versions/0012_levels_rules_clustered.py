"""stock levels and reorder rules clustered on their key (SQLite WITHOUT ROWID)

On SQLite both tables are rebuilt as WITHOUT ROWID tables: a lookup by (store, product) is one
B-tree descent instead of two, which the replenishment list does 150,000 times per store of
100,000 products, and every sale does for its stock levels. PostgreSQL is unchanged.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 19:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("stock_levels", "reorder_rules")


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
        ):
            pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
