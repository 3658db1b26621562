"""Build one case as data (draft.json): pure functions from the alerted customer's rows to a JSON-ready dict.

draft.json is the single source of every other form: the HTML, the regulator files and the NCA text only
format what is here. Amounts are rounded to cents and shares to four places *here*, so that the forms print
exactly the numbers the draft holds; every total is the sum of the listed transactions' cents.

The case's transactions (`transactions`) are the reported set: the payments at least one substantive ground
cites (`bantay.sar.grounds`: context grounds such as new payees or payee switching never report a payment, and
are stated over the reported payments only). A supporting ground's rows (the related card spending) and the
rows of a stated denominator ("9 of the 14 payments abroad") that are not reported go to
`supporting_transactions` (`counted_in` names the grounds whose denominator holds them): evidence the HTML and
the narrative show with their ids, never part of the totals, the payees or any form's transactions. The
model's score, rank and reasons are kept apart in `model` (`internal_only`): no regulator form carries them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from bantay.features import common, flags
from bantay.sar import grounds

SCHEMA_VERSION = "1.0"
FINCEN_KEY_TERM = "OCSE-FIN-2021-NTC3"
OCSE_WORDING = "suspected online child sexual exploitation (OCSE)"
LOOKBACK_DAYS = common.LOOKBACK_DAYS
MAX_IP_ADDRESSES = 99  # FinCEN field 43 holds at most 99 entries

_CLUSTER_ID_COLUMNS = {"counterparty_id", "cluster_id", "as_of"}


@dataclass(frozen=True)
class FeatureInfo:
    """What the catalogue says about a feature: its typology id, definition, window and unit."""

    typology_id: str
    definition: str
    window_days: int | None
    unit: str


def case_id(customer_id: str, as_of: date) -> str:
    """`C-<yyyymmdd>-<first 10 hex of sha256(customer_id)>`: stable per customer and day, reveals nothing."""
    digest = hashlib.sha256(str(customer_id).encode("utf-8")).hexdigest()[:10]
    return f"C-{as_of:%Y%m%d}-{digest}"


def feature_catalogue() -> dict[str, FeatureInfo]:
    """The feature catalogue by column name."""
    from bantay.features.catalogue import FEATURES

    return {s.name: FeatureInfo(s.typology_id, s.definition, s.window_days, s.unit) for s in FEATURES}


def build_draft(
    *,
    as_of: date,
    generated_at: datetime,
    score: Mapping[str, Any],
    customer: Mapping[str, Any],
    transactions: pd.DataFrame,
    clusters: pd.DataFrame,
    cluster_payers: pd.DataFrame,
    case_ids: Mapping[str, str],
    institution: Mapping[str, Any],
    reporting_currency: str,
    catalogue: Mapping[str, FeatureInfo],
    goaml: Mapping[str, Any] | None = None,
    decision: Mapping[str, Any] | None = None,
    index: ClusterIndex | None = None,
    prepared: bool = False,
) -> dict[str, Any]:
    """The draft for one alerted customer. `transactions` are that customer's rows with the flag columns of
    `bantay.features.flags` (`evidence.TXN_COLUMNS`).

    The case's transactions are the union of the evidence of the grounds about the payments
    (`bantay.sar.grounds`): totals, activity, payees, forms and narrative all follow from that one set, so
    travel and ordinary spending never enter it, nor the supporting grounds' card spending (listed apart in
    `supporting_transactions`). Every figure comes from the rows, none from the feature table.

    `decision`: the customer's latest decision before `as_of` (`evidence.decisions`: label, decided_at,
    case_id), stated as `prior_decision` with how many reported payments were booked after it.

    `index`: `ClusterIndex.of(clusters, cluster_payers)`, built once for a day's drafts (built here when
    None); the draft reads only the clusters of the customer's own payees from it. `prepared`: the rows are
    already `prepare`d (a day's drafts prepare every alerted customer's rows in one pass).
    """
    customer_id = str(score["customer_id"])
    txns = transactions.reset_index(drop=True) if prepared else prepare(transactions, as_of)
    index = index if index is not None else ClusterIndex.of(clusters, cluster_payers)
    cluster_of, facts, others = index.view(customer_id, txns["counterparty_id"])
    own_confirmed = customer_id in index.confirmed
    reasons = [_reason(r, catalogue) for r in _list(score.get("reasons"))]
    context = grounds.Context(
        txns=txns,
        as_of=as_of,
        currency=reporting_currency,
        timezone=_text(customer.get("timezone")),
        cluster_of=cluster_of,
        cluster_facts=facts,
        other_payers=others,
        own_confirmed=own_confirmed,
    )
    indicators, evidence, counted = _indicators(context, reasons)
    suspicious = {t for i in indicators if not i["supporting"] for t in i["txn_ids"]}
    ids = txns["txn_id"].astype(str)
    case_txns = txns[ids.isin(suspicious)]
    earlier = _earlier_same_payees(txns, case_txns, cluster_of, facts)
    supporting_txns = txns[(ids.isin(evidence) | ids.isin(counted) | earlier) & ~ids.isin(suspicious)]
    payees = _payees(case_txns, cluster_of)
    linked = _clusters(payees, index, customer_id, case_ids, own_confirmed)
    # The pipeline holds no evidence of trafficking (a plane ticket is not): the investigator decides.
    trafficking = False
    draft: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "case_id": case_ids.get(customer_id) or case_id(customer_id, as_of),
        "as_of": as_of.isoformat(),
        "generated_at": generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "draft for investigator review",
        "wording": OCSE_WORDING,
        "reporting_currency": reporting_currency,
        "institution": {k: _plain(v) for k, v in institution.items()},
        "subject": _subject(customer, txns, case_txns),
        "activity": {
            **_activity(case_txns, as_of),
            "earlier_txn_ids": [str(t) for t in txns.loc[earlier, "txn_id"]],
        },
        "totals": _totals(case_txns, reporting_currency),
        "indicators": indicators,
        "transactions": [_txn(row, evidence) for row in case_txns.itertuples(index=False)],
        "supporting_transactions": [
            _txn(row, evidence, counted) for row in supporting_txns.itertuples(index=False)
        ],
        "payees": payees,
        "clusters": linked,
        "prior_decision": _prior_decision(decision, case_txns),
        "model": {
            "internal_only": True,
            "version": str(score.get("model_version") or ""),
            "score": _num(score.get("score"), 4),
            "rank": _int(score.get("rank")),
            "reasons": reasons,
        },
        "trafficking_indicated": trafficking,
        "flags": {
            "virtual_assets": bool((case_txns["channel"] == "crypto").any()),
            "linked_to_other_customers": any(c["n_other_customers"] for c in linked),
            "immediate_risk_check": True,
        },
        "filing": _filing(case_txns, goaml, trafficking),
        "recommended_actions": [],
        "truncations": [],
    }
    draft["recommended_actions"] = recommended_actions(draft)
    return draft


def _earlier_same_payees(
    txns: pd.DataFrame,
    case_txns: pd.DataFrame,
    cluster_of: Mapping[str, str],
    facts: Mapping[str, Mapping[str, Any]],
) -> pd.Series:
    """The unreported payments abroad of the look-back booked before the first reported one to a reported
    payee or to its payee cluster (hubs left out): WHEN names them, so the reported span hides no earlier
    payment to the same people."""
    if case_txns.empty:
        return pd.Series(False, index=txns.index)
    payees = set(case_txns["counterparty_id"].dropna().astype(str))
    clusters = {cluster_of[p] for p in payees if p in cluster_of}
    clusters = {c for c in clusters if not facts.get(c, {}).get("is_hub")}
    payee = txns["counterparty_id"].astype("string")
    same = payee.isin(payees).fillna(False).astype(bool) | payee.map(cluster_of).isin(clusters).fillna(
        False
    ).astype(bool)
    first = case_txns["booked_at"].min()
    reported = txns["txn_id"].astype(str).isin(set(case_txns["txn_id"].astype(str)))
    return same & txns["is_p2p"] & (txns["booked_at"] < first) & ~reported


def _prior_decision(decision: Mapping[str, Any] | None, case_txns: pd.DataFrame) -> dict[str, Any] | None:
    """The earlier decision on the customer (None when there is none): outcome, UTC date, case id, and the
    reported payments booked after it."""
    if not decision or _missing(decision.get("label")) or _missing(decision.get("decided_at")):
        return None
    decided_at = pd.Timestamp(decision["decided_at"])
    decided_at = decided_at.tz_convert("UTC") if decided_at.tzinfo else decided_at.tz_localize("UTC")
    after = case_txns[case_txns["booked_at"] >= decided_at]
    return {
        "outcome": "confirmed" if int(decision["label"]) == 1 else "cleared",
        "decided_on": decided_at.date().isoformat(),
        "case_id": _text(decision.get("case_id")),
        "n_transactions_after": len(after),
        "txn_ids_after": [str(t) for t in after["txn_id"]],
    }


# --- transactions and grounds -----------------------------------------------------------------------------


def prepare(transactions: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The look-back's rows (`as_of - 365 <= booking_date < as_of`), sorted by booking time and txn_id
    (stable), flags as plain booleans. Of several customers' rows, each customer's rows in that order."""
    txns = transactions.copy()
    txns["booked_at"] = pd.to_datetime(txns["booked_at"], utc=True)
    txns["booking_date"] = pd.to_datetime(txns["booking_date"]).dt.date
    txns = txns[
        (txns["booking_date"] < as_of) & (txns["booking_date"] >= as_of - timedelta(days=LOOKBACK_DAYS))
    ]
    txns = txns.sort_values(["booked_at", "txn_id"], kind="stable").reset_index(drop=True)
    for name in flags.FLAG_COLUMNS:
        txns[name] = txns[name].astype("boolean").fillna(False).astype(bool)
    return txns


