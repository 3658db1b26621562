"""The workbench web app: sign-in, the queue, the case page and its actions, the FinCEN download, users.

Server-rendered (FastAPI + Jinja2 with autoescape), no scripts. Every route checks the session; every form
carries the session's CSRF token, checked on the server; the workflow rules (roles, states, four-eyes) are
`bantay.cases.store`'s. URLs and logs carry case ids only, never a customer's data.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from bantay.cases import db, metrics, store, users
from bantay.cases.errors import (
    AuthenticationError,
    CaseNotFoundError,
    FourEyesError,
    PermissionDeniedError,
    TransitionError,
    UserError,
)
from bantay.cases.models import CLEARED, OUTCOMES, ROLES, STATES, Case, Note, User, WebSession
from bantay.errors import BantayError
from bantay.sar import html as draft_html
from bantay.sar.batch import PH_REGIONS

logger = logging.getLogger(__name__)

SESSION_COOKIE = "bantay_session"
LOGIN_COOKIE = "bantay_login_csrf"
PAGE_SIZE = 100
_STATUS = {
    CaseNotFoundError: 404,
    PermissionDeniedError: 403,
    FourEyesError: 403,
    TransitionError: 409,
    UserError: 400,
    AuthenticationError: 401,
}
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class NotSignedInError(BantayError):
    """No live session: the browser is sent to the sign-in page."""


class CsrfError(BantayError):
    """A form arrived without the session's CSRF token."""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bantay.review", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(outcomes=OUTCOMES, cleared=CLEARED, states=STATES, roles=ROLES)
    env.globals["outcome_label"] = store.OUTCOME_LABELS
    return env


