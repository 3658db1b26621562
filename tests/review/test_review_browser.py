"""The workbench in a real headless Chromium (Debian's package): the whole review of one case by two people.

Skipped only outside CI when /usr/bin/chromium is missing; with CI=1 a missing browser fails the test.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from review_support import HOSTILE, PASSWORD

from bantay.review.app import create_app
from bantay.sar import fincen

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "1":
        pytest.fail(f"{CHROMIUM} is missing and CI=1: the browser tests must run in CI")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")


@pytest.fixture()
def server(out: Path, case_ids: dict[str, str]) -> Iterator[str]:
    """The workbench served by uvicorn on a free port of 127.0.0.1 in a thread."""
    import socket

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(out), host="127.0.0.1", port=port, access_log=False, log_level="warning"
    )
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started:
        assert time.monotonic() < deadline, "the workbench did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=10)


def test_review_claim_edit_decide_four_eyes_approve_and_download(
    server: str, case_ids: dict[str, str], tmp_path: Path
):
    _need_chromium()
    from playwright.sync_api import sync_playwright

    case_url = f"{server}/cases/{case_ids['c1']}"
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

        def signed_in(username: str):  # type: ignore[no-untyped-def]
            context = browser.new_context(accept_downloads=True)
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{server}/queue")
            assert page.url.endswith("/login")
            page.fill("#username", username)
            page.fill("#password", PASSWORD)
            page.click("#sign-in")
            assert page.url.endswith("/queue")
            return page

        # dee (admin: may investigate and approve) reviews the case with the hostile name
        dee = signed_in("dee")
        assert dee.locator("#queue tbody tr").count() == 3
        dee.click(f"text={case_ids['c1']}")
        assert dee.locator("#subject-name").inner_text() == HOSTILE  # shown as text, never run
        assert dee.evaluate("window.__pwned") is None
        dee.click("#claim")
        assert dee.locator("#state").inner_text() == "in_review"
        assert dee.locator("#assignee").inner_text() == "dee"
        dee.fill("#narrative", "Reviewed: repeated small night payments to PH payees in a shared cluster.")
        dee.click("#save-narrative")
        assert "v1 by dee" in dee.locator("#narrative-section").inner_text()
        dee.select_option("#outcome-select", "confirmed")
        dee.fill("#decision-reason", "Pattern and cluster match the typology.")
        dee.click("#decide")
        assert dee.locator("#outcome").inner_text() == "confirmed (SAR filed)"
        dee.click("#submit")
        assert dee.locator("#state").inner_text() == "pending_approval"
        # her own case: the server refuses her approval
        dee.click("#approve")
        assert "another approver must approve" in dee.locator("#error").inner_text()
        dee.goto(case_url)
        assert dee.locator("#state").inner_text() == "pending_approval"

        # ben, an approver, approves; the FinCEN file is offered and valid
        ben = signed_in("ben")
        ben.goto(case_url)
        assert ben.locator("#claim").count() == 0  # approvers do not investigate
        ben.click("#approve")
        assert ben.locator("#state").inner_text() == "approved"
        with ben.expect_download() as info:
            ben.click("#download-fincen")
        saved = tmp_path / "fincen_sar.xml"
        info.value.save_as(saved)
        ben.fill("#fiu-reference", "BSA-0001")
        ben.fill("#fiu-date", "2025-03-05")
        ben.click("#file")
        assert ben.locator("#state").inner_text() == "filed"
        ben.click("#sign-out")
        assert ben.url.endswith("/login")
        ben.goto(case_url)
        assert ben.url.endswith("/login")  # the session is gone
        browser.close()
    assert errors == []
    document = etree.parse(str(saved))
    assert fincen.schema().validate(document), fincen.schema().error_log
    texts = document.getroot().findall(f".//{{{fincen.NS}}}ActivityNarrativeText")
    assert [t.text for t in texts] == [
        "OCSE-FIN-2021-NTC3. Reviewed: repeated small night payments to PH payees in a shared cluster."
    ]
