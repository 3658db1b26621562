"""One draft.html rendered by headless Chromium: no console errors, and a screenshot to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sar_world import AS_OF, load_draft

from bantay.sar import build

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_draft_html_renders_in_chromium_without_console_errors(drafted: Path, tmp_path: Path):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "1":
            pytest.fail(f"{CHROMIUM} is missing and CI=1: the browser test must run in CI")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    case = drafted / build.case_id("c1", AS_OF)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((case / "draft.html").as_uri())
        circles = page.locator("#timeline svg circle").count()
        rows = page.locator("#transactions table.txns:not(.supporting) tbody tr").count()
        supporting = page.locator("#transactions table.supporting tbody tr").count()
        banner = page.locator("#immediate-risk").inner_text()
        page.screenshot(path=str(tmp_path / "draft.png"), full_page=True)
        browser.close()
    assert errors == []
    draft = load_draft(case)
    assert rows == len(draft["transactions"]) == 4
    assert supporting == len(draft["supporting_transactions"]) == 1  # the token seller's card payment
    assert circles == 4  # one dot per suspected payment
    assert "police" in banner
    assert (tmp_path / "draft.png").stat().st_size > 10_000
