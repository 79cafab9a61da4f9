"""Containment turns whatever one item's work raises into that item's failure, loudly."""

from __future__ import annotations

import asyncio
import logging

import pytest

from newswatch.contain import ItemFailure, contain, contain_async


def divide(a: int, b: int) -> float:
    return a / b


def test_a_result_passes_through():
    assert contain("stage", "item", divide, 6, 3) == 2


def test_an_exception_is_the_items_failure_with_its_traceback_in_the_log(caplog):
    with caplog.at_level(logging.ERROR, logger="newswatch.contained"):
        failure = contain("triage", "article 7", divide, 1, 0)
    assert failure == ItemFailure("triage", "article 7", "ZeroDivisionError", "division by zero")
    assert failure.describe() == "triage: unexpected ZeroDivisionError (division by zero)"
    assert failure.signature == "triage:ZeroDivisionError"
    (record,) = caplog.records
    assert "article 7" in record.getMessage() and record.exc_info[0] is ZeroDivisionError


def test_a_long_message_is_cut_and_a_silent_one_named():
    def shout():
        raise ValueError("x\n" * 10_000)

    def mute():
        raise KeyError()

    assert len(contain("s", "i", shout).message) == 500
    assert contain("s", "i", mute).message == "KeyError"


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit, asyncio.CancelledError])
def test_what_stops_the_work_is_not_contained(stop):
    def work():
        raise stop()

    with pytest.raises(stop):
        contain("s", "i", work)


def test_an_awaitable_is_contained_too():
    async def fail():
        raise OverflowError("days=1157407407")

    failure = asyncio.run(contain_async("fetch", "https://a.example/", fail()))
    assert failure.describe() == "fetch: unexpected OverflowError (days=1157407407)"
