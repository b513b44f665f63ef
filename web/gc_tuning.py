"""The garbage collector of a started server: what start-up made stays out of its scans, and the
young generation is collected less often."""

import contextlib
import gc
from collections.abc import Iterator

# CPython collects the young generation once 700 more containers are alive than at the last
# collection; 16 to 32 GraphQL requests in flight pass that every 16 requests or so (and every
# tenth of those collections is an older generation's). A request frees nearly all it made, so at
# 50,000 a collection is rare (none in 12,000 requests; BENCHMARKS.md) and cyclic garbage waits
# a bounded while.
YOUNG_GENERATION_THRESHOLD = 50_000


@contextlib.contextmanager
def settled_gc() -> Iterator[None]:
    """From the end of start-up until shutdown. The ~87,000 objects alive then (modules, schema,
    pool) live as long as the server: frozen, a full collection no longer walks them and takes
    ~1 ms instead of 40 to 300 under load. Undone at shutdown, so that a process that starts
    several apps (the tests) still collects what the earlier ones leave."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
