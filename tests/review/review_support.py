"""A workbench on a SQLite case store with a team and a day of cases, for the web and browser tests."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "cases"))

from cases_support import PASSWORD, draft, write_day  # noqa: E402

from bantay.cases import db, ingest, users  # noqa: E402

AS_OF = date(2025, 3, 1)
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> O\'Brien & "Co"'
TEAM = {"ana": "investigator", "ben": "approver", "dee": "admin", "root": "admin"}


def make_out(out: Path) -> dict[str, str]:
    """Users, and a day of three cases: c1 (a hostile name), c2 and c3 (country GB payees only on c1)."""
    factory = db.open_store(out)
    with factory.begin() as session:
        for name, role in TEAM.items():
            users.add_user(session, name, PASSWORD, role)
    factory.kw["bind"].dispose()
    drafts = [
        draft("c1", AS_OF, full_name=HOSTILE, score=0.95),
        draft("c2", AS_OF, score=0.6),
        draft("c3", AS_OF, score=0.4),
    ]
    ingest.ingest_day(out, AS_OF, write_day(out, AS_OF, drafts))
    return {c: draft(c, AS_OF)["case_id"] for c in ("c1", "c2", "c3")}


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


__all__ = ["AS_OF", "HOSTILE", "PASSWORD", "TEAM", "csrf_of", "make_out"]
