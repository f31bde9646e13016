"""complaints: the operator's holiday schedule; public summaries no longer built from the consumer's words

Revision ID: 12243f6471fa
Revises: 1bb82915f424
Create Date: 2026-12-01 20:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '12243f6471fa'
down_revision = '1bb82915f424'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'holiday_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('loaded_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('day'),
    )
    # Until now the public summary started as the consumer's own text, masked: that is not anonymous
    # (PIPL Art 25), so it is withdrawn; the public text is composed from structured fields instead.
    op.execute("UPDATE complaint SET public_summary = ''")


def downgrade():
    op.drop_table('holiday_day')
