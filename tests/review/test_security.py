"""The workbench's defences over HTTP: CSRF, roles, injection in filters, unknown ids, cookies, logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from review_support import PASSWORD, csrf_of

Client = Callable[[str | None], TestClient]


def test_every_page_needs_a_session(client_for: Client, case_ids: dict[str, str]):
    anonymous = client_for(None)
    for path in (
        "/queue",
        f"/cases/{case_ids['c1']}",
        f"/cases/{case_ids['c1']}/fincen_sar.xml",
        "/admin/users",
    ):
        response = anonymous.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/login")
    response = anonymous.post(f"/cases/{case_ids['c1']}/claim", data={"csrf": "x"})
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_session_cookie_is_httponly_and_samesite(client_for: Client):
    client = client_for(None)
    login = client.get("/login")
    response = client.post(
        "/login", data={"csrf": csrf_of(login.text), "username": "ana", "password": PASSWORD}
    )
    cookie = response.headers["set-cookie"].lower()
    assert "bantay_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_a_form_without_its_csrf_token_is_refused(client_for: Client, case_ids: dict[str, str]):
    ana = client_for("ana")
    case = f"/cases/{case_ids['c1']}"
    for data in ({}, {"csrf": "forged"}, {"csrf": "jeton-forgé"}):
        response = ana.post(f"{case}/claim", data=data)
        assert response.status_code == 403
    assert 'id="state">new<' in ana.get(case).text  # nothing changed
    response = ana.post(f"{case}/claim", data={"csrf": csrf_of(ana.get(case).text)})
    assert response.status_code == 303
    assert 'id="state">in_review<' in ana.get(case).text
    # the sign-in form has its own token (a cookie and a field that must agree)
    fresh = client_for(None)
    assert fresh.post("/login", data={"username": "ana", "password": PASSWORD}).status_code == 403


def test_an_investigator_cannot_reach_admin_or_approval(client_for: Client, case_ids: dict[str, str]):
    ana = client_for("ana")
    token = csrf_of(ana.get("/queue").text)
    assert ana.get("/admin/users").status_code == 403
    response = ana.post(
        "/admin/users", data={"csrf": token, "username": "eve", "password": PASSWORD, "role": "admin"}
    )
    assert response.status_code == 403
    case = f"/cases/{case_ids['c1']}"
    ana.post(f"{case}/claim", data={"csrf": token})
    ana.post(f"{case}/decide", data={"csrf": token, "outcome": "confirmed", "reason": "typology"})
    assert ana.post(f"{case}/submit", data={"csrf": token}).status_code == 303
    for action in ("approve", "refuse"):
        response = ana.post(f"{case}/{action}", data={"csrf": token, "reason": "mine"})
        assert response.status_code == 403
    assert 'id="state">pending_approval<' in ana.get(case).text
    root = client_for("root")
    assert root.get("/admin/users").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "country=' OR '1'='1",
        "country=%25",  # a LIKE wildcard is matched literally
        "assignee=' OR 1=1 --",
        "reason=x'); DROP TABLE cases; --",
        "state=new' OR 'a'='a",
        "region=NCR%' OR 1=1 --",
        "sort=score; DELETE FROM cases",  # an unknown sort falls back to score
    ],
)
def test_injection_in_a_filter_returns_an_empty_result(
    client_for: Client, case_ids: dict[str, str], query: str
):
    ana = client_for("ana")
    response = ana.get(f"/queue?{query}")
    assert response.status_code == 200
    listed = sum(case in response.text for case in case_ids.values())
    assert listed == (3 if query.startswith("sort=") else 0)
    assert all(case in ana.get("/queue").text for case in case_ids.values())  # the table is intact


def test_metrics_page_and_plots(client_for: Client):
    ana = client_for("ana")
    page = ana.get("/metrics")
    assert page.status_code == 200 and 'id="overdue"' in page.text
    plots = ana.get("/metrics/plots.png")
    assert plots.headers["content-type"] == "image/png" and plots.content[:4] == b"\x89PNG"


def test_queue_filters_by_country_and_state(client_for: Client, case_ids: dict[str, str]):
    ana = client_for("ana")
    assert all(case in ana.get("/queue?country=ph").text for case in case_ids.values())
    # The only GB counterparty of draft_c1.json is the token seller: supporting evidence, not a payee.
    assert 'id="empty"' in ana.get("/queue?country=gb").text
    assert 'id="empty"' in ana.get("/queue?state=filed").text
    assert all(case in ana.get("/queue?region=Central+Luzon").text for case in case_ids.values())
    assert 'id="empty"' in ana.get("/queue?region=NCR").text
    order = ana.get("/queue?sort=score").text
    assert order.index(case_ids["c1"]) < order.index(case_ids["c2"]) < order.index(case_ids["c3"])


@pytest.mark.parametrize(
    "path",
    [
        "/cases/C-20990101-0000000000",
        "/cases/not-a-case",
        "/cases/C-2025' OR '1'='1",
        "/cases/%00",
        "/cases/C-20250301-0000000000/fincen_sar.xml",
        "/no/such/page",
    ],
)
def test_unknown_or_malformed_case_id_is_404_without_traceback(client_for: Client, path: str):
    response = client_for("ana").get(path)
    assert response.status_code == 404
    assert "Traceback" not in response.text and 'File "' not in response.text


def test_the_hostile_name_is_escaped_and_logs_hold_no_personal_data(
    client_for: Client, case_ids: dict[str, str], caplog: pytest.LogCaptureFixture
):
    ana = client_for("ana")
    with caplog.at_level(logging.INFO, logger="bantay"):
        page = ana.get(f"/cases/{case_ids['c1']}").text
        ana.get("/queue?country=PH&assignee=ana")
    assert "<script>window.__pwned" not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"GET /cases/{case_ids['c1']} 200" in logged
    for private in ("c1", "O'Brien", "country=PH", "127.0.0.1", "testclient"):
        assert private not in logged.replace(case_ids["c1"], "")


def test_lock_out_shows_on_the_sign_in_page(client_for: Client):
    client = client_for(None)
    for _ in range(5):
        login = client.get("/login")
        response = client.post(
            "/login", data={"csrf": csrf_of(login.text), "username": "ben", "password": "wrong!"}
        )
        assert response.status_code == 401
    login = client.get("/login")
    response = client.post(
        "/login", data={"csrf": csrf_of(login.text), "username": "ben", "password": PASSWORD}
    )
    assert response.status_code == 401 and "locked" in response.text


def test_case_page_lists_supporting_transactions_apart(client_for: Client, case_ids: dict[str, str]):
    # draft_c1.json: t5, the token seller's card payment, is supporting evidence, not a suspected payment.
    page = client_for("ana").get(f"/cases/{case_ids['c1']}").text
    before, supporting = page.split('id="supporting-transactions"')
    timeline = before.split('<section id="timeline">')[1]
    assert "<td>t5</td>" in supporting.split("</table>")[0]
    assert "<td>t1</td>" in timeline and "<td>t5</td>" not in timeline


def test_case_page_plots_supporting_rows_apart_from_reported_payments(
    client_for: Client, case_ids: dict[str, str]
):
    # draft_c1.json reports t1-t4 (dots) and lists t5, the token seller's card payment, as supporting.
    page = client_for("ana").get(f"/cases/{case_ids['c1']}").text
    plot = page.split('<figure id="timeline-plot">')[1].split("</figure>")[0]
    dots = re.findall(r'<circle class="reported"[^>]*><title>([^<]*)</title>', plot)
    squares = re.findall(r'<rect class="supporting"[^>]*><title>([^<]*)</title>', plot)
    assert [d.rsplit(" ", 1)[1].rstrip(")") for d in dots] == ["t1", "t2", "t3", "t4"]
    assert len(squares) == 1 and squares[0].endswith("(supporting, not reported: t5)")
    assert "blue square: supporting row, not reported" in plot


def _served_app(monkeypatch: pytest.MonkeyPatch, out, secure_cookies: bool):
    """The app `bantay review` would serve (uvicorn not started)."""
    import uvicorn

    from bantay.review import app as web

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.setdefault("app", app))
    web.serve(out, None, "127.0.0.1", 8000, secure_cookies=secure_cookies)
    return served["app"]


@pytest.mark.parametrize("secure", [True, False])
def test_served_behind_https_the_cookies_are_secure(monkeypatch: pytest.MonkeyPatch, out, secure: bool):
    client = TestClient(_served_app(monkeypatch, out, secure), base_url="https://wb", follow_redirects=False)
    login = client.get("/login")
    assert ("secure" in login.headers["set-cookie"].lower()) is secure
    form = {"csrf": csrf_of(login.text), "username": "ana", "password": PASSWORD}
    signed = client.post("/login", data=form)
    assert signed.status_code == 303
    assert ("secure" in signed.headers["set-cookie"].lower()) is secure


def test_a_slow_sign_in_does_not_hold_other_requests(monkeypatch: pytest.MonkeyPatch, out):
    """The password check runs in a worker thread: a flood of sign-ins cannot stall the event loop."""
    import asyncio
    import time

    import httpx

    from bantay.cases import users
    from bantay.review.app import create_app

    def slow(*args, **kwargs):
        time.sleep(3.0)
        raise users.AuthenticationError(users.REFUSED)

    monkeypatch.setattr(users, "authenticate", slow)
    app = create_app(out)

    async def both() -> float:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            login = await client.get("/login")
            data = {"csrf": csrf_of(login.text), "username": "ana", "password": "wrong password"}
            started = time.perf_counter()
            signing = asyncio.create_task(client.post("/login", data=data))
            await asyncio.sleep(0.1)  # the sign-in is inside its password check now
            assert (await client.get("/style.css")).status_code == 200
            waited = time.perf_counter() - started
            assert (await signing).status_code == 401
            return waited

    assert asyncio.run(both()) < 2.0  # blocked, it would wait out the whole 3 s check
