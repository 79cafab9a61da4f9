"""a source's discovered feed

A source whose URL answers with an HTML page is read through the feed the page advertises
(connectors.discovery); `feed_url` records it for later polls, and is forgotten (found again from
the page) when that feed answers 404 or 410 (newswatch.polling).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('feed_url')
