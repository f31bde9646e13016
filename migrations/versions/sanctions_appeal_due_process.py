"""sanction proposals: due-process dates, appeal deadline and hold, supersession note

Revision ID: 816bfe066e5e
Revises: 24fa8857c3d4
Create Date: 2026-12-01 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '816bfe066e5e'
down_revision = '24fa8857c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sanction_proposal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applied_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('provisional_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('appealed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('appeal_decide_by', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('appeal_decided_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('held_suspension_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('appeal_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('appeal_superseded_by', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('appeal_superseded_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sanction_proposal_appeal_decide_by'), ['appeal_decide_by'], unique=False)


def downgrade():
    with op.batch_alter_table('sanction_proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sanction_proposal_appeal_decide_by'))
        batch_op.drop_column('appeal_superseded_on')
        batch_op.drop_column('appeal_superseded_by')
        batch_op.drop_column('appeal_note')
        batch_op.drop_column('held_suspension_end')
        batch_op.drop_column('appeal_decided_on')
        batch_op.drop_column('appeal_decide_by')
        batch_op.drop_column('appealed_on')
        batch_op.drop_column('provisional_on')
        batch_op.drop_column('applied_seq')
