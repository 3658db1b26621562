"""Benchmark of the workbench: page times for the queue and the case page with 10,000 cases on SQLite.

    .venv/bin/python benchmarks/review.py --work /tmp/bench-review --cases 10000 --requests 2000

Builds a case store under --work (skipped when it already holds the cases): one investigator, and --cases
cases loaded through `bantay.cases.ingest.ingest_drafts` from the real draft in tests/cases/draft_c1.json
re-keyed to a customer each (scores spread over 0.2-1.0, a fifth of the customers alerted again on a second
day). Then serves the app with uvicorn on a free port of 127.0.0.1 only, signs in, and sends a bounded load
of --requests GET requests, one at a time (half queue pages with rotating filters and sorts, half case pages
of random cases), timing each from the client. Prints one JSON document: p50, p95 and max in milliseconds per
page kind, and the load's request rate.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
import socket
import statistics
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bantay.cases import db, ingest, users
from bantay.review.app import create_app
from bantay.sar import build

DRAFT = Path(__file__).resolve().parents[1] / "tests" / "cases" / "draft_c1.json"
AS_OF = date(2025, 3, 1)
PASSWORD = "benchmark-password"
QUEUES = [
    "/queue",
    "/queue?sort=due",
    "/queue?sort=age",
    "/queue?country=PH",
    "/queue?state=new",
    "/queue?sort=score&page_no=10",
]


def _drafts(
    n: int, as_of: date, base: dict[str, Any], rng: random.Random, first: int = 0
) -> list[dict[str, Any]]:
    made = []
    for i in range(first, first + n):
        draft = copy.deepcopy(base)
        customer = f"bench{i:06d}"
        draft["case_id"] = build.case_id(customer, as_of)
        draft["as_of"] = as_of.isoformat()
        draft["subject"]["customer_id"] = customer
        draft["model"]["score"] = round(rng.uniform(0.2, 1.0), 4)
        made.append(draft)
    return made


def build_store(out: Path, cases: int) -> None:
    factory = db.open_store(out)
    with factory.begin() as session:
        if session.get(users.User, 1) is None:
            users.add_user(session, "bench", PASSWORD, "investigator")
    base = json.loads(DRAFT.read_text(encoding="utf-8"))
    rng = random.Random(7)
    for start in range(0, cases, 1000):
        batch = _drafts(min(1000, cases - start), AS_OF, base, rng, first=start)
        with factory.begin() as session:
            ingest.ingest_drafts(session, AS_OF, batch)
    # a fifth alerted again the next day: cases with two days of evidence
    again = [d for d in _drafts(cases, AS_OF + timedelta(days=1), base, rng) if rng.random() < 0.2]
    with factory.begin() as session:
        ingest.ingest_drafts(session, AS_OF + timedelta(days=1), again)
    factory.kw["bind"].dispose()


def _case_ids(out: Path) -> list[str]:
    from sqlalchemy import select

    from bantay.cases.models import Case

    factory = db.open_store(out)
    with factory() as session:
        ids = list(session.scalars(select(Case.id)))
    factory.kw["bind"].dispose()
    return ids


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()
    out = args.work / "out"
    started = time.perf_counter()
    ids = _case_ids(out) if db.default_path(out).exists() else []
    if len(ids) < args.cases:
        build_store(out, args.cases)
        ids = _case_ids(out)
    build_s = time.perf_counter() - started

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(out), host="127.0.0.1", port=port, access_log=False, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base_url = f"http://127.0.0.1:{port}"
    timings: dict[str, list[float]] = {"queue": [], "case": []}
    rng = random.Random(11)
    try:
        with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
            login = client.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
            signed = client.post("/login", data={"csrf": token, "username": "bench", "password": PASSWORD})
            assert signed.status_code == 303, signed.status_code
            for _ in range(3):  # warm-up: imports, templates, the page cache
                client.get("/queue")
                client.get(f"/cases/{ids[0]}")
            load_started = time.perf_counter()
            for i in range(args.requests):
                kind = "queue" if i % 2 == 0 else "case"
                path = QUEUES[(i // 2) % len(QUEUES)] if kind == "queue" else f"/cases/{rng.choice(ids)}"
                t0 = time.perf_counter()
                response = client.get(path)
                timings[kind].append(1000 * (time.perf_counter() - t0))
                assert response.status_code == 200, (path, response.status_code)
            load_s = time.perf_counter() - load_started
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    report = {
        "cases": len(ids),
        "requests": args.requests,
        "store_build_s": round(build_s, 1),
        "requests_per_s": round(args.requests / load_s, 1),
        **{
            kind: {
                "n": len(values),
                "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(_pct(values, 0.95), 1),
                "max_ms": round(max(values), 1),
            }
            for kind, values in timings.items()
        },
    }
    print(json.dumps(report, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
