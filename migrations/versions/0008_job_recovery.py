"""job recovery: heartbeat, claim owner, retry time and the maybe-sent mark of outbox rows

Revision ID: 0008_job_recovery
Revises: 0007_result_charts
Create Date: 2026-12-03 08:10:00

"""
from alembic import op
import sqlalchemy as sa

import consult.dbtypes


# revision identifiers, used by Alembic.
revision = '0008_job_recovery'
down_revision = '0007_result_charts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', consult.dbtypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('retry_at', consult.dbtypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('maybe_sent_at', consult.dbtypes.UTCDateTime(), nullable=True))
    # A job running during the upgrade has no heartbeat yet: its start counts as the last one.
    op.execute("UPDATE job_outbox SET heartbeat_at = started_at WHERE started_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('job_outbox', schema=None) as batch_op:
        batch_op.drop_column('maybe_sent_at')
        batch_op.drop_column('retry_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('heartbeat_at')
