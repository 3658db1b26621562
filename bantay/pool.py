"""Map a function over items in worker processes, in order, in contiguous chunks, with the state every item
needs sent once to each worker.

`map_ordered(fn, shared, items, workers, min_chunk)` returns `[fn(shared, item) for item in items]`. With one
worker, or too few items to give two chunks of `min_chunk`, it runs in this process; otherwise in a pool of
`spawn`ed processes (a fresh interpreter each: never a fork of a process holding a JVM gateway and its
threads), each receiving `shared` once and then chunks of items. `fn` must be a module-level function and
`shared`, the items and the results picklable. An exception `fn` lets out, or a worker that dies, is raised
here: callers that must go on past one item's fault catch it inside `fn`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise, repeat
from typing import Any, TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

CHUNKS_PER_WORKER = 4  # small enough chunks that a slow one does not leave the other workers idle for long

_shared: Any = None  # in a worker: the `shared` value its pool was started with


def cpu_count() -> int:
    """CPUs this process may run on (its affinity where the platform says, else the machine's)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def bounds(n_items: int, workers: int, min_chunk: int) -> list[tuple[int, int]]:
    """Contiguous [start, stop) chunks covering n_items: up to CHUNKS_PER_WORKER per worker, none smaller than
    min_chunk (one chunk when the items or the workers are too few to split)."""
    n_chunks = max(1, min(workers * CHUNKS_PER_WORKER, n_items // max(1, min_chunk)))
    if workers <= 1 or n_chunks == 1:
        return [(0, n_items)]
    size, extra = divmod(n_items, n_chunks)
    edges = [0]
    for chunk in range(n_chunks):
        edges.append(edges[-1] + size + (1 if chunk < extra else 0))
    return list(pairwise(edges))


def map_ordered(
    fn: Callable[[S, T], R], shared: S, items: Sequence[T], workers: int, min_chunk: int
) -> list[R]:
    """[fn(shared, item) for item in items], in `workers` processes when the items make two chunks or more."""
    chunks = bounds(len(items), workers, min_chunk)
    if len(chunks) == 1:
        return [fn(shared, item) for item in items]
    with ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_share,
        initargs=(shared,),
    ) as pool:
        parts = list(pool.map(_run_chunk, repeat(fn), [items[start:stop] for start, stop in chunks]))
    return [result for part in parts for result in part]


def _share(shared: Any) -> None:
    global _shared
    _shared = shared


def _run_chunk(fn: Callable[[Any, T], R], items: Sequence[T]) -> list[R]:
    return [fn(_shared, item) for item in items]