@dataclass(frozen=True)
class ClusterIndex:
    """The payee clusters of a day's drafts, indexed once (a draft reads only its own payees' clusters).

    From the clusters table (`counterparty_id, cluster_id` and the cluster's attributes, repeated on each of
    its payee rows) and the cluster payers (`cluster_id, customer_id, confirmed`). A payee belongs to one
    cluster (connected components); a table listing it under two would have its last row win, for the
    payees' `cluster_id` and the clusters listed alike."""

    cluster_of: Mapping[str, str]  # counterparty_id -> cluster_id
    facts: Mapping[str, Mapping[str, Any]]  # cluster_id -> the cluster's attributes (its first row's scalars)
    members: Mapping[str, Sequence[str]]  # cluster_id -> its payee rows' counterparty ids, in table order
    payers: Mapping[str, frozenset[str]]  # cluster_id -> the customers paying it
    confirmed: frozenset[str]  # customers marked confirmed among the payers

    @classmethod
    def of(cls, clusters: pd.DataFrame, payers: pd.DataFrame) -> ClusterIndex:
        cluster_of: dict[str, str] = {}
        facts: dict[str, dict[str, Any]] = {}
        members: dict[str, list[str]] = {}
        if not clusters.empty:
            for row in clusters.to_dict("records"):
                cluster, payee = str(row["cluster_id"]), str(row["counterparty_id"])
                cluster_of[payee] = cluster
                members.setdefault(cluster, []).append(payee)
                if cluster not in facts:
                    facts[cluster] = {
                        k: _plain(v) for k, v in row.items() if k not in _CLUSTER_ID_COLUMNS and _is_scalar(v)
                    }
        paying: dict[str, set[str]] = {}
        confirmed: set[str] = set()
        if not payers.empty:
            marks = (
                pd.to_numeric(payers["confirmed"], errors="coerce").fillna(0) == 1
                if "confirmed" in payers.columns
                else pd.Series(False, index=payers.index)
            )
            for cluster, customer, mark in zip(
                payers["cluster_id"].astype(str), payers["customer_id"].astype(str), marks, strict=True
            ):
                paying.setdefault(cluster, set()).add(customer)
                if mark:
                    confirmed.add(customer)
        return cls(
            cluster_of,
            facts,
            members,
            {c: frozenset(p) for c, p in paying.items()},
            frozenset(confirmed),
        )

    def view(
        self, customer_id: str, counterparties: pd.Series
    ) -> tuple[dict[str, str], dict[str, Mapping[str, Any]], dict[str, int]]:
        """The customer's share of the index: its payees' clusters (counterparty_id -> cluster_id), their
        attributes, and how many other customers pay each (clusters with none left out)."""
        cluster_of = {
            payee: self.cluster_of[payee]
            for payee in counterparties.dropna().astype(str).unique()
            if payee in self.cluster_of
        }
        mine = set(cluster_of.values())
        facts = {c: self.facts[c] for c in mine if c in self.facts}
        others = {c: len(self.payers[c] - {customer_id}) for c in mine if c in self.payers}
        return cluster_of, facts, {c: n for c, n in others.items() if n > 0}


