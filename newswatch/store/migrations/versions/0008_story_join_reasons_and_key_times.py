"""story joins explained, and exact keys that expire

An article records how it came into its story (`joined_by`: new, key, duplicate, same_event, and
`join_reason`, readable) for `newswatch stories` and for telling a watchlist of a join made on
same-event evidence alone. A story key records the article that claimed it and when (`article_id`,
`at`): a text key expires with the story window, and a page's declared canonical URL is checked
against the text of the article that claimed it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 13:00:00
"""
from alembic import op
import sqlalchemy as sa
import newswatch.store.tables


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_by', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('join_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('story_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('article_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('at', newswatch.store.tables.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('story_keys', schema=None) as batch_op:
        batch_op.drop_column('at')
        batch_op.drop_column('article_id')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('join_reason')
        batch_op.drop_column('joined_by')
