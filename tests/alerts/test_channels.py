"""The registry and the `send` contract (and `attempt`, as the outbox's drain sends), and the console
channel."""

from __future__ import annotations

import typing

import pytest

import alerts
from alerts import CHANNELS, send
from newswatch.config.schema import Channel, ConsoleChannel
from tests.alerts.samples import ALERTS, DIGEST


def test_registry_covers_every_channel_type_of_the_schema():
    union = typing.get_args(typing.get_args(Channel)[0])
    types = {typing.get_args(model.model_fields["type"].annotation)[0] for model in union}
    assert set(CHANNELS) == types


def test_public_surface():
    assert set(alerts.__all__) >= {"CHANNELS", "ChannelError", "attempt", "prepare", "send"}


def test_attempt_returns_the_channels_refusal_and_raises_anything_else(monkeypatch, capsys):
    refusal = alerts.ChannelError("retry", "console: busy", 30)

    def busy(name, channel, items, digest):
        raise refusal

    console = ConsoleChannel(type="console")
    assert alerts.attempt("console", console, [ALERTS["escaping"]]) is None and capsys.readouterr().out
    monkeypatch.setitem(CHANNELS, "console", busy)
    assert alerts.attempt("console", console, [ALERTS["escaping"]]) is refusal
    with pytest.raises(ValueError):  # not a refusal: the drain contains it as an unexpected failure
        alerts.attempt("console", console, DIGEST)


@pytest.mark.parametrize(("items", "digest"), [([], False), ([], True), (DIGEST, False)],
                         ids=["none", "empty-digest", "many-without-digest"])
def test_send_refuses_a_wrong_count(items, digest):
    with pytest.raises(ValueError):
        send("console", ConsoleChannel(type="console"), items, digest=digest)


def test_console_prints_a_readable_block(capsys):
    send("console", ConsoleChannel(type="console"), [ALERTS["escaping"]])
    out = capsys.readouterr().out
    for expected in ("Acme & Sons' <b>record</b>", "Reuters · 2026-03-14 09:30 UTC",
                     "watchlist acme", "matched: acme, profit*",
                     "https://news.example.com/business/acme-q3?utm_source=rss&id=42",
                     "also reported by 3 outlets: AP, BBC News, Le Monde"):
        assert expected in out


def test_console_digest(capsys):
    send("console", ConsoleChannel(type="console"), DIGEST, digest=True)
    out = capsys.readouterr().out
    assert "3 stories for acme" in out and "Regulator fines Acme" in out
