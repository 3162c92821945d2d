"""paper vote sheets have an event date; jurors are told once when their ideas are ready

Revision ID: 0009_paper_sheets_jury_mail
Revises: 0008_job_recovery
Create Date: 2026-12-03 08:10:00

"""
from alembic import op
import sqlalchemy as sa

import consult.dbtypes


# revision identifiers, used by Alembic.
revision = '0009_paper_sheets_jury_mail'
down_revision = '0008_job_recovery'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('paper_vote_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_date', sa.Date(), nullable=True))
    with op.batch_alter_table('juror_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ideas_mailed_at', consult.dbtypes.UTCDateTime(), nullable=True))
    # Jurors who already have ideas knew of them before this mail existed: no late mail.
    op.execute(
        "UPDATE juror_assignments SET ideas_mailed_at = assigned_at WHERE EXISTS ("
        "SELECT 1 FROM jury_reviews WHERE jury_reviews.challenge_id = juror_assignments.challenge_id"
        " AND jury_reviews.juror_id = juror_assignments.user_id)"
    )


def downgrade():
    with op.batch_alter_table('juror_assignments', schema=None) as batch_op:
        batch_op.drop_column('ideas_mailed_at')
    with op.batch_alter_table('paper_vote_entries', schema=None) as batch_op:
        batch_op.drop_column('event_date')
