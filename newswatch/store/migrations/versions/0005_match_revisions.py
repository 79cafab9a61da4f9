"""match revisions: follow-up alerts of a story

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint('uq_match_story_watchlist', type_='unique')
        batch_op.create_unique_constraint('uq_match_story_watchlist_revision', ['story_id', 'watchlist', 'revision'])


def downgrade() -> None:
    # the older schema holds one match a story and watchlist: the follow-ups go
    op.execute("DELETE FROM deliveries WHERE match_id IN (SELECT id FROM matches WHERE revision > 0)")
    op.execute("DELETE FROM matches WHERE revision > 0")
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_constraint('uq_match_story_watchlist_revision', type_='unique')
        batch_op.create_unique_constraint('uq_match_story_watchlist', ['story_id', 'watchlist'])
        batch_op.drop_column('revision')
