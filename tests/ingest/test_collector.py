"""The garbage collector pause around segmentation leaves the collector as it found it."""

from __future__ import annotations

import gc
import threading

import pytest

from annotations.ingest import segment_text
from annotations.ingest.collector import paused_gc

PAGE = "A Title\n\nSouth Front\n\nThe army said it had captured the hill near the town.\n"


@pytest.fixture(autouse=True)
def _restore_gc():
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_segmenting_turns_the_collector_back_on() -> None:
    gc.enable()
    assert segment_text(PAGE)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    assert segment_text(PAGE)
    assert not gc.isenabled()


def test_nested_and_failing_pauses_restore_the_collector() -> None:
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
        segment_text(PAGE)  # pauses again inside
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), paused_gc():
        raise ValueError("boom")
    assert gc.isenabled()


def test_overlapping_pauses_in_threads_end_with_the_last_one() -> None:
    gc.enable()
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with paused_gc():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    with paused_gc():
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread still segments
    leave.set()
    thread.join(10)
    assert gc.isenabled()
