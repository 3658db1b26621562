"""Map a function over items in worker processes, in order, in contiguous chunks (joblib's loky backend).

`map_ordered(fn, shared, items, workers, min_chunk)` returns `[fn(shared, item) for item in items]`. With one
worker, or too few items to give two chunks of `min_chunk`, it runs in this process; otherwise each chunk of
items goes with `shared` to one of `workers` loky processes. Loky starts fresh interpreters (never a fork of a
process holding a JVM gateway and its threads) that do not import this process's `__main__`, keeps them for
the next call (a backtest drafts every replayed day), and lets them exit after five idle minutes, so none
outlives its parent for long; a worker that dies is replaced on the next call.

`fn` must be a module-level function, and `shared`, the items and the results picklable (`shared` is sent
with every chunk: keep it small). An exception `fn` lets out is raised here; a worker that dies raises
WorkerDiedError. Callers that must go on past one item's fault catch it inside `fn`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TypeVar

from joblib import Parallel, cpu_count, delayed
from joblib.externals.loky.process_executor import TerminatedWorkerError

from bantay.errors import BantayError

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

CHUNKS_PER_WORKER = 4  # small enough chunks that a slow one does not leave the other workers idle for long
MAX_DEFAULT_WORKERS = 8  # one per CPU by default, but no more: each worker holds its own interpreter


class WorkerDiedError(BantayError):
    """A worker process died (killed, out of memory, a crash in native code) before returning its chunk."""


def default_workers() -> int:
    """One worker per CPU this process may use (affinity and container CPU quota), at most 8."""
    return max(1, min(MAX_DEFAULT_WORKERS, int(cpu_count())))


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
    parallel = Parallel(n_jobs=min(workers, len(chunks)), backend="loky", batch_size=1)
    try:
        parts = parallel(delayed(_run_chunk)(fn, shared, items[start:stop]) for start, stop in chunks)
    except TerminatedWorkerError as error:
        raise WorkerDiedError(
            f"a worker process died before returning its part of {len(items)} items "
            f"({type(error).__name__}); nothing of this call is kept"
        ) from error
    return [result for part in parts for result in part]


def _run_chunk(fn: Callable[[S, T], R], shared: S, items: Sequence[T]) -> list[R]:
    return [fn(shared, item) for item in items]
