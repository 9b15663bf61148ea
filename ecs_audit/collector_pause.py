"""Python's cyclic garbage collector paused around the bulk phases: evaluation and rendering.

Each phase makes tens of thousands of objects (findings, report lines) and holds no cycles among
them; the collections they would set off walk the whole inventory and report again and again and
find nothing (a third of the evaluation's time on the benchmark estate, a tenth of the
rendering's). Reference counting still frees everything while the collector is off.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused(*, promote: bool = False) -> Iterator[None]:
    """The collector off for the duration, then as it was before.

    promote: what the phase made and keeps (the findings, which live as long as the report) goes
    to the oldest generation unscanned, instead of being walked by the first collection after the
    pause (gc.freeze then gc.unfreeze moves every tracked object there, in constant time). Cyclic
    garbage among it waits for the next full collection."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if promote:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
