"""Build one case as data (draft.json): pure functions from the alerted customer's rows to a JSON-ready dict.

draft.json is the single source of every other form: the HTML, the FinCEN and goAML XML and the NCA text only
format what is here. Amounts are rounded to cents and shares to four places *here*, so that the forms print
exactly the numbers the draft holds.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from bantay.features import common
from bantay.features import reasons as reason_table

SCHEMA_VERSION = "1.0"
FINCEN_KEY_TERM = "OCSE-FIN-2021-NTC3"
OCSE_WORDING = "suspected online child sexual exploitation (OCSE)"
LOOKBACK_DAYS = common.LOOKBACK_DAYS
NEW_PAYEE_DAYS = 30  # O4: a payee first paid within the 30 days before the payment
MAX_IP_ADDRESSES = 99  # FinCEN field 43 holds at most 99 entries

# Typology ids whose evidence is the p2p payments themselves (volume, unevenness, escalation, channels).
_P2P_TYPOLOGIES = {"O1", "O2", "O3", "O9"}
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
    features: Mapping[str, Any] | None,
    clusters: pd.DataFrame,
    cluster_payers: pd.DataFrame,
    case_ids: Mapping[str, str],
    institution: Mapping[str, Any],
    reporting_currency: str,
    catalogue: Mapping[str, FeatureInfo],
    goaml: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The draft for one alerted customer. `transactions` are that customer's rows with the evidence flags."""
    customer_id = str(score["customer_id"])
    txns = _prepared(transactions, as_of)
    indicators, evidence = _indicators(score, txns, features or {}, catalogue, as_of)
    in_case = txns["is_p2p"] | txns["txn_id"].isin(evidence)
    case_txns = txns[in_case].sort_values(["booked_at", "txn_id"], kind="stable")
    payees, cluster_of = _payees(case_txns, clusters)
    linked = _clusters(payees, clusters, cluster_payers, customer_id, case_ids)
    draft: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "case_id": case_ids.get(customer_id) or case_id(customer_id, as_of),
        "as_of": as_of.isoformat(),
        "generated_at": generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "draft for investigator review",
        "wording": OCSE_WORDING,
        "reporting_currency": reporting_currency,
        "institution": {k: _plain(v) for k, v in institution.items()},
        "subject": _subject(customer, txns),
        "activity": _activity(case_txns, as_of),
        "totals": _totals(case_txns, reporting_currency),
        "indicators": indicators,
        "transactions": [_txn(row, evidence) for row in case_txns.itertuples(index=False)],
        "payees": payees,
        "clusters": linked,
        "model": {
            "version": str(score.get("model_version") or ""),
            "score": _num(score.get("score"), 4),
            "rank": _int(score.get("rank")),
            "reasons": [_reason(r) for r in _list(score.get("reasons"))],
        },
        "flags": _flags(indicators, case_txns),
        "filing": _filing(indicators, case_txns, goaml),
        "recommended_actions": [],
        "truncations": [],
    }
    draft["flags"]["linked_to_other_customers"] = any(c["n_other_customers"] for c in linked)
    draft["recommended_actions"] = recommended_actions(draft)
    for payee in draft["payees"]:
        payee["cluster_id"] = cluster_of.get(payee["counterparty_id"])
    return draft


# --- transactions and evidence ---------------------------------------------------------------------------


def _prepared(transactions: pd.DataFrame, as_of: date) -> pd.DataFrame:
    txns = transactions.copy()
    txns["booked_at"] = pd.to_datetime(txns["booked_at"], utc=True)
    txns["booking_date"] = pd.to_datetime(txns["booking_date"]).dt.date
    txns = txns[
        (txns["booking_date"] < as_of) & (txns["booking_date"] >= as_of - timedelta(days=LOOKBACK_DAYS))
    ]
    txns = txns.sort_values(["booked_at", "txn_id"], kind="stable").reset_index(drop=True)
    p2p = txns["is_p2p"].astype(bool)
    txns["is_p2p"] = p2p
    # O4: first payment to each payee within the loaded year; "new" if that was at most 30 days before.
    first = txns[p2p].groupby("counterparty_id")["booked_at"].transform("min")
    txns["is_new_payee"] = False
    txns.loc[p2p, "is_new_payee"] = (txns.loc[p2p, "booked_at"] - first) <= pd.Timedelta(days=NEW_PAYEE_DAYS)
    # O12: a p2p payment with another p2p payment within 2 hours before or after it.
    times = txns.loc[p2p, "booked_at"]
    gap_before = times.diff().dt.total_seconds()
    gap_after = -times.diff(-1).dt.total_seconds()
    near = (gap_before <= common.BURST_SECONDS) | (gap_after <= common.BURST_SECONDS)
    txns["is_burst"] = False
    txns.loc[p2p, "is_burst"] = near.fillna(False).astype(bool)
    # O4 payee switching: a p2p payment to a payee other than the previous p2p payment's.
    payees = txns.loc[p2p, "counterparty_id"]
    previous = payees.shift()
    txns["is_payee_switch"] = False
    txns.loc[p2p, "is_payee_switch"] = (previous.notna() & (payees != previous)).astype(bool)
    return txns


