"""Drain the outbox: claim due deliveries per channel, send, record the outcome.

The sending is the out-edge's, handed in as a value (`Outlet`: the `alerts` package is the one),
so the out-edge renders and sends and knows no database; this module claims, asks what each
alert says (newswatch.outbox.assembly), leases and records.

Rules: channels drain in parallel threads, so one channel's outage never delays another. One
message per story (issue 19): the claimed deliveries of one story and revision, due together
because several watchlists alerted it, go out as one message naming every watchlist
(assembly.combine), and the due digest deliveries as one digest listing each story once; the
notices one by one. A message's deliveries share its one attempt and its one outcome, each row
marked (so the outbox still holds one row per story, watchlist and channel, and retries stay
exact); a row already sent is never claimed again, so a later retry groups only what is still due.
A transient
error ("retry") stops that channel for this run: the failed message gets its backoff from
`newswatch.outbox.retry`, and what was claimed but not tried goes back to pending at the same time.
A permanent error marks only that message's deliveries dead and the channel goes on.

Containment (newswatch.contain): anything else a send raises (a channel's bug, a user's template
that fails to render, a number no rule foresaw) is that message's failed attempt with its error
recorded, counted as `unexpected`: retried with the backoff of a transient error, dead after the
same budget, and the channel goes on with its next message. What escapes a channel's whole drain
(its store calls failing) is that channel's outcome (`error`, `unexpected`), never the other
channels' or the cycle's; what it held stays `sending` until its lease ends, then is sent again.

Leases: every claim, renewal and mark reads the clock when it happens: the stage's `now` advanced
by the monotonic time since the stage began (so a test's frozen `now` still holds). While a batch
is held, a keeper thread renews the lease of what is not finished every third of the lease, so
neither a slow send nor a long drain lets it run out. Before each message the lease is confirmed:
what another sender took over meanwhile is not sent, and no mark touches a delivery that another
claim holds (the claim token).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from newswatch.config import DEFAULTS, Channel
from newswatch.contain import ItemFailure, contain
from newswatch.models import Alert
from newswatch.outbox import assembly
from newswatch.outbox.retry import next_attempt
from newswatch.store import deliveries, session

__all__ = ["ChannelOutcome", "Held", "Outlet", "Refusal", "drain"]

log = logging.getLogger("newswatch.deliver")


class Refusal(Protocol):
    """A channel's refusal of one message (alerts.ChannelError); its str() is the message."""

    kind: str  # "retry" (transient) or "permanent"
    retry_after_seconds: float | None


class Outlet(Protocol):
    """The out-edge as the drain uses it; the `alerts` package is one."""

    def prepare(self, templates: str | None, installation: str) -> None:
        """Render with the config's `templates` and the store's `installation` id from now on."""

    def attempt(self, name: str, channel: Channel, alerts: list[Alert], *, digest: bool) -> Refusal | None:
        """Send one message to the channel `name`: None when it went out, its refusal when not."""


@dataclass(frozen=True)
class Held:
    """A claimed delivery with its alert, held under the claim's token."""

    alert: Alert
    attempts: int  # including this one
    digest: bool
    token: str


Clock = Callable[[], datetime]
Message = list[Held]


@dataclass
class ChannelOutcome:
    channel: str
    sent: int = 0
    failed: int = 0
    dead: int = 0
    unexpected: int = 0  # deliveries whose send raised what no rule knows (also in failed or dead)
    error: str | None = None


def drain(database: str, channels: dict[str, Channel], now: datetime, outlet: Outlet,
          templates: str | None = None) -> list[ChannelOutcome]:
    """Send every due delivery of every configured channel through `outlet` (`templates`: the
    config's override)."""
    if not channels:
        return []
    with session(database) as current:
        outlet.prepare(templates, deliveries.installation_id(current))
    clock = _clock(now)
    with ThreadPoolExecutor(max_workers=min(8, len(channels)), thread_name_prefix="deliver") as pool:
        return list(pool.map(lambda item: _drain_contained(database, item[0], item[1], outlet, clock),
                             channels.items()))


def _drain_contained(database: str, name: str, channel: Channel, outlet: Outlet, clock: Clock) -> ChannelOutcome:
    """`_drain`, with what escapes it as the channel's own failed outcome."""
    outcome = ChannelOutcome(name)
    drained = contain("deliver", f"channel {name}", _drain, database, name, channel, outlet, clock, outcome)
    if isinstance(drained, ItemFailure):
        outcome.unexpected += 1
        outcome.error = drained.describe()
    return outcome


def _clock(start: datetime) -> Clock:
    """`start`, moving on as the stage runs: a lease is counted from when it is taken."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def _drain(database: str, name: str, channel: Channel, outlet: Outlet, clock: Clock,
           outcome: ChannelOutcome) -> ChannelOutcome:
    """Claim, send and mark the channel's due deliveries, batch after batch, counting in `outcome`."""
    while True:
        batch = _claim(database, name, clock())
        if not batch:
            return outcome
        with _Lease(database, batch, clock) as lease:
            if not _send_batch(database, name, channel, outlet, batch, lease, outcome, clock):
                return outcome


