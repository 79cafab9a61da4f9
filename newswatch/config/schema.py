"""The configuration schema: every key a user may write, its type and its default.

Channel types form a union discriminated by `type:`; every model forbids unknown keys. Secrets are
`SecretStr`, so printing a model never shows them. Settings that are not worth a YAML key live in
`DEFAULTS`, the one table of tunables (README documents each).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from newswatch.config.units import ByteSize, Duration

__all__ = [
    "DEFAULTS",
    "AtomChannel",
    "AppriseChannel",
    "Channel",
    "Config",
    "ConsoleChannel",
    "Delivery",
    "EmailChannel",
    "EvidenceJoinSettings",
    "FetchSettings",
    "HealthSettings",
    "JsonlChannel",
    "Route",
    "Schedule",
    "SlackChannel",
    "SourceConfig",
    "StorySettings",
    "Watchlist",
    "WebhookChannel",
]

# Tunables that are not YAML keys (miniflux's options.go): one place, documented in the README.
DEFAULTS = {
    "feed_batch_size": 50,  # sources per fetch task run (a task run costs ~40 ms of server CPU)
    "page_batch_size": 100,  # article pages per extraction task run
    "max_redirects": 5,
    "backoff_cap": timedelta(hours=12),  # a failing source is retried at least this often
    "delivery_attempts": 8,  # then a delivery is dead
    "sitemap_children": 3,  # child sitemaps of an index read per poll, the most recent by lastmod
    "sitemap_entries": 1000,  # articles taken from one sitemap per poll (a news sitemap holds 1,000)
    "sitemap_recent": timedelta(days=2),  # a plain sitemap's URLs modified within this are articles
}

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _Timezone(_Model):
    @field_validator("timezone", check_fields=False)
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (write e.g. Europe/Istanbul)") from None
        return value


class Schedule(_Timezone):
    """How often `serve` runs a cycle: `every: 10m` or `cron: "*/10 * * * *"`, not both."""

    every: Duration | None = None
    cron: str | None = None
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _one_of(self) -> Schedule:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' or 'cron'")
        if self.every is not None and self.every < timedelta(seconds=5):
            raise ValueError("'every' must be at least 5s")
        if self.cron is not None and len(self.cron.split()) not in (5, 6):
            raise ValueError(f"'{self.cron}' is not a cron expression (five fields)")
        return self


class FetchSettings(_Model):
    timeout: Duration = timedelta(seconds=20)
    max_bytes: ByteSize = 5_000_000
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
    allow_private_networks: bool = False
    concurrency: int = Field(16, ge=1, le=64)  # httpcore slows down past ~32 open connections
    per_host: int = Field(4, ge=1, le=32)


class SourceConfig(_Model):
    name: str = Field(pattern=_NAME, max_length=200)  # the store's column
    url: str = Field(pattern=r"^https?://")
    language: str | None = None
    enabled: bool = True
    max_age: Duration | None = None  # ignore items older than this; off by default
    category: str | None = Field(None, max_length=500)  # folders of an imported OPML, "News/Turkey"
    type: Literal["feed", "sitemap"] = "feed"  # a <urlset>/<sitemapindex> answer is read as a sitemap anyway


class FollowUpSettings(_Model):
    """A second alert when a story a watchlist was told about gains a significant update.

    Significant: a later article of the story matching the watchlist that is not a copy of an
    article already alerted and names at least `new_names` people, places or figures they never
    mention (newswatch/stories/updates.py); at least `after` since the story's
    last alert for the watchlist, and at most `max` follow-ups a story and watchlist.
    """

    enabled: bool = False
    after: Duration = timedelta(hours=6)
    new_names: int = Field(default=2, ge=1)
    max: int = Field(default=3, ge=1)


class EvidenceJoinSettings(_Model):
    """An update when a report joins a story a watchlist was told about on same-event evidence
    alone (not a copy, not an exact key) and says what its alerts never did (issue 17).

    Such a join is a judgement, and a wrong one hides the report's event inside the story: with
    `tell`, the report is sent as an update in the story's thread when it matches the watchlist
    and is about something the alerts never named: at least `new_names` of its salient names no
    alerted article mentions, its most salient name among them (newswatch/stories/updates.py,
    `new_subject`); at most `max` updates a story and watchlist (follow-ups count too).
    """

    tell: bool = True
    new_names: int = Field(default=3, ge=1)
    max: int = Field(default=3, ge=1)


class StorySettings(_Model):
    window: Duration = timedelta(hours=48)  # reports of one event join a story within this time
    follow_up: FollowUpSettings = FollowUpSettings()
    evidence_joins: EvidenceJoinSettings = EvidenceJoinSettings()


class HealthSettings(_Model):
    """Source-health alerts: one when a source has failed for `after`, one when it recovers."""

    channels: list[str] = Field(default_factory=list)  # none: only logged and shown by `sources`
    after: Duration = timedelta(hours=6)


class ConsoleChannel(_Model):
    type: Literal["console"]


class JsonlChannel(_Model):
    type: Literal["jsonl"]
    path: str


class SlackChannel(_Model):
    type: Literal["slack"]
    webhook_url: SecretStr
    timeout: Duration = timedelta(seconds=10)


class EmailChannel(_Model):
    type: Literal["email"]
    smtp_host: str
    smtp_port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    tls: bool = False  # implicit TLS (port 465); exclusive with starttls
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    timeout: Duration = timedelta(seconds=30)

    @field_validator("username", "password", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _one_tls_mode(self) -> EmailChannel:
        if self.tls and self.starttls:
            raise ValueError("choose one of 'tls' (implicit, port 465) or 'starttls'")
        return self


class WebhookChannel(_Model):
    type: Literal["webhook"]
    url: SecretStr
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    timeout: Duration = timedelta(seconds=10)


class AtomChannel(_Model):
    type: Literal["atom"]
    directory: str  # one <watchlist>.atom file per watchlist
    max_entries: int = Field(100, ge=1)


class AppriseChannel(_Model):
    type: Literal["apprise"]
    urls: list[SecretStr] = Field(min_length=1)


Channel = Annotated[
    ConsoleChannel | JsonlChannel | SlackChannel | EmailChannel | WebhookChannel | AtomChannel
    | AppriseChannel,
    Field(discriminator="type"),
]


_CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"
DigestMode = Literal["instant", "hourly", "daily", "adaptive"]


class Delivery(_Timezone):
    """When a watchlist's alerts go out on a channel."""

    digest: DigestMode = "instant"
    at: str = Field("08:00", pattern=_CLOCK)  # daily digests: local time of day
    timezone: str = "UTC"
    quiet_hours: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
    adaptive_limit: int = Field(3, ge=1)  # adaptive: this many alerts an hour go out at once


