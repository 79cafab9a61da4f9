"""outbox notices, claim tokens and the installation id

A delivery points at a match or at a notice (a message from newswatch itself, e.g. source health),
never both; a notice goes to each channel once. `claim_token` names the sender holding a delivery,
so one whose lease ran out cannot mark another's. `installation` holds the store's random id, made
here with the store, which every e-mail Message-ID carries.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 09:00:00
"""
import uuid

from alembic import op
import sqlalchemy as sa
import newswatch.store.tables


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=2000), server_default='', nullable=False),
    sa.Column('created_at', newswatch.store.tables.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    installation = op.create_table('installation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(installation, [{'id': 1, 'uid': uuid.uuid4().hex}])
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.alter_column('match_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('notice_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_deliveries_notice_id'), ['notice_id'], unique=False)
        batch_op.create_foreign_key('fk_deliveries_notice_id', 'notices', ['notice_id'], ['id'])
        batch_op.create_unique_constraint('uq_delivery_notice_channel', ['notice_id', 'channel'])
        batch_op.create_check_constraint('ck_delivery_match_or_notice',
                                         '(match_id IS NULL) <> (notice_id IS NULL)')


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE notice_id IS NOT NULL")
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('ck_delivery_match_or_notice', type_='check')
        batch_op.drop_constraint('uq_delivery_notice_channel', type_='unique')
        batch_op.drop_constraint('fk_deliveries_notice_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_deliveries_notice_id'))
        batch_op.drop_column('claim_token')
        batch_op.drop_column('notice_id')
        batch_op.alter_column('match_id', existing_type=sa.Integer(), nullable=False)
    op.drop_table('installation')
    op.drop_table('notices')
