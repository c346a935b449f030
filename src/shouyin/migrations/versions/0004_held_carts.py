"""held carts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:05:00

Written by hand: only the held_carts table (挂单).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('held_carts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('register_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=True),
    sa.Column('cart', sa.JSON(), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('total_hint', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['register_id'], ['registers.id'], name=op.f('fk_held_carts_register_id_registers')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_held_carts_store_id_stores')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_held_carts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_carts'))
    )
    with op.batch_alter_table('held_carts', schema=None) as batch_op:
        batch_op.create_index('ix_held_carts_register', ['register_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_carts_store_id'), ['store_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('held_carts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_carts_store_id'))
        batch_op.drop_index('ix_held_carts_register')

    op.drop_table('held_carts')