def _indicators(
    context: grounds.Context, reasons: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, list[str]], dict[str, list[str]]]:
    """The grounds that hold, strongest first, with their transactions (context grounds restricted to the
    reported payments, `grounds.restrict`); txn_id -> ground codes citing it; and txn_id -> ground codes
    whose stated denominator (`base_txn_ids`) counts it."""
    cited: dict[str, int] = {}
    cited_features: dict[str, list[str]] = {}
    for reason in reasons:
        if reason["ground"] is None:
            continue
        cited[reason["ground"]] = max(cited.get(reason["ground"], 0), reason["window_days"] or 0)
        cited_features.setdefault(reason["ground"], []).append(reason["feature"])
    txns, as_of = context.txns, context.as_of
    indicators: list[dict[str, Any]] = []
    evidence: dict[str, list[str]] = {}
    counted: dict[str, list[str]] = {}
    for ground, finding, days in grounds.restrict(context, grounds.find_grounds(context, cited)):
        rows = txns[finding.rows]
        ids = [str(t) for t in rows["txn_id"]]
        for txn_id in ids:
            evidence.setdefault(txn_id, []).append(ground.code)
        base_ids = [] if finding.base is None else [str(t) for t in txns.loc[finding.base, "txn_id"]]
        for txn_id in base_ids:
            counted.setdefault(txn_id, []).append(ground.code)
        indicators.append(
            {
                "code": ground.code,
                "typology_id": ground.typology_id,
                "title": ground.title,
                "supporting": ground.supporting,
                "text": finding.text,
                "window": {
                    "days": days,
                    "from": (as_of - timedelta(days=days)).isoformat(),
                    "to": (as_of - timedelta(days=1)).isoformat(),
                },
                "n_transactions": len(ids),
                "amount_reporting": float(grounds.total(rows)),
                "txn_ids": ids,
                "base_txn_ids": base_ids,
                "model_features": cited_features.get(ground.code, []),
            }
        )
    return indicators, evidence, counted


