"""Transparency log: the Merkle tree's perfect subtrees and every signed checkpoint

Revision ID: 0f430e6df8e1
Revises: 816bfe066e5e
Create Date: 2026-12-01 21:00:00

Existing entries get their leaves lazily on the next append, or at once with `flask ledger tree rebuild`.
"""
from alembic import op
import sqlalchemy as sa


revision = '0f430e6df8e1'
down_revision = '816bfe066e5e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_tree_node',
    sa.Column('node', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('node', name=op.f('pk_ledger_tree_node'))
    )
    op.create_table('ledger_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_checkpoint')),
    sa.UniqueConstraint('tree_size', name=op.f('uq_ledger_checkpoint_tree_size'))
    )


def downgrade():
    op.drop_table('ledger_checkpoint')
    op.drop_table('ledger_tree_node')