def _selector(typology: str, feature: str, txns: pd.DataFrame, cluster_payees: set[str]) -> pd.Series | None:
    """Rows behind an indicator, by typology id (None: the indicator is about the customer, not payments)."""
    p2p = txns["is_p2p"]
    if typology in _P2P_TYPOLOGIES:
        rows = p2p
        if "_ph_" in f"_{feature}_":
            rows = rows & (txns["counterparty_country"] == common.PRIMARY_DESTINATION)
        elif "_source_" in f"_{feature}_":
            rows = rows & txns["counterparty_country"].isin(common.OTHER_SOURCE_COUNTRIES)
        return rows
    if "payee_switch" in feature:
        return p2p & txns["is_payee_switch"]
    by_typology = {
        "O4": p2p & txns["is_new_payee"],
        "O5": p2p & txns["is_night"].astype(bool),
        "O6": p2p & txns["is_round"].astype(bool),
        "O7": p2p & txns["is_keyword"].astype(bool),
        "O8": txns["is_related_spend"].astype(bool),
        "O11": txns["is_travel"].astype(bool),
        "O12": p2p & txns["is_burst"],
        "BASE": txns["direction"] == "out",
    }
    if typology in by_typology:
        return by_typology[typology]
    if typology.startswith("F"):
        return p2p & txns["counterparty_id"].isin(cluster_payees)
    return None


def _same_words(feature: str, catalogue: Mapping[str, FeatureInfo]) -> FeatureInfo | None:
    """A catalogue feature with the same words reordered (share_night_p2p_90d ~ share_p2p_night_90d)."""
    words = sorted(feature.split("_"))
    return next((info for name, info in catalogue.items() if sorted(name.split("_")) == words), None)


def _window_days(feature: str, info: FeatureInfo | None) -> int:
    if info is not None and info.window_days:
        return int(info.window_days)
    match = re.search(r"_(\d+)d$", feature)
    return int(match.group(1)) if match else LOOKBACK_DAYS


def _feature_of(code: str) -> str:
    reason = reason_table.REASONS.get(code)
    if reason is not None:
        return reason.feature
    for feature in (r.feature for r in reason_table.REASONS.values()):
        if reason_table.fallback_code(feature) == code:
            return feature
    return code[2:].lower() if code.startswith("R_") else code.lower()


def _indicators(
    score: Mapping[str, Any],
    txns: pd.DataFrame,
    features: Mapping[str, Any],
    catalogue: Mapping[str, FeatureInfo],
    as_of: date,
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """One indicator per score reason, with the transactions behind it; and txn_id -> indicator codes."""
    cluster_payees = set(txns.loc[txns["is_p2p"], "counterparty_id"].dropna().astype(str))
    indicators: list[dict[str, Any]] = []
    evidence: dict[str, list[str]] = {}
    for raw in _list(score.get("reasons")):
        reason = _reason(raw)
        feature = _feature_of(reason["code"])
        info = catalogue.get(feature) or _same_words(feature, catalogue)
        typology = info.typology_id if info else "UNKNOWN"
        window = _window_days(feature, info)
        start = as_of - timedelta(days=window)
        selected = _selector(typology, feature, txns, cluster_payees)
        rows = txns[selected & (txns["booking_date"] >= start)] if selected is not None else txns.iloc[0:0]
        ids = [str(t) for t in rows["txn_id"]]
        for txn_id in ids:
            evidence.setdefault(txn_id, []).append(reason["code"])
        indicators.append(
            {
                "code": reason["code"],
                "typology_id": typology,
                "feature": feature,
                "definition": info.definition if info else None,
                "unit": info.unit if info else None,
                "text": reason["text"],
                "value": reason["value"],
                "feature_value": _num(features.get(feature), 4),
                "contribution": reason["contribution"],
                "window": {
                    "days": window,
                    "from": start.isoformat(),
                    "to": (as_of - timedelta(days=1)).isoformat(),
                },
                "n_transactions": len(ids),
                "amount_reporting": money_cents(rows["amount_reporting"].sum(min_count=1)) if ids else None,
                "txn_ids": ids,
            }
        )
    return indicators, evidence


def _txn(row: Any, evidence: Mapping[str, list[str]]) -> dict[str, Any]:
    return {
        "txn_id": str(row.txn_id),
        "booked_at": row.booked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local_time": _text(row.local_time),
        "direction": _text(row.direction),
        "channel": _text(row.channel),
        "amount": money_cents(row.amount),
        "currency": _text(row.currency),
        "amount_reporting": money_cents(row.amount_reporting),
        "counterparty_id": _text(row.counterparty_id),
        "counterparty_name": _text(row.counterparty_name),
        "counterparty_country": _text(row.counterparty_country),
        "counterparty_city": _text(row.counterparty_city),
        "counterparty_account": _text(row.counterparty_account),
        "mcc": _text(row.mcc),
        "reference": _text(row.reference),
        "ip_address": _text(row.ip_address),
        "indicators": list(evidence.get(str(row.txn_id), [])),
    }


# --- subject, activity, totals ----------------------------------------------------------------------------


def _subject(customer: Mapping[str, Any], txns: pd.DataFrame) -> dict[str, Any]:
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
    with_ip = txns[txns["ip_address"].notna()]
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
    subject["device_ids"] = sorted({str(d) for d in txns["device_id"].dropna()})
    subject["account_ids"] = sorted({str(a) for a in txns["account_id"].dropna()})
    return subject


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
    countries = [
        {
            "country": str(c),
            "n_transactions": len(g),
            "amount_reporting": money_cents(g["amount_reporting"].sum()),
        }
        for c, g in case_txns.groupby("counterparty_country", dropna=False)
    ]
    countries.sort(key=lambda item: (-item["n_transactions"], str(item["country"])))
    channels = [
        {
            "channel": str(c),
            "n_transactions": len(g),
            "amount_reporting": money_cents(g["amount_reporting"].sum()),
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
            "amount": money_cents(out["amount_reporting"].sum()),
            "n_transactions": len(out) - missing,
            "n_without_rate": missing,
        },
        # FinCEN's amount fields are in US dollars whatever the reporting currency.
        "usd_amount": money_cents(out["amount_usd"].sum()) if len(out) else None,
    }


# --- payees and clusters ----------------------------------------------------------------------------------


def _payees(case_txns: pd.DataFrame, clusters: pd.DataFrame) -> tuple[list[dict[str, Any]], dict[str, str]]:
    cluster_of = {
        str(k): str(v)
        for k, v in zip(clusters.get("counterparty_id", []), clusters.get("cluster_id", []), strict=False)
    }
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
                "n_transactions": len(group),
                "amount_reporting": money_cents(group["amount_reporting"].sum()),
                "first_paid": group["booking_date"].min().isoformat(),
                "last_paid": group["booking_date"].max().isoformat(),
                "cluster_id": None,
            }
        )
    payees.sort(key=lambda p: (-p["n_transactions"], p["counterparty_id"]))
    return payees, cluster_of


