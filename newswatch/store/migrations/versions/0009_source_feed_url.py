"""a source's discovered feed

A source whose URL answers with an HTML page is read through the feed the page advertises
(connectors.discovery); `feed_url` records it for later polls, and is forgotten (found again from
the page) when that feed answers 404 or 410 (newswatch.polling).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0009", "0008"


def upgrade() -> None:
    op.add_column("sources", sa.Column("feed_url", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("feed_url")
