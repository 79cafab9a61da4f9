"""A config of one wire source and two channels, `desk` (a local Slack endpoint) and `mail` (a local
SMTP server), as the outbox tests use it; each test file names its own watchlists."""

from __future__ import annotations

import textwrap
from pathlib import Path

from newswatch import config as configuration
from newswatch.config import Config
from newswatch.store import upgrade


def desk_config(tmp_path: Path, slack, smtp, watchlists: list[str], database: str | None = None) -> Config:
    """The config, written to `tmp_path` and loaded, its store migrated; `watchlists`: one YAML flow
    mapping a watchlist."""
    lines = "\n".join(f"  - {watchlist}" for watchlist in watchlists)
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent(f"""\
        database: {database or f"sqlite:///{tmp_path}/store.db"}
        sources: [{{name: wire, url: "https://wire.example/rss"}}]
        channels:
          desk: {{type: slack, webhook_url: "{slack.url}"}}
          mail: {{type: email, smtp_host: 127.0.0.1, smtp_port: {smtp.port}, starttls: false,
                  from: nw@example.org, to: [desk@example.org]}}
        watchlists:
        """) + lines + "\n", encoding="utf-8")
    loaded = configuration.load(path)
    upgrade(loaded.database)
    return loaded