def _claim(database: str, name: str, now: datetime) -> Message:
    """Claim the channel's due deliveries, each with what its alert says, in one transaction."""
    with session(database) as current:
        claimed = deliveries.claim(current, name, now)
        if not claimed:
            return []
        said = assembly.alerts(current, [c.delivery_id for c in claimed])
    return [Held(said[c.delivery_id], c.attempts, c.digest, c.token) for c in claimed]


def _send_batch(database: str, name: str, channel: Channel, outlet: Outlet, batch: Message, lease: _Lease,
                outcome: ChannelOutcome, clock: Clock) -> bool:
    """Send the batch's messages in turn; False when a transient error stops the channel."""
    messages = _messages(batch)
    for position, message in enumerate(messages):
        held = lease.confirm([c.alert.delivery_id for c in message])
        message = [c for c in message if c.alert.delivery_id in held]
        if not message:
            continue  # taken over by another sender: it is theirs to send
        result = contain("deliver", f"{name} deliveries {','.join(map(str, sorted(held)))}", outlet.attempt,
                         name, channel, assembly.combine([c.alert for c in message]), digest=message[0].digest)
        if result is None:
            _record_sent(database, outcome, message, clock(), lease.token)
        elif _record_failure(database, outcome, message, result, clock(), lease.token):
            _put_back(database, [c for m in messages[position + 1:] for c in m], message[0], clock(), lease.token)
            return False
        lease.finish(c.alert.delivery_id for c in message)
    return True


def _messages(batch: Message) -> list[Message]:
    """One message per story and revision of the instant deliveries (one per notice), in the order
    of their first delivery, then one for the digest deliveries."""
    singles: dict[tuple[int, int] | int, Message] = {}
    digest: Message = []
    for position, claimed in enumerate(batch):
        alert = claimed.alert
        if claimed.digest:
            digest.append(claimed)
        else:
            singles.setdefault((alert.story_id, alert.revision) if alert.story_id else -position - 1,
                               []).append(claimed)
    return [*singles.values(), *([digest] if digest else [])]


def _record_sent(database: str, outcome: ChannelOutcome, message: Message, now: datetime, token: str) -> None:
    ids = [c.alert.delivery_id for c in message]
    with session(database) as current:
        marked = deliveries.mark_sent(current, ids, now, token)
    outcome.sent += len(ids)
    if marked < len(ids):
        log.warning("deliver channel=%s deliveries=%s status=sent error=lease lost while sending",
                    outcome.channel, ",".join(map(str, ids)))


def _record_failure(database: str, outcome: ChannelOutcome, message: Message,
                    result: Refusal | ItemFailure, now: datetime, token: str) -> bool:
    """Mark the message failed (or dead); True when the error stops the channel for this run."""
    if isinstance(result, ItemFailure):
        kind, text, wait = "retry", result.describe(), None
        outcome.unexpected += len(message)
    else:
        kind, text, wait = result.kind, str(result), result.retry_after_seconds
    retry_at = next_attempt(kind, max(c.attempts for c in message), now, wait,
                            max_attempts=DEFAULTS["delivery_attempts"])
    with session(database) as current:
        deliveries.mark_failed(current, [c.alert.delivery_id for c in message], text, retry_at, token)
    if retry_at is None:
        outcome.dead += len(message)
    else:
        outcome.failed += len(message)
    outcome.error = text
    log.warning("deliver channel=%s stories=%s status=%s error=%s", outcome.channel,
                ",".join(dict.fromkeys(str(c.alert.story_id) for c in message)), "dead" if retry_at is None else "failed",
                text)
    return not isinstance(result, ItemFailure) and result.kind == "retry"


def _put_back(database: str, untried: Message, failed: Held, now: datetime, token: str) -> None:
    """Claimed but not tried: due again when the failed one is, without counting an attempt."""
    if not untried:
        return
    with session(database) as current:
        retry_at = deliveries.next_attempt_of(current, failed.alert.delivery_id) or now
        deliveries.unclaim(current, [c.alert.delivery_id for c in untried], retry_at, token)


class _Lease:
    """A claimed batch's lease: renewed by a keeper thread every third of LEASE until closed."""

    def __init__(self, database: str, batch: Message, clock: Clock):
        self.token = batch[0].token
        self._database, self._clock = database, clock
        self._unfinished = {c.alert.delivery_id for c in batch}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._keeper = threading.Thread(target=self._keep, name="deliver-lease", daemon=True)

    def __enter__(self) -> _Lease:
        self._keeper.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._closed.set()
        self._keeper.join()

    def confirm(self, ids: list[int]) -> set[int]:
        """Renew the lease of `ids` now; those of them this claim still holds."""
        held = self._renew(ids)
        lost = set(ids) - held
        if lost:
            log.warning("deliver deliveries=%s status=skipped error=lease taken over by another sender",
                        ",".join(map(str, sorted(lost))))
            self.finish(lost)
        return held

    def finish(self, ids) -> None:
        with self._lock:
            self._unfinished -= set(ids)

    def _keep(self) -> None:
        # read LEASE each time: tests shorten it
        while not self._closed.wait(deliveries.LEASE.total_seconds() / 3):
            with self._lock:
                ids = sorted(self._unfinished)
            if ids:
                contain("deliver", f"lease of deliveries {','.join(map(str, ids))}", self._renew, ids)

    def _renew(self, ids: list[int]) -> set[int]:
        with session(self._database) as current:
            return deliveries.renew(current, ids, self.token, self._clock())
