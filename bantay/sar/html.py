"""draft.html (Jinja2, autoescaped, print CSS, inline SVG timeline) and draft.pdf (WeasyPrint)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

from bantay.sar.narrative import environment, money, sections, split_grounds
from bantay.sar.text import display

SVG_WIDTH, SVG_HEIGHT = 900, 220
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 70, 20, 15, 35


def _env() -> Any:
    env = environment(True)
    env.filters.setdefault("short", lambda value: display(value, 80) if value else "")
    env.filters.setdefault("capitalize_first", lambda value: value[:1].upper() + value[1:] if value else "")
    return env


def render(draft: Mapping[str, Any]) -> str:
    """The investigator's page for one case."""
    template = _env().get_template("draft.html.j2")
    titles = {i["code"]: i["title"] for i in draft["indicators"]}
    grounds, context = split_grounds(draft)
    page: str = template.render(
        draft=draft,
        sections=sections(draft),
        timeline=timeline_svg(draft),
        titles=titles,
        grounds=grounds,
        context=context,
        supporting=draft.get("supporting_transactions") or [],
    )
    return page


def render_pdf(html: str) -> bytes:
    """The same page as PDF (print CSS applies); WeasyPrint is imported only when a PDF is asked for."""
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())


def timeline_svg(draft: Mapping[str, Any]) -> Markup:
    """Each reported payment as a dot: time across, amount in reporting currency up; red where behind an
    indicator. Supporting rows (`supporting_transactions`: context, never reported) as hollow blue squares."""
    payments = [
        t for t in draft["transactions"] if t["direction"] == "out" and t["amount_reporting"] is not None
    ]
    supporting = [
        t for t in draft.get("supporting_transactions") or [] if t.get("amount_reporting") is not None
    ]
    currency = draft["reporting_currency"]
    end = datetime.fromisoformat(draft["as_of"])
    start = end - timedelta(days=365)
    if draft["activity"]["from"]:
        start = min(start, datetime.fromisoformat(draft["activity"]["from"]))
    top: float = max([t["amount_reporting"] for t in [*payments, *supporting]] + [1.0])
    plot_w = SVG_WIDTH - _MARGIN_LEFT - _MARGIN_RIGHT
    plot_h = SVG_HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM
    span = (end - start).total_seconds()

    def x(stamp: str) -> float:
        moment = datetime.fromisoformat(stamp.replace("Z", ""))
        return _MARGIN_LEFT + plot_w * (moment - start).total_seconds() / span

    def y(amount: float) -> float:
        return _MARGIN_TOP + plot_h * (1 - amount / top)

    def title(txn: Mapping[str, Any], what: str) -> str:
        return f"{txn['booked_at']} {money(txn['amount_reporting'])} {currency} ({what} {txn['txn_id']})"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}" width="{SVG_WIDTH}" '
        f'height="{SVG_HEIGHT}" role="img" aria-label="Timeline of payments">',
        f'<rect x="{_MARGIN_LEFT}" y="{_MARGIN_TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="#fafafa" stroke="#999"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        value = top * fraction
        parts.append(
            f'<text x="{_MARGIN_LEFT - 6}" y="{y(value) + 4:.1f}" font-size="10" text-anchor="end">'
            f"{escape(money(value))}</text>"
        )
    for label, moment in _month_ticks(start, end):
        tick = _MARGIN_LEFT + plot_w * (moment - start).total_seconds() / span
        parts.append(
            f'<line x1="{tick:.1f}" y1="{_MARGIN_TOP + plot_h}" x2="{tick:.1f}" '
            f'y2="{_MARGIN_TOP + plot_h + 4}" stroke="#666"/>'
        )
        parts.append(
            f'<text x="{tick:.1f}" y="{SVG_HEIGHT - 18}" font-size="9" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    legend = "red: payment behind an indicator"
    if supporting:
        legend += "; blue square: supporting row, not reported"
    parts.append(
        f'<text x="{_MARGIN_LEFT}" y="{SVG_HEIGHT - 3}" font-size="10">amount in {escape(currency)}; '
        f"{legend}</text>"
    )
    for txn in supporting:
        left, upper = x(txn["booked_at"]) - 3, y(txn["amount_reporting"]) - 3
        parts.append(
            f'<rect class="supporting" x="{left:.1f}" y="{upper:.1f}" width="6" height="6" fill="none" '
            'stroke="#1f5fbf" stroke-width="1.5">'
            f"<title>{escape(title(txn, 'supporting, not reported:'))}</title></rect>"
        )
    for txn in payments:
        colour = "#b00000" if txn["grounds"] else "#555555"
        parts.append(
            f'<circle class="reported" cx="{x(txn["booked_at"]):.1f}" cy="{y(txn["amount_reporting"]):.1f}" '
            f'r="3.5" fill="{colour}" fill-opacity="0.75"><title>{escape(title(txn, "reported:"))}</title>'
            "</circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _month_ticks(start: datetime, end: datetime) -> Sequence[tuple[str, datetime]]:
    ticks: list[tuple[str, datetime]] = []
    moment = datetime(start.year, start.month, 1)
    while moment <= end:
        if moment >= start:
            ticks.append(
                (
                    moment.strftime("%b %Y") if moment.month == 1 or not ticks else moment.strftime("%b"),
                    moment,
                )
            )
        moment = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1)
    return ticks