def _clusters(
    payees: Sequence[Mapping[str, Any]],
    clusters: pd.DataFrame,
    payers: pd.DataFrame,
    customer_id: str,
    case_ids: Mapping[str, str],
) -> list[dict[str, Any]]:
    if clusters.empty:
        return []
    frame = clusters.assign(
        counterparty_id=clusters["counterparty_id"].astype(str), cluster_id=clusters["cluster_id"].astype(str)
    )
    paid = {p["counterparty_id"] for p in payees}
    mine = sorted(set(frame.loc[frame["counterparty_id"].isin(paid), "cluster_id"]))
    payer_frame = payers.assign(
        cluster_id=payers["cluster_id"].astype(str), customer_id=payers["customer_id"].astype(str)
    )
    linked = []
    for cluster in mine:
        rows = frame[frame["cluster_id"] == cluster]
        attributes = {
            col: _plain(rows[col].iloc[0])
            for col in rows.columns
            if col not in _CLUSTER_ID_COLUMNS and _is_scalar(rows[col].iloc[0])
        }
        others = sorted(
            set(payer_frame.loc[payer_frame["cluster_id"] == cluster, "customer_id"]) - {customer_id}
        )
        linked.append(
            {
                "cluster_id": cluster,
                "attributes": attributes,
                "payee_ids": sorted(set(rows["counterparty_id"]) & paid),
                "n_members": len(rows),
                "other_case_ids": sorted(case_ids[c] for c in others if c in case_ids),
                "other_customer_ids": [c for c in others if c not in case_ids],
                "n_other_customers": len(others),
            }
        )
    return linked


# --- model, flags, filing ---------------------------------------------------------------------------------


def _reason(raw: Any) -> dict[str, Any]:
    get = raw.get if isinstance(raw, Mapping) else (lambda key: getattr(raw, key, None))
    return {
        "code": str(get("code")),
        "text": _text(get("text")) or "",
        "contribution": _num(get("contribution"), 4),
        "value": _num(get("value"), 4),
    }


def _flags(indicators: Sequence[Mapping[str, Any]], case_txns: pd.DataFrame) -> dict[str, bool]:
    typologies = {i["typology_id"] for i in indicators if i["n_transactions"] or i["typology_id"] == "O10"}
    return {
        # O11 (travel to a destination after escalation): contact offending, and so trafficking, is suspected.
        "trafficking_suspected": "O11" in typologies,
        "virtual_assets": bool((case_txns["channel"] == "crypto").any()),
        "linked_to_other_customers": False,
        "immediate_risk_check": True,
    }


def _filing(
    indicators: Sequence[Mapping[str, Any]], case_txns: pd.DataFrame, goaml: Mapping[str, Any] | None
) -> dict[str, Any]:
    trafficking = any(i["typology_id"] == "O11" and i["n_transactions"] for i in indicators)
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
    if draft["clusters"]:
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
