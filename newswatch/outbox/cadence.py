"""When an alert goes out: at once, or in a digest, given the watchlist's delivery settings.

A pure decision of (settings, now, alerts sent at once in the last hour):
- `instant`: now.
- `hourly`: in the digest at the next full hour.
- `daily`: in the digest at the next `at` o'clock in `timezone`.
- `adaptive`: now for the first `adaptive_limit` alerts of the hour, then in the hourly digest,
  so a breaking story does not flood a channel.
Quiet hours (`22:00-07:00`, in `timezone`, may span midnight) hold anything due inside them for
a digest at their end.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from newswatch.config.schema import Delivery

__all__ = ["plan"]


def plan(settings: Delivery, now: datetime, sent_at_once_last_hour: int) -> tuple[datetime, bool]:
    """(when to send, whether as part of a digest)."""
    mode = settings.digest
    if mode == "instant" or (mode == "adaptive" and sent_at_once_last_hour < settings.adaptive_limit):
        when, digest = now, False
    elif mode == "daily":
        when, digest = _next_clock(now, _clock(settings.at), ZoneInfo(settings.timezone)), True
    else:  # hourly, or adaptive over its limit
        when, digest = _next_hour(now), True
    if settings.quiet_hours:
        quiet_end = _quiet_end(when, settings.quiet_hours, ZoneInfo(settings.timezone))
        if quiet_end is not None:
            when, digest = quiet_end, True
    return when, digest


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _next_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _next_clock(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate.astimezone(now.tzinfo)


def _quiet_end(moment: datetime, window: str, zone: ZoneInfo) -> datetime | None:
    """The end of the quiet window `moment` falls in, or None when it is outside."""
    start_text, end_text = window.split("-")
    start, end = _clock(start_text), _clock(end_text)
    local = moment.astimezone(zone)
    clock = local.time()
    inside = start <= clock < end if start <= end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if start > end and clock >= start else local.date()
    return datetime.combine(day, end, tzinfo=zone).astimezone(moment.tzinfo)
