"""The jsonl channel: append one JSON object per alert to a file, whole lines only.

Rules: the lines of one send are written with a single write, then flushed and fsynced, so a
crash leaves whole lines behind (at worst without the last send's). Parent directories are
created. A digest writes one line per alert, like single alerts.
"""

from __future__ import annotations

import errno
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from alerts import render
from alerts.errors import ChannelError
from newswatch.config.schema import JsonlChannel
from newswatch.models import Alert

__all__ = ["send"]

# Errors that waiting cannot fix; anything else (disk full, I/O error) is worth a retry.
_PERMANENT = {errno.EACCES, errno.EPERM, errno.EEXIST, errno.EISDIR, errno.ENOTDIR, errno.EROFS,
              errno.ENAMETOOLONG}


def send(name: str, channel: JsonlChannel, alerts: list[Alert], digest: bool = False) -> None:
    """Append the alerts to `channel.path`."""
    sent_at = datetime.now(timezone.utc)
    lines = "".join(json.dumps(render.record(a, sent_at), ensure_ascii=False) + "\n"
                    for a in alerts)
    path = Path(channel.path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as file:
            file.write(lines)
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        kind = "permanent" if exc.errno in _PERMANENT else "retry"
        raise ChannelError(kind, f"jsonl: cannot append to {path}: {exc.strerror or exc}") from None