class Route(_Timezone):
    """A channel of a watchlist with its own delivery settings (unset ones come from the watchlist)."""

    channel: str
    digest: DigestMode | None = None
    at: str | None = Field(None, pattern=_CLOCK)
    timezone: str | None = None
    quiet_hours: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
    adaptive_limit: int | None = Field(None, ge=1)


class Watchlist(_Model):
    name: str = Field(pattern=_NAME)
    query: str = Field(min_length=1)
    channels: list[str | Route] = Field(min_length=1)
    delivery: Delivery = Delivery()
    languages: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    exclude: str | None = None
    max_age: Duration | None = None  # alert only on articles published within this; off by default

    @property
    def channel_names(self) -> list[str]:
        return [c if isinstance(c, str) else c.channel for c in self.channels]

    def delivery_for(self, channel: str) -> Delivery:
        """The watchlist's delivery settings, with the channel's own ones on top."""
        for route in self.channels:
            if isinstance(route, Route) and route.channel == channel:
                overrides = route.model_dump(exclude={"channel"}, exclude_none=True)
                return self.delivery.model_copy(update=overrides)
        return self.delivery


class Config(_Model):
    database: str = "sqlite:///data/newswatch.db"
    templates: str | None = None  # a folder whose email/alert templates replace the built-in ones
    schedule: Schedule = Schedule(every=timedelta(minutes=10))
    fetch: FetchSettings = FetchSettings()
    stories: StorySettings = StorySettings()
    health: HealthSettings = HealthSettings()
    sources: list[SourceConfig] = Field(default_factory=list)
    channels: dict[str, Channel] = Field(default_factory=dict)
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    watchlists: list[Watchlist] = Field(default_factory=list)

    def source(self, name: str) -> SourceConfig:
        """The configured source of this name (KeyError if none: it may have left the config)."""
        return self._sources_by_name[name]

    # asked for every article (its source) and every match (its watchlist): a scan made a cycle
    # quadratic in sources and watchlists
    @cached_property
    def _sources_by_name(self) -> dict[str, SourceConfig]:
        return {s.name: s for s in self.sources}

    @cached_property
    def _watchlists_by_name(self) -> dict[str, Watchlist]:
        return {w.name: w for w in self.watchlists}

    def watchlist(self, name: str) -> Watchlist:
        """The watchlist of this name (KeyError if none)."""
        return self._watchlists_by_name[name]
