"""Durations ("30s", "10m", "2h", "1d") and sizes ("512KB", "5MB") as they are written in YAML."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["ByteSize", "Duration", "format_duration", "parse_bytes", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
               "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parse_duration(value: object) -> timedelta:
    """A number of seconds, a timedelta, or a string such as 30s, 10m, 2h, 1d."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 10m, 2h or 1d")
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration: write 30s, 10m, 2h or 1d")
    number, unit = match.groups()
    return timedelta(seconds=float(number) * _DURATION_UNITS[unit])


def parse_bytes(value: object) -> int:
    """A number of bytes, or a string such as 512KB, 5MB, 1GiB."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 512KB or 5MB")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a size: write 512KB, 5MB or a number of bytes")
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[(unit or "b").lower()])


def format_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    for unit in ("d", "h", "m", "s"):
        size = _DURATION_UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration)]
ByteSize = Annotated[int, BeforeValidator(parse_bytes)]
