"""Pausing Python's cyclic garbage collector while a large input is segmented.

Segmenting allocates hundreds of thousands of small objects that all stay alive until the
result is returned (paragraphs, units, articles) and form no reference cycles, so every
collection the allocations trigger finds nothing; on a 50 MB page the full collections
alone were about a fifth of the run, growing with the size of the heap. ``paused_gc()``
turns the collector off for the duration and back on afterwards, if it was on. Reference
counting still frees everything as usual; a cycle made by other code meanwhile is collected
once the collector is back on. Nesting and concurrent use from several threads are safe:
the collector is turned back on when the last user leaves.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_users = 0
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    global _users, _was_enabled
    with _lock:
        if _users == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _was_enabled:
                gc.enable()
