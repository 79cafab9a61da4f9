"""Two reports side by side: the story stage's decision for them, with its evidence.

The decision the store makes for two reports that far apart in time (stories.settlement): further
apart than the story window, never one story (the store compares a report only with those of its
window, and a text key expires with it); within it, the same normalised text is one story by its
exact key (`text:`), otherwise `similarity.relate` at that distance: a duplicate (a copy, edited), a
report of the same event, or unrelated. `newswatch relate` prints it for local files, so a user can see why two reports were
(or were not) told as one story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newswatch.models import Document
from newswatch.stories.evidence import signals
from newswatch.stories.fingerprint import text_hash
from newswatch.stories.similarity import fingerprint, relate

__all__ = ["PairDecision", "decide"]


@dataclass(frozen=True)
class PairDecision:
    relation: str  # "duplicate" | "same_event" | "unrelated"
    score: float
    evidence: dict = field(default_factory=dict)


def decide(a: Document, b: Document, hours_apart: float | None, window_hours: float) -> PairDecision:
    """The relation of reports `a` and `b`, `hours_apart` (None: time unknown)."""
    if hours_apart is not None and abs(hours_apart) > window_hours:  # the store never compares them
        return PairDecision("unrelated", 0.0, {"hours_apart": hours_apart, "window_hours": window_hours,
                                               "reason": f"{abs(hours_apart):.0f} h apart (> {window_hours:.0f} h): "
                                                         "beyond the story window, a report starts a story of its own"})
    digest = text_hash(a.text)
    if digest is not None and digest == text_hash(b.text):
        return PairDecision("duplicate", 1.0, {"key": f"text:{digest}"})
    first, second = fingerprint(a.title, a.text, a.language), fingerprint(b.title, b.text, b.language)
    relation = relate(first, second, hours_apart, window_hours)
    evidence = {name: round(value, 4) for name, value in signals(first, second).items()}  # copy: MinHash Jaccard
    evidence.update(hours_apart=hours_apart, window_hours=window_hours, reason=relation.reason)
    return PairDecision(relation.kind, round(relation.score, 4), evidence)
