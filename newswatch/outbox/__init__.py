"""The outbox: what is to be sent, to which channel, and when; and sending it, once.

    enqueue(session, watchlist, match_id, now)      a match's deliveries, in the match's transaction
    enqueue_notice(session, topic, title, text, channels, now, url="")   newswatch's own message
    drain(database, channels, now, outlet, templates=None) → [ChannelOutcome]   send what is due

Its parts, each a module: `intake` (what goes in), `cadence` (when an alert goes out: at once, in
a digest, after quiet hours), `assembly` (what an alert says, made of the store's rows), `drain`
(claim, send through the out-edge handed in, record: pending → sending → sent, or failed → … →
dead) and `retry` (when a failed delivery is tried again). The rows and their queries are the
store's (newswatch.store.deliveries); rendering and sending are the out-edge's (`alerts`, passed
to `drain` as its `outlet`), so neither knows the other.
"""

from newswatch.outbox.drain import ChannelOutcome, drain
from newswatch.outbox.intake import enqueue, enqueue_notice

__all__ = ["ChannelOutcome", "drain", "enqueue", "enqueue_notice"]
