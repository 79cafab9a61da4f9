"""The combining marks' table: what it holds is what a scan of the running Python finds."""

from __future__ import annotations

import re
import unicodedata

from newswatch.matching import marks


def test_the_table_for_this_unicode_version_is_a_scan_of_it():
    """A version the table lacks is scanned at import: the same by construction."""
    assert marks.KNOWN.get(unicodedata.unidata_version, marks.scan()) == marks.scan()


def test_a_scan_finds_every_mark_below_the_stop_and_nothing_else():
    found = set()
    for part in marks.scan().split():
        first, _, last = part.partition("-")
        found.update(range(int(first, 16), int(last or first, 16) + 1))
    expected = {cp for cp in range(marks.STOP) if unicodedata.category(chr(cp)).startswith("M")}
    assert found == expected


def test_the_class_body_matches_marks_only():
    body = re.compile(f"[{marks.marks()}]")
    assert body.fullmatch("\u0301") and body.fullmatch("\u093f") and body.fullmatch("\u064e")  # ́  ि  َ
    assert not body.search("abc ١٢٣ 北京")
