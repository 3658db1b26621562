"""The day's batch views: index.html, the geography report, and the network of shared payee clusters.

All three are built from the drafts (draft.json dicts) alone. Charts use matplotlib's Agg backend.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from bantay.sar.build import money_cents
from bantay.sar.html import _env

PH_REGIONS = ("NCR", "Central Luzon", "Central Visayas", "Zamboanga Peninsula", "other")
# Cities and provinces of the regions typology F4 names (AMLC, DSWD), by the PSA's regional grouping.
_PH_PLACES = {
    "NCR": (
        "manila",
        "metro manila",
        "quezon city",
        "makati",
        "pasig",
        "taguig",
        "caloocan",
        "mandaluyong",
        "pasay",
        "paranaque",
        "parañaque",
        "las pinas",
        "las piñas",
        "muntinlupa",
        "marikina",
        "valenzuela",
        "malabon",
        "navotas",
        "san juan",
        "pateros",
        "ncr",
    ),
    "Central Luzon": (
        "angeles",
        "san fernando",
        "pampanga",
        "olongapo",
        "tarlac",
        "malolos",
        "bulacan",
        "cabanatuan",
        "nueva ecija",
        "balanga",
        "bataan",
        "zambales",
        "mabalacat",
        "meycauayan",
        "san jose del monte",
        "central luzon",
    ),
    "Central Visayas": (
        "cebu",
        "lapu-lapu",
        "lapu lapu",
        "mandaue",
        "talisay",
        "tagbilaran",
        "bohol",
        "dumaguete",
        "negros oriental",
        "siquijor",
        "toledo",
        "danao",
        "central visayas",
    ),
    "Zamboanga Peninsula": (
        "zamboanga",
        "dipolog",
        "dapitan",
        "pagadian",
        "isabela city",
        "zamboanga peninsula",
    ),
}
GEOGRAPHY_COLUMNS = ("level", "key", "n_alerts", "n_payments", "amount_reporting", "currency")
NETWORK_COLUMNS = (
    "cluster_id",
    "n_alerted_customers",
    "case_ids",
    "n_payees_paid",
    "n_payments",
    "amount_reporting",
    "currency",
)


def ph_region(city: Any, cluster_region: Any = None) -> str:
    """One of PH_REGIONS for a Philippine payee: the cluster's region if it names one, else by city."""
    for value in (cluster_region, city):
        text = str(value or "").strip().lower()
        if not text:
            continue
        for region, places in _PH_PLACES.items():
            if text == region.lower() or any(place in text for place in places):
                return region
    return "other"


