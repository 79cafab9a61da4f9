"""delivery digest flag

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:12:03.083505
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import newswatch.store.tables


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('digest')

