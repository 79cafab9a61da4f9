"""article fingerprints and fuzzy keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 02:18:50.691511
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import newswatch.store.tables


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('article_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('at', newswatch.store.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('article_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_keys_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_keys_at'), ['at'], unique=False)
        batch_op.create_index('ix_article_keys_key_at', ['key', 'at'], unique=False)

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.LargeBinary(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('fingerprint')

    with op.batch_alter_table('article_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_article_keys_key_at')
        batch_op.drop_index(batch_op.f('ix_article_keys_at'))
        batch_op.drop_index(batch_op.f('ix_article_keys_article_id'))

    op.drop_table('article_keys')
