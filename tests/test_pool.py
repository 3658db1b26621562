"""bantay.pool: the chunks, and maps in real worker processes against the same maps in process."""

from __future__ import annotations

import operator
import os

import pytest

from bantay import pool


@pytest.mark.parametrize(
    ("n_items", "workers", "min_chunk", "expected"),
    [
        (10, 1, 1, [(0, 10)]),  # one worker: one chunk, in process
        (63, 2, 32, [(0, 63)]),  # too few items for two chunks of 32
        (64, 2, 32, [(0, 32), (32, 64)]),
        (10, 2, 1, [(0, 2), (2, 4), (4, 5), (5, 6), (6, 7), (7, 8), (8, 9), (9, 10)]),  # 4 chunks a worker
        (0, 2, 1, [(0, 0)]),
    ],
)
def test_bounds_cover_the_items_in_order(n_items, workers, min_chunk, expected):
    assert pool.bounds(n_items, workers, min_chunk) == expected


def _pid(shared: int, item: int) -> tuple[int, int]:
    return shared * item, os.getpid()


def _exit_on(shared: int, item: int) -> int:
    if item == shared:
        os._exit(3)  # a worker killed mid-chunk, as by the kernel's out-of-memory killer
    return item


def test_map_ordered_in_workers_returns_the_map_in_order_from_other_processes():
    results = pool.map_ordered(_pid, 3, list(range(50)), workers=2, min_chunk=5)
    assert [value for value, _ in results] == [3 * i for i in range(50)]
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    # Too few items for two chunks: this process, the same values.
    assert pool.map_ordered(_pid, 3, [1, 2], workers=2, min_chunk=5) == [(3, os.getpid()), (6, os.getpid())]


def test_map_ordered_raises_what_fn_raised_in_a_worker():
    with pytest.raises(ZeroDivisionError):
        pool.map_ordered(operator.truediv, 1, [1, 2, 0, 4], workers=2, min_chunk=1)


def test_map_ordered_says_when_a_worker_died_and_the_next_call_works():
    with pytest.raises(pool.WorkerDiedError, match="a worker process died before returning its part of 8"):
        pool.map_ordered(_exit_on, 5, list(range(8)), workers=2, min_chunk=1)
    assert pool.map_ordered(_exit_on, -1, list(range(8)), workers=2, min_chunk=1) == list(range(8))


def test_default_workers_is_one_per_cpu_at_most_eight():
    assert 1 <= pool.default_workers() <= min(8, os.cpu_count() or 1)
