"""The seed feeds as configured sources, for tests that replay seeds/ over HTTP."""

from __future__ import annotations

__all__ = ["seed_sources"]


def seed_sources(base: str, indent: str = "  ") -> str:
    """YAML list items for the four seed feeds served at `base` (a ReplayServer's base_url)."""
    feeds = [("duvar", "duvar.xml", "en"), ("gazette", "gazette.atom", "en"), ("wire", "wire.xml", "en"),
             ("wire-ar", "arabic.xml", "ar")]
    return "\n".join(f'{indent}- {{name: {name}, url: "{base}/feeds/{file}", language: {language}}}'
                     for name, file, language in feeds)