def create_app(output_root: Path, url: str | None = None, secure_cookies: bool = False) -> FastAPI:
    """The workbench on the case store of `output_root` (or `url`). `secure_cookies` behind HTTPS."""
    factory: sessionmaker[Session] = db.open_store(output_root, url)
    env = _environment()
    app = FastAPI(title="Bantay workbench", docs_url=None, redoc_url=None, openapi_url=None)

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(request=request, **context)
        return HTMLResponse(html, status_code=status)

    @app.middleware("http")
    async def _guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        for key, value in _HEADERS.items():
            response.headers.setdefault(key, value)
        # The path holds case ids only; no query string, no client address.
        logger.info(
            "%s %s %d %.0f ms",
            request.method,
            request.url.path,
            response.status_code,
            1000 * (time.perf_counter() - started),
        )
        return response

    @app.exception_handler(BantayError)
    async def _bantay_error(request: Request, error: BantayError) -> Response:
        if isinstance(error, NotSignedInError):
            return RedirectResponse("/login", status_code=303)
        if isinstance(error, CsrfError):
            return page(request, "error.html", 403, title="Refused", message=str(error), me=None)
        status = next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 400)
        return page(request, "error.html", status, title="Refused", message=str(error), me=None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = "not found" if error.status_code == 404 else "request refused"
        return page(
            request, "error.html", error.status_code, title=message.capitalize(), message=message, me=None
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        # Name the fields only: the values may be personal.
        fields = sorted({str(e["loc"][-1]) for e in error.errors()})
        return page(
            request, "error.html", 400, title="Refused", message=f"invalid {', '.join(fields)}", me=None
        )

    def signed_in(session: Session, request: Request) -> WebSession:
        live = users.session_for(session, request.cookies.get(SESSION_COOKIE))
        if live is None:
            raise NotSignedInError("sign in first")
        return live

    async def form_of(request: Request, live: WebSession) -> dict[str, str]:
        form = await request.form()
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        if not _same(values.get("csrf", ""), live.csrf_token):
            raise CsrfError("the form is missing its security token or it is stale: reload the page")
        return values

    # --- sign-in ----------------------------------------------------------------------------------------

    @app.get("/login")
    def login_page(request: Request) -> Response:
        token = secrets.token_urlsafe(32)
        response = page(request, "login.html", csrf=token, error=None, me=None)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies)
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not cookie or not _same(values.get("csrf", ""), cookie):
            raise CsrfError("the sign-in form is missing its security token: reload the page")
        try:
            # The password hash check takes a fraction of a second of CPU by design: in a worker thread, so
            # that a flood of sign-ins cannot hold every other request behind it.
            user = await run_in_threadpool(
                users.authenticate, factory, values.get("username", ""), values.get("password", "")
            )
        except AuthenticationError as error:
            token = secrets.token_urlsafe(32)
            response = page(request, "login.html", 401, csrf=token, error=str(error), me=None)
            response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies)
            return response
        with factory.begin() as session:
            token, _ = users.start_session(session, session.get(User, user.id))  # type: ignore[arg-type]
        redirect = RedirectResponse("/queue", status_code=303)
        redirect.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=secure_cookies,
            max_age=users.SESSION_HOURS * 3600,
        )
        redirect.delete_cookie(LOGIN_COOKIE)
        return redirect

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        with factory.begin() as session:
            live = signed_in(session, request)
            await form_of(request, live)
            store.audit(session, live.user.username, "sign_out")
            users.end_session(session, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # --- queue and case ---------------------------------------------------------------------------------

    @app.get("/style.css")
    def style() -> Response:
        css = env.loader.get_source(env, "style.css")[0]  # type: ignore[union-attr]
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/")
    def home() -> Response:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/queue")
    def queue_page(
        request: Request,
        state: str = "",
        assignee: str = "",
        country: str = "",
        region: str = "",
        reason: str = "",
        sort: str = "score",
        closed: bool = False,
        page_no: int = 0,
    ) -> Response:
        flt = store.QueueFilter(
            state=state[:40] or None,
            assignee=assignee[:64] or None,
            country=country[:8] or None,
            region=region[:40] or None,
            reason=reason[:64] or None,
            sort=sort if sort in store.SORTS else "score",
            include_closed=closed,
        )
        with factory() as session:
            live = signed_in(session, request)
            cases = store.queue(session, flt, limit=PAGE_SIZE, offset=max(page_no, 0) * PAGE_SIZE)
            names = {u.id: u.username for u in session.scalars(select(User))}
            return page(
                request,
                "queue.html",
                me=live.user,
                csrf=live.csrf_token,
                cases=cases,
                names=names,
                counts=store.counts_by_state(session),
                reasons=store.top_reasons(session),
                regions=PH_REGIONS,
                flt=flt,
                page_no=max(page_no, 0),
                page_size=PAGE_SIZE,
                today=date.today(),
            )

    @app.get("/cases/{case_id}")
    def case_page(request: Request, case_id: str) -> Response:
        with factory() as session:
            live = signed_in(session, request)
            case = store.get_case(session, case_id)
            names = {u.id: u.username for u in session.scalars(select(User))}
            notes = session.scalars(select(Note).where(Note.case_id == case.id).order_by(Note.id)).all()
            draft = store.latest_draft(case)
            return page(
                request,
                "case.html",
                me=live.user,
                csrf=live.csrf_token,
                case=case,
                names=names,
                draft=draft,
                timeline=draft_html.timeline_svg(draft),
                narrative=store.current_narrative(session, case),
                versions=store.narrative_versions(session, case),
                notes=notes,
                history=store.history(session, case.id),
                earlier=store.customer_cases(session, case),
                shared=store.cases_sharing_clusters(session, case),
                days=case.days,
                filing=store.filing_of(case) is not None,
                json=json,
            )

    @app.get("/cases/{case_id}/fincen_sar.xml")
    def fincen_file(request: Request, case_id: str) -> Response:
        with factory() as session:
            signed_in(session, request)
            case = store.get_case(session, case_id)
            xml = store.filing_of(case)
            if xml is None:
                raise CaseNotFoundError("no FinCEN file: the case has no approved confirmed decision")
            return Response(
                xml,
                media_type="application/xml",
                headers={"Content-Disposition": f'attachment; filename="{case.id}_fincen_sar.xml"'},
            )

    def action(name: str, run: Callable[[Session, Case, User, dict[str, str]], Any]) -> None:
        async def handler(request: Request, case_id: str) -> Response:
            with factory.begin() as session:
                live = signed_in(session, request)
                values = await form_of(request, live)
                case = store.get_case(session, case_id)
                run(session, case, live.user, values)
            return RedirectResponse(f"/cases/{case.id}", status_code=303)

        handler.__name__ = f"case_{name}"
        app.post(f"/cases/{{case_id}}/{name}")(handler)

    action("claim", lambda s, c, u, f: store.claim(s, c, u))
    action("note", lambda s, c, u, f: store.add_note(s, c, u, f.get("text", "")))
    action("narrative", lambda s, c, u, f: store.edit_narrative(s, c, u, f.get("text", "")))
    action("decide", lambda s, c, u, f: store.decide(s, c, u, f.get("outcome", ""), f.get("reason", "")))
    action("submit", lambda s, c, u, f: store.submit(s, c, u))
    action("approve", lambda s, c, u, f: store.approve(s, c, u, output_root))
    action("refuse", lambda s, c, u, f: store.refuse(s, c, u, f.get("reason", "")))
    action(
        "file",
        lambda s, c, u, f: store.file(
            s, c, u, f.get("reference", ""), _date(f.get("ack_date", "")), f.get("channel", "")
        ),
    )
    action("reopen", lambda s, c, u, f: store.reopen(s, c, u, f.get("reason", ""), output_root))

    @app.get("/metrics")
    def metrics_page(request: Request) -> Response:
        with factory() as session:
            live = signed_in(session, request)
            figures = metrics.compute(session, date.today())
            return page(request, "metrics.html", me=live.user, csrf=live.csrf_token, m=figures)

    @app.get("/metrics/plots.png")
    def metrics_plots(request: Request) -> Response:
        with factory() as session:
            signed_in(session, request)
            figures = metrics.compute(session, date.today())
        return Response(metrics.plots_png(figures), media_type="image/png")

    # --- users (admin) ----------------------------------------------------------------------------------

    def admin(session: Session, request: Request) -> WebSession:
        live = signed_in(session, request)
        if live.user.role != "admin":
            raise PermissionDeniedError("only an admin can manage users")
        return live

    @app.get("/admin/users")
    def users_page(request: Request) -> Response:
        with factory() as session:
            live = admin(session, request)
            everyone = session.scalars(select(User).order_by(User.username)).all()
            return page(request, "users.html", me=live.user, csrf=live.csrf_token, users=everyone)

    @app.post("/admin/users")
    async def users_add(request: Request) -> Response:
        with factory.begin() as session:
            live = admin(session, request)
            values = await form_of(request, live)
            users.add_user(
                session,
                values.get("username", ""),
                values.get("password", ""),
                values.get("role", ""),
                actor=live.user.username,
            )
        return RedirectResponse("/admin/users", status_code=303)

    return app


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of a submitted token (bytes: any text a client sends compares safely)."""
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TransitionError("the acknowledgment date must be YYYY-MM-DD") from None


def serve(output_root: Path, url: str | None, host: str, port: int, secure_cookies: bool = False) -> None:
    """Run the workbench with uvicorn (no access log: it would hold client addresses). `secure_cookies`
    marks the cookies Secure: set it whenever users reach the workbench over HTTPS (a proxy in front)."""
    import uvicorn

    if not secure_cookies and host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("workbench bound to %s without --secure-cookies: serve it only behind HTTPS", host)
    app = create_app(output_root, url, secure_cookies=secure_cookies)
    logger.info("workbench on http://%s:%d", host, port)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", server_header=False)
