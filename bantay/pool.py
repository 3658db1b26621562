"""Map a function over items in worker processes, in order, in contiguous chunks.

`map_ordered(fn, shared, items, workers, min_chunk)` returns `[fn(shared, item) for item in items]`. With one
worker, or too few items to give two chunks of `min_chunk`, it runs in this process; otherwise in a pool of
`workers` `spawn`ed processes (fresh interpreters: never a fork of a process holding a JVM gateway and its
threads), each task a chunk of items with `shared`. The pool is started once per process and worker count
and kept for the next call (a backtest drafts every replayed day), then shut down at exit.

`fn` must be a module-level function whose module is light to import (each worker imports it once), and
`shared`, the items and the results picklable. An exception `fn` lets out, or a worker that dies, is raised
here (a dead worker's pool is dropped: the next call starts a new one); callers that must go on past one
item's fault catch it inside `fn`.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import pairwise, repeat
from typing import TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

CHUNKS_PER_WORKER = 4  # small enough chunks that a slow one does not leave the other workers idle for long

_pools: dict[int, ProcessPoolExecutor] = {}  # by worker count; shut down at exit (`shutdown`)


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
    executor = _pool(workers)
    try:
        parts = list(
            executor.map(_run_chunk, repeat(fn), repeat(shared), [items[a:b] for a, b in chunks])
        )
    except BrokenProcessPool:
        _pools.pop(workers, None)
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    return [result for part in parts for result in part]


def _pool(workers: int) -> ProcessPoolExecutor:
    if workers not in _pools:
        _pools[workers] = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    return _pools[workers]


def shutdown() -> None:
    """Stop the pools this process started (at exit; a test may call it to start afresh)."""
    while _pools:
        _, executor = _pools.popitem()
        executor.shutdown(wait=True)


atexit.register(shutdown)


def _run_chunk(fn: Callable[[S, T], R], shared: S, items: Sequence[T]) -> list[R]:
    return [fn(shared, item) for item in items]