def _txn(
    row: Any, evidence: Mapping[str, list[str]], counted: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    """One listed row; `counted_in` (supporting rows only): the grounds whose stated denominator counts it."""
    out = {
        "txn_id": str(row.txn_id),
        "booked_at": row.booked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local_time": _text(row.local_time),
        "direction": _text(row.direction),
        "channel": _text(row.channel),
        "amount": money_cents(row.amount),
        "currency": _text(row.currency),
        "amount_reporting": money_cents(row.amount_reporting),
        "amount_usd": money_cents(row.amount_usd),
        "account_id": _text(row.account_id),
        "counterparty_id": _text(row.counterparty_id),
        "counterparty_name": _text(row.counterparty_name),
        "counterparty_country": _text(row.counterparty_country),
        "counterparty_city": _text(row.counterparty_city),
        "counterparty_account": _text(row.counterparty_account),
        "counterparty_phone": _text(row.counterparty_phone),
        "mcc": _text(row.mcc),
        "reference": _text(row.reference),
        "ip_address": _text(row.ip_address),
        "grounds": list(evidence.get(str(row.txn_id), [])),
    }
    if counted is not None:
        out["counted_in"] = list(counted.get(str(row.txn_id), []))
    return out


# --- subject, activity, totals ----------------------------------------------------------------------------


def _subject(customer: Mapping[str, Any], txns: pd.DataFrame, case_txns: pd.DataFrame) -> dict[str, Any]:
    """KYC context (never a ground), with the IP addresses and devices of the suspicious payments."""
    fields = (
        "customer_id",
        "full_name",
        "birth_date",
        "gender",
        "nationality",
        "residence_country",
        "timezone",
        "address_line",
        "city",
        "postcode",
        "id_type",
        "id_number",
        "occupation",
        "onboarded_at",
    )
    subject: dict[str, Any] = {name: _plain(customer.get(name)) for name in fields}
    with_ip = case_txns[case_txns["ip_address"].notna()]
    ips = []
    for ip, group in with_ip.groupby("ip_address", sort=False):
        ips.append(
            {
                "ip_address": str(ip),
                "n_transactions": len(group),
                "first_seen": group["booked_at"].min().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "last_seen": group["booked_at"].max().strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    ips.sort(key=lambda item: (-item["n_transactions"], item["ip_address"]))
    subject["ip_addresses"] = ips[:MAX_IP_ADDRESSES]
    subject["device_ids"] = sorted({str(d) for d in case_txns["device_id"].dropna()})
    subject["account_ids"] = sorted({str(a) for a in txns["account_id"].dropna()})
    return subject


def _sum_cents(values: Any) -> float:
    """The sum of amounts each rounded to cents first: the total of the amounts as listed."""
    return float(sum((grounds.cents(v) for v in values), Decimal("0.00")))


def _activity(case_txns: pd.DataFrame, as_of: date) -> dict[str, Any]:
    if case_txns.empty:
        return {
            "from": None,
            "to": None,
            "days_since_last": None,
            "n_transactions": 0,
            "n_payees": 0,
            "countries": [],
            "channels": [],
        }
    first, last = case_txns["booking_date"].min(), case_txns["booking_date"].max()
    countries: list[dict[str, Any]] = [
        {
            "country": str(c),
            "n_transactions": len(g),
            "amount_reporting": _sum_cents(g["amount_reporting"]),
        }
        for c, g in case_txns.groupby("counterparty_country", dropna=False)
    ]
    countries.sort(key=lambda item: (-item["n_transactions"], str(item["country"])))
    channels: list[dict[str, Any]] = [
        {
            "channel": str(c),
            "n_transactions": len(g),
            "amount_reporting": _sum_cents(g["amount_reporting"]),
        }
        for c, g in case_txns.groupby("channel", dropna=False)
    ]
    channels.sort(key=lambda item: (-item["n_transactions"], item["channel"]))
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days_since_last": (as_of - last).days,
        "n_transactions": len(case_txns),
        "n_payees": int(case_txns.loc[case_txns["direction"] == "out", "counterparty_id"].nunique()),
        "countries": countries,
        "channels": channels,
    }


def _totals(case_txns: pd.DataFrame, reporting_currency: str) -> dict[str, Any]:
    """Totals of the suspicious set, each the sum of the listed amounts (cents): forms and narrative agree."""
    out = case_txns[case_txns["direction"] == "out"]
    by_currency = []
    for currency, group in out.groupby("currency"):
        total = sum((Decimal(str(a)) for a in group["amount"]), Decimal("0"))
        by_currency.append(
            {"currency": str(currency), "amount": money_cents(total), "n_transactions": len(group)}
        )
    missing = int(out["amount_reporting"].isna().sum())
    return {
        "by_currency": sorted(by_currency, key=lambda item: item["currency"]),
        "reporting": {
            "currency": reporting_currency,
            "amount": _sum_cents(out["amount_reporting"].dropna()),
            "n_transactions": len(out) - missing,
            "n_without_rate": missing,
        },
        # FinCEN's amount fields are in US dollars whatever the reporting currency.
        "usd_amount": _sum_cents(out["amount_usd"].dropna()) if len(out) else None,
    }


# --- payees and clusters ----------------------------------------------------------------------------------


def _payees(case_txns: pd.DataFrame, cluster_of: Mapping[str, str]) -> list[dict[str, Any]]:
    """The payees of the suspicious payments with their identifiers (account or wallet, phone)."""
    payees = []
    out = case_txns[(case_txns["direction"] == "out") & case_txns["counterparty_id"].notna()]
    for counterparty, group in out.groupby("counterparty_id", sort=False):
        latest = group.iloc[-1]
        payees.append(
            {
                "counterparty_id": str(counterparty),
                "name": _text(latest["counterparty_name"]),
                "country": _text(latest["counterparty_country"]),
                "city": _text(latest["counterparty_city"]),
                "phone": _text(latest["counterparty_phone"]),
                "account": _text(latest["counterparty_account"]),
                "accounts": sorted({str(a) for a in group["counterparty_account"].dropna()}),
                "phones": sorted({str(p) for p in group["counterparty_phone"].dropna()}),
                "n_transactions": len(group),
                "amount_reporting": _sum_cents(group["amount_reporting"]),
                "first_paid": group["booking_date"].min().isoformat(),
                "last_paid": group["booking_date"].max().isoformat(),
                "cluster_id": cluster_of.get(str(counterparty)),
                "txn_ids": [str(t) for t in group["txn_id"]],
            }
        )
    payees.sort(key=lambda p: (-p["n_transactions"], p["counterparty_id"]))
    return payees


def _clusters(
    payees: Sequence[Mapping[str, Any]],
    index: ClusterIndex,
    customer_id: str,
    case_ids: Mapping[str, str],
    own_confirmed: bool = False,
) -> list[dict[str, Any]]:
    paid = {p["counterparty_id"] for p in payees}
    mine = sorted({index.cluster_of[p] for p in paid if p in index.cluster_of})
    linked = []
    for cluster in mine:
        members = index.members[cluster]
        attributes = dict(index.facts[cluster])
        hub = bool(attributes.get("is_hub") or False)
        # A hub's other payers (hundreds of an exchange's customers) are no lead: not listed, not linked.
        others = [] if hub else sorted(index.payers.get(cluster, frozenset()) - {customer_id})
        linked.append(
            {
                "cluster_id": cluster,
                "is_hub": hub,
                "attributes": attributes,
                "facts": cluster_facts(attributes, len(members), len(others), own_confirmed),
                "payee_ids": sorted(set(members) & paid),
                "n_members": len(members),
                "other_case_ids": sorted(case_ids[c] for c in others if c in case_ids),
                "other_customer_ids": [c for c in others if c not in case_ids],
                "n_other_customers": len(others),
            }
        )
    return linked


def cluster_facts(
    attributes: Mapping[str, Any], n_members: int, n_other_customers: int, own_confirmed: bool = False
) -> list[str]:
    """What an investigator needs to know about a payee cluster, in words (from the clusters table).

    `own_confirmed`: the customer is itself a confirmed case, so it is taken out of the confirmed count."""
    facts = []
    region = attributes.get("region")
    if attributes.get("is_hub"):
        # Who else pays an exchange or a merchant says nothing about this customer: only what it is.
        senders = _int(attributes.get("n_senders_365d"))
        facts.append(
            f"a hub, not a facilitator cluster: paid by {senders} senders in the last year, a large share of "
            "the institution's customers paying abroad (an exchange, money-service business or merchant)"
        )
        if region:
            facts.append(f"most payments to it go to {str(region).removeprefix('PH-')}")
        return facts
    confirmed = max((_int(attributes.get("n_confirmed_payers_365d")) or 0) - int(own_confirmed), 0)
    if confirmed:
        noun = "case" if confirmed == 1 else "cases"
        other = "other " if own_confirmed else ""
        facts.append(f"{confirmed} {other}confirmed {noun} paid this cluster in the last year")
    if n_other_customers:
        noun = "customer" if n_other_customers == 1 else "customers"
        facts.append(f"{n_other_customers} other {noun} of the institution paid this cluster this year")
    if n_members >= 2:
        facts.append(f"{n_members} payee records linked by a shared phone number, account or address")
    senders = _int(attributes.get("n_senders_90d"))
    countries = _int(attributes.get("n_sender_countries_90d"))
    if senders:
        where = f", living in {countries} countr{'ies' if countries != 1 else 'y'}" if countries else ""
        facts.append(f"paid by {senders} sender{'s' if senders != 1 else ''} in the last 90 days{where}")
    cash = attributes.get("share_cash_pickup_365d")
    if cash is not None:
        facts.append(f"{round(100 * float(cash))}% of the payments to it collected in cash")
    if region:
        facts.append(f"most payments to it go to {str(region).removeprefix('PH-')}")
    return facts


# --- model, flags, filing ---------------------------------------------------------------------------------


def _reason(raw: Any, catalogue: Mapping[str, FeatureInfo]) -> dict[str, Any]:
    """One model reason for the internal section: as scored, with its typology and the ground it supports."""
    get: Callable[[str], Any] = raw.get if isinstance(raw, Mapping) else (lambda key: getattr(raw, key, None))
    feature = _text(get("feature"))
    info = catalogue.get(feature or "")
    ground = grounds.ground_of(feature)
    return {
        "code": str(get("code")),
        "feature": feature,
        "typology_id": info.typology_id if info else None,
        "window_days": info.window_days if info else None,
        "ground": ground.code if ground else None,
        "text": _text(get("text")) or "",
        "contribution": _num(get("contribution"), 4),
        "value": _num(get("value"), 4),
    }


def _filing(case_txns: pd.DataFrame, goaml: Mapping[str, Any] | None, trafficking: bool) -> dict[str, Any]:
    """Regulator codes: OCSE always; trafficking (FinCEN 38(h) 927, NCA XXMSHTXX) only when indicated."""
    codes = ["XXV3XX"]
    if trafficking:
        codes.append("XXMSHTXX")
    if (case_txns["channel"] == "crypto").any():
        codes.append("XXVAXX")
    classifications = [{"type_id": 9, "subtype_id": 9999, "other_text": "OCSE", "field": "38(z)"}]
    if trafficking:
        classifications.append({"type_id": 9, "subtype_id": 927, "other_text": None, "field": "38(h)"})
    return {
        "fincen": {"key_term": FINCEN_KEY_TERM, "classifications": classifications},
        "nca": {"glossary_codes": codes},
        "goaml": {
            "report_code": (goaml or {}).get("report_code"),
            "indicators": list((goaml or {}).get("indicators") or []),
        },
    }


def recommended_actions(draft: Mapping[str, Any]) -> list[str]:
    """What the investigator should do next; the immediate-risk prompt always comes first."""
    actions = [
        "If anything in this case suggests a child may be at immediate risk, contact the police at once "
        "(999 in the UK, 911 in the US, or the local emergency number) before and in addition to filing; "
        "do not wait for the report to be filed.",
        f"Review the indicators and transactions below; file within 30 calendar days of detection (FinCEN) "
        f"with the key term {FINCEN_KEY_TERM}, or as soon as reasonably practicable (UK NCA).",
        "Do not tell the customer or anyone outside the investigation that a report is being considered.",
    ]
    if any(not c.get("is_hub") for c in draft["clusters"]):
        actions.append(
            "Review the other customers paying the same payee clusters (listed by case or customer id)."
        )
    if draft["subject"]["ip_addresses"]:
        actions.append("Preserve session records (IP addresses, devices) for law enforcement requests.")
    return actions


# --- JSON-safe scalars ------------------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    return list(value)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _is_scalar(value: Any) -> bool:
    return (
        _missing(value)
        or isinstance(value, str | int | float | bool | date | datetime | Decimal)
        or hasattr(value, "item")
    )


def _plain(value: Any) -> Any:
    """A JSON value: None for missing, ISO text for dates, Python numbers for numpy and Decimal."""
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return round(value, 4)
    return value


def _text(value: Any) -> str | None:
    return None if _missing(value) else str(value)


def _num(value: Any, places: int) -> float | None:
    return None if _missing(value) else round(float(value), places)


def _int(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def money_cents(value: Any) -> float | None:
    """An amount rounded half up to cents (None when missing)."""
    if _missing(value):
        return None
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
