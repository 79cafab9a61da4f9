"""Story membership: an article joins the story that owns any of its keys, or starts one.

The `story_keys` primary key is the arbiter. A new story claims its keys inside a savepoint; when
another worker claimed one of them first (the insert returns fewer keys than asked), the savepoint
is rolled back and the article joins that worker's story instead. On PostgreSQL the second
insert waits for the first transaction, so two workers never create two stories for one key.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from newswatch.store._sql import insert_ignore
from newswatch.store.tables import Article, Story, StoryKey

__all__ = ["assign", "sources_of"]


def assign(session: Session, article: Article, keys: list[str], now: datetime) -> tuple[int, bool]:
    """Put `article` in a story; return (story id, whether the story is new)."""
    for _ in range(3):
        owner = _owner(session, keys)
        if owner is not None:
            _join(session, article, owner, keys, now)
            return owner, False
        savepoint = session.begin_nested()
        story = Story(title=article.title, first_article_id=article.id, created_at=now, updated_at=now)
        session.add(story)
        session.flush()
        claimed = insert_ignore(session, StoryKey.__table__,
                                [{"key": k, "story_id": story.id} for k in keys],
                                returning=StoryKey.__table__.c.key)
        if len(claimed) == len(keys):
            savepoint.commit()
            article.story_id = story.id
            session.add(article)
            session.flush()
            return story.id, True
        savepoint.rollback()  # another worker claimed a key first: join its story
    raise RuntimeError(f"stories: could not settle a story for article {article.id}")


def _owner(session: Session, keys: list[str]) -> int | None:
    query = select(StoryKey.story_id).where(col(StoryKey.key).in_(keys)).order_by(col(StoryKey.story_id))
    return session.exec(query).first()


def _join(session: Session, article: Article, story_id: int, keys: list[str], now: datetime) -> None:
    insert_ignore(session, StoryKey.__table__, [{"key": k, "story_id": story_id} for k in keys])
    article.story_id = story_id
    session.add(article)
    story = session.get(Story, story_id)
    story.article_count += 1
    story.updated_at = now
    session.add(story)
    session.flush()


def sources_of(session: Session, story_id: int) -> list[tuple[str, str]]:
    """(source name, article URL) of every article in the story, oldest first."""
    from newswatch.store.tables import Source

    query = (select(Source.name, Article.url).join(Source, col(Source.id) == col(Article.source_id))
             .where(Article.story_id == story_id).order_by(col(Article.id)))
    return [(name, url) for name, url in session.exec(query)]
