"""bantay.pool: the chunks, and a map in real worker processes (spawned) against the same map in process."""

from __future__ import annotations

import operator

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
def test_chunks_cover_the_items_in_order(n_items, workers, min_chunk, expected):
    assert pool.bounds(n_items, workers, min_chunk) == expected


def test_a_map_in_workers_returns_what_the_map_in_process_returns():
    items = list(range(50))
    assert pool.map_ordered(operator.mul, 3, items, workers=2, min_chunk=5) == [3 * i for i in items]


def test_an_error_in_a_worker_is_raised_here():
    with pytest.raises(ZeroDivisionError):
        pool.map_ordered(operator.truediv, 1, [1, 2, 0, 4], workers=2, min_chunk=1)
