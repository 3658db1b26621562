"""The who / what / when / where / why / how narrative, rendered from draft.json by a template alone.

Every number in the narrative is a value of the draft (amounts printed with the cents the draft holds), so an
investigator can trace each one; the tests check that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from bantay.sar.text import flat, xml_text

SECTIONS = ("WHO", "WHAT", "WHEN", "WHERE", "WHY", "HOW")
MAX_PAYEES = 25  # payees named in the narrative; the full list is in the draft and the HTML


@dataclass(frozen=True)
class Regulator:
    """The regulator-specific parts of a narrative: how it cites the regulator's own guidance (the end of
    the WHAT sentence) and its closing line."""

    guidance: str
    closing: str


# The guidance each regulator published on OCSE payments, as named in shared/formats/ (docs/formats.md says
# which are verified). No document id is given where the notes name none.
_GUIDANCE = {
    "fincen": "described in FinCEN notice FIN-2021-NTC3 (key term {key})",
    "goaml": "described in the financial intelligence unit's published indicators of suspected OCSE payments",
    "nca": "reported under NCA SAR glossary code XXV3XX (risk to children)",
    "austrac": (
        "described in AUSTRAC's financial crime guide on OCSE, "
        '"Combating the sexual exploitation of children for financial gain"'
    ),
    "fintrac": (
        "described in FINTRAC's operational alert on laundering the proceeds of online child sexual "
        "exploitation (Project SHADOW)"
    ),
}
FORMS = tuple(_GUIDANCE)
# Police emergency numbers (UK, Australia, Canada, US): a child at immediate risk is reported there at once.
EMERGENCY = {"nca": "999", "austrac": "000", "fintrac": "911", "fincen": "911"}


def regulator(draft: Mapping[str, Any], form: str) -> Regulator:
    """The regulator-specific parts of `form`'s narrative (`form` one of FORMS)."""
    key = draft["filing"]["fincen"]["key_term"]
    closing = {
        "fincen": f"Key term: {key}.",
        "nca": f"Glossary codes: {' '.join(draft['filing']['nca']['glossary_codes'])}.",
        "fintrac": "Project SHADOW.",
    }.get(form, "")
    return Regulator(guidance=_GUIDANCE[form].format(key=key), closing=closing)


def money(value: Any) -> str:
    """An amount as the draft holds it, with separators and cents ('1,234.50'); '0.00' when absent."""
    return f"{float(value or 0):,.2f}"


def n_of(count: Any, noun: str) -> str:
    """'1 payment', '3 payments': a count with its noun."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@cache
def environment(autoescape: bool) -> jinja2.Environment:
    """Templates shipped in bantay/sar/templates; HTML environments autoescape, text ones do not."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bantay.sar", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        # Every value printed loses control and bidi-override characters; in the line-oriented text forms
        # it is also flattened to one line, so a value cannot forge a line (our own markup is kept).
        finalize=_clean if autoescape else _clean_line,
    )
    env.filters["money"] = money
    env.filters["n_of"] = n_of
    return env


def _clean(value: Any) -> Any:
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return xml_text(value)


def _clean_line(value: Any) -> Any:
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return flat(value)


def narrative(
    draft: Mapping[str, Any],
    payments: bool = False,
    form: str | None = None,
    lead_total: tuple[Any, str] | None = None,
) -> str:
    """The full narrative text (sections in the order of SECTIONS, then the closing line).

    `payments=True` adds a PAYMENTS section listing every reported payment (for forms that carry no
    transaction table of their own, such as FinCEN's SAR). `form` (one of FORMS) renders it for that
    regulator: its own guidance and closing line, payee networks described in words (no internal cluster
    ids, no other cases, no internal case reference). None renders the investigator's version.
    `lead_total` (amount, currency) puts that total first, then the currencies sent (AUSTRAC: AUD).
    """
    listed = payment_lines(draft) if payments else ""
    grounds, context = split_grounds(draft)
    networks = {str(c["cluster_id"]): n for n, c in enumerate(draft.get("clusters") or [], start=1)}
    if form is not None:
        grounds = [{**i, "text": without_cluster_ids(i["text"], networks)} for i in grounds]
        context = [{**i, "text": without_cluster_ids(i["text"], networks)} for i in context]
    text = (
        environment(False)
        .get_template("narrative.txt.j2")
        .render(
            draft=draft,
            max_payees=MAX_PAYEES,
            payments=listed,
            grounds=grounds,
            context=context,
            regulator=regulator(draft, form) if form is not None else None,
            networks=networks,
            lead_total=lead_total,
        )
    )
    return text.strip() + "\n"


def without_cluster_ids(text: str, networks: Mapping[str, int]) -> str:
    """`text` with each internal payee-cluster id written as 'payee network N' (N: the cluster's place in
    the draft's cluster list, as the HOW section numbers them)."""
    if not networks:
        return text
    ids = "|".join(re.escape(c) for c in sorted(networks, key=len, reverse=True))
    named = re.compile(rf"(?:payee cluster )?\b({ids})\b")
    return named.sub(lambda m: f"payee network {networks[m[1]]}", text)


def split_grounds(draft: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """(grounds about the payments, supporting grounds), each strongest first. Drafts written before
    supporting grounds existed have no `supporting` key: all their grounds are about the payments."""
    indicators = draft["indicators"]
    return (
        [i for i in indicators if not i.get("supporting")],
        [i for i in indicators if i.get("supporting")],
    )


def payment_lines(draft: Mapping[str, Any]) -> Markup:
    """'PAYMENTS:' and one line per reported payment: time (UTC), amount and currency, the reporting-currency
    equivalent, channel, payee with country, city, account or wallet and phone, reference, transaction id."""
    phones = {p["counterparty_id"]: p.get("phone") for p in draft["payees"]}
    currency = draft["totals"]["reporting"]["currency"]
    lines = ["PAYMENTS (time UTC; amount sent; equivalent; channel; payee; reference; transaction id):"]
    for txn in draft["transactions"]:
        payee = [
            flat(txn.get("counterparty_name")) or "UNKNOWN",
            flat(txn.get("counterparty_country")) or "UNKNOWN",
        ]
        if txn.get("counterparty_city"):
            payee.append(flat(txn["counterparty_city"]))
        if txn.get("counterparty_account"):
            payee.append(f"account/wallet {flat(txn['counterparty_account'])}")
        phone = txn.get("counterparty_phone") or phones.get(txn.get("counterparty_id"))
        if phone:
            payee.append(f"phone {flat(phone)}")
        direction = "to" if txn["direction"] == "out" else "from"
        equivalent = (
            f"{money(txn['amount_reporting'])} {currency}"
            if txn.get("amount_reporting") is not None
            else f"no {currency} rate"
        )
        lines.append(
            f"- {txn['booked_at']}; {money(txn['amount'])} {txn['currency']}; "
            f"{equivalent}; {txn['channel']}; {direction} "
            f"{', '.join(payee)}; reference {flat(txn.get('reference')) or 'none'}; "
            f"{flat(txn['txn_id'])}"
        )
    if len(lines) == 1:
        lines.append("- none")
    # Our own lines, each value in them flattened: Markup keeps the template's finalize from joining them.
    return Markup(xml_text("\n".join(lines)))


def sections(draft: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The narrative split into (heading, text) pairs, for the HTML."""
    parts: list[tuple[str, str]] = []
    for block in narrative(draft).split("\n\n"):
        head, _, body = block.partition(": ")
        if head in SECTIONS:
            parts.append((head, body.strip()))
        else:
            parts.append(("", block.strip()))
    return parts
