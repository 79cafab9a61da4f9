"""contained failures: an article's repeated failures and quarantine; per-source and per-cycle counts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 10:20:00
"""
from alembic import op
import sqlalchemy as sa
import newswatch.store.tables


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failure_signature', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('last_failure', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('failed_at', newswatch.store.tables.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('told_at', newswatch.store.tables.UTCDateTime(), nullable=True))
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unexpected_errors', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unexpected', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('quarantined', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    # a quarantined article goes back to the stage that failed it
    op.execute("UPDATE articles SET stage = 'fetched' WHERE stage = 'quarantined' AND text IS NULL")
    op.execute("UPDATE articles SET stage = 'extracted' WHERE stage = 'quarantined'")
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_column('quarantined')
        batch_op.drop_column('unexpected')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('unexpected_errors')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('told_at')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('last_failure')
        batch_op.drop_column('failure_signature')
        batch_op.drop_column('failures')
