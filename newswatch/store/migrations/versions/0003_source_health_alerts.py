"""source health alerts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 02:16:31.666833
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import newswatch.store.tables


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('health_alerted_at', newswatch.store.tables.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('health_alerted_at')

