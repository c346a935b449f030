"""stock movements covering index; transfer lines keep the cost they were sent at

The index on (store_id, at) gains kind, product_id and quantity, so a store's last days are
summed from the index alone (a third of the time on a 100,000-product store). Transfer lines
record the sender's moving-average cost when sent, the cost the goods bring to the receiver.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 19:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["store_id", "at", "kind", "product_id", "quantity"]


def upgrade() -> None:
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movements_store_at")
        batch_op.create_index("ix_stock_movements_store_at", COLUMNS, unique=False)
    with op.batch_alter_table("stock_transfer_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_cost_milli", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stock_transfer_lines", schema=None) as batch_op:
        batch_op.drop_column("unit_cost_milli")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movements_store_at")
        batch_op.create_index("ix_stock_movements_store_at", ["store_id", "at"], unique=False)