def index_html(
    drafts: Sequence[Mapping[str, Any]],
    as_of: str,
    generated_at: str,
    failed: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The day's cases by score, with key facts, each linking its draft; then the cases whose draft failed
    (`failed`: case_id, score, reason), each with status "failed" and its reason."""
    ordered = sorted(drafts, key=lambda d: (-(d["model"]["score"] or 0), d["case_id"]))
    failures = sorted(failed, key=lambda f: (-(f.get("score") or 0), f["case_id"]))
    template = _env().get_template("index.html.j2")
    page: str = template.render(drafts=ordered, failed=failures, as_of=as_of, generated_at=generated_at)
    return page


def _region_of_payee(draft: Mapping[str, Any]) -> dict[str, str]:
    cluster_region = {c["cluster_id"]: c["attributes"].get("region") for c in draft["clusters"]}
    return {
        p["counterparty_id"]: ph_region(p["city"], cluster_region.get(p["cluster_id"] or ""))
        for p in draft["payees"]
        if p["country"] == "PH"
    }


def geography(drafts: Sequence[Mapping[str, Any]], currency: str) -> pd.DataFrame:
    """Alerts and alerted volume by destination country, by PH region, and by sender (residence) country."""
    counts: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"cases": set(), "n": 0, "amount": 0.0}
    )
    for draft in drafts:
        regions = _region_of_payee(draft)
        sender = draft["subject"].get("residence_country") or "unknown"
        for txn in draft["transactions"]:
            if txn["direction"] != "out":
                continue
            amount = txn["amount_reporting"] or 0.0
            keys = [
                ("destination_country", txn["counterparty_country"] or "unknown"),
                ("sender_country", sender),
            ]
            if txn["counterparty_country"] == "PH":
                keys.append(("ph_region", regions.get(txn["counterparty_id"], "other")))
            for key in keys:
                counts[key]["cases"].add(draft["case_id"])
                counts[key]["n"] += 1
                counts[key]["amount"] += amount
    rows = [
        {
            "level": level,
            "key": key,
            "n_alerts": len(v["cases"]),
            "n_payments": v["n"],
            "amount_reporting": money_cents(v["amount"]),
            "currency": currency,
        }
        for (level, key), v in counts.items()
    ]
    for region in PH_REGIONS:  # the five regions always appear, so the report reads the same every day
        if ("ph_region", region) not in counts and drafts:
            rows.append(
                {
                    "level": "ph_region",
                    "key": region,
                    "n_alerts": 0,
                    "n_payments": 0,
                    "amount_reporting": 0.0,
                    "currency": currency,
                }
            )
    order = {"destination_country": 0, "ph_region": 1, "sender_country": 2}
    frame = pd.DataFrame(rows, columns=list(GEOGRAPHY_COLUMNS))
    if frame.empty:
        return frame
    frame["_order"] = frame["level"].map(order)
    return (
        frame.sort_values(["_order", "amount_reporting", "key"], ascending=[True, False, True])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def geography_png(frame: pd.DataFrame) -> bytes:
    """Three bar charts: alerted volume by destination country, by PH region, by sender country."""
    titles = {
        "destination_country": "By destination country",
        "ph_region": "Philippines by region",
        "sender_country": "By sender country",
    }
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.5))
    currency = frame["currency"].iloc[0] if not frame.empty else ""
    for ax, (level, title) in zip(axes, titles.items(), strict=True):
        part = frame[frame["level"] == level].head(12)
        ax.barh(part["key"].astype(str)[::-1], part["amount_reporting"][::-1], color="#4a6fa5")
        for y, (amount, alerts) in enumerate(
            zip(part["amount_reporting"][::-1], part["n_alerts"][::-1], strict=True)
        ):
            ax.text(amount, y, f" {alerts} alerts", va="center", fontsize=8)
        ax.set_title(title)
        ax.set_xlabel(f"alerted volume ({currency})")
        if part.empty:
            ax.text(0.5, 0.5, "no alerts", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return _png(fig)


def network(drafts: Sequence[Mapping[str, Any]], currency: str) -> pd.DataFrame:
    """Payee clusters paid by more than one alerted customer, with the cases paying each."""
    paying: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"cases": set(), "payees": set(), "n": 0, "amount": 0.0}
    )
    for draft in drafts:
        cluster_of = {p["counterparty_id"]: p["cluster_id"] for p in draft["payees"] if p["cluster_id"]}
        for txn in draft["transactions"]:
            cluster = cluster_of.get(txn["counterparty_id"]) if txn["direction"] == "out" else None
            if cluster is None:
                continue
            entry = paying[cluster]
            entry["cases"].add(draft["case_id"])
            entry["payees"].add(txn["counterparty_id"])
            entry["n"] += 1
            entry["amount"] += txn["amount_reporting"] or 0.0
    rows = [
        {
            "cluster_id": cluster,
            "n_alerted_customers": len(v["cases"]),
            "case_ids": ";".join(sorted(v["cases"])),
            "n_payees_paid": len(v["payees"]),
            "n_payments": v["n"],
            "amount_reporting": money_cents(v["amount"]),
            "currency": currency,
        }
        for cluster, v in paying.items()
        if len(v["cases"]) > 1
    ]
    frame = pd.DataFrame(rows, columns=list(NETWORK_COLUMNS))
    return frame.sort_values(["n_alerted_customers", "cluster_id"], ascending=[False, True]).reset_index(
        drop=True
    )


def network_png(frame: pd.DataFrame) -> bytes:
    """Cases on the left, shared payee clusters on the right, a line for each case paying a cluster."""
    cases = sorted({c for ids in frame["case_ids"] for c in ids.split(";")}) if not frame.empty else []
    clusters = list(frame["cluster_id"])
    height = max(3.0, 0.35 * max(len(cases), len(clusters), 1) + 1)
    fig, ax = plt.subplots(figsize=(10, height))
    ax.axis("off")
    if frame.empty:
        ax.text(
            0.5, 0.5, "no payee cluster is paid by more than one alerted customer", ha="center", va="center"
        )
    else:

        def ys(n: int) -> list[float]:
            return [1.0 - (i + 0.5) / n for i in range(n)]

        case_y = dict(zip(cases, ys(len(cases)), strict=True))
        cluster_y = dict(zip(clusters, ys(len(clusters)), strict=True))
        for row in frame.itertuples(index=False):
            for case in row.case_ids.split(";"):
                ax.plot(
                    [0.25, 0.75],
                    [case_y[case], cluster_y[row.cluster_id]],
                    color="#999",
                    linewidth=1,
                    zorder=1,
                )
        ax.scatter([0.25] * len(cases), list(case_y.values()), s=60, color="#4a6fa5", zorder=2)
        sizes = [40 + 30 * n for n in frame["n_alerted_customers"]]
        ax.scatter([0.75] * len(clusters), list(cluster_y.values()), s=sizes, color="#b00000", zorder=2)
        for case, y in case_y.items():
            ax.text(0.23, y, case, ha="right", va="center", fontsize=8)
        for row in frame.itertuples(index=False):
            ax.text(
                0.77,
                cluster_y[row.cluster_id],
                f"cluster {row.cluster_id} ({row.n_alerted_customers} cases)",
                ha="left",
                va="center",
                fontsize=8,
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title("Payee clusters paid by more than one alerted customer")
    fig.tight_layout()
    return _png(fig)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    # Fixed metadata: the same figures give the same bytes.
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
