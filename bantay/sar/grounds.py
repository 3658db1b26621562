"""Grounds for suspicion: the activity indicators that hold for a customer, each with the payments behind it.

A ground is stated from the rows that make it true, never from who the customer is: the per-transaction flags
of `bantay.features.flags` (the very rows the features counted) and the payee clusters. Each ground has a
rule of its own (e.g. at least two payments abroad at night, half of them or more), so that every indicator
that holds is stated, not only the model's top reasons; a ground the model cites (its reason's `feature` is
in the ground's `features`) holds as soon as one row is behind it.

The profile (age, sex, tenure, nationality, surname ties: O10), travel (O11) and the baseline activity are
never grounds: a characteristic of a person is not a ground for suspicion, and a plane ticket is not a
payment for abuse. Those model reasons stay in the draft's internal model section.

Every ground but one is about the payments abroad to individuals, which are the suspected payments (the
suspected criminal property the forms report). The related card spending (O8: webcam, dating, VPN, token or
app-store merchants) is a `supporting` ground: context that makes the payments more suspicious, stated with
its transactions, but never a suspected payment itself, so it never enters the forms' amounts or
transaction lists (legal adult-webcam and app-store spending is common among innocent customers too).

The cluster grounds (CONFIRMED_CLUSTER, SHARED_CLUSTER, LINKED_PAYEES) never stand on a hub: a cluster the
clusters table marks `is_hub` (`bantay.features.network`: paid by a large share of the book's senders, an
exchange, money-service business or merchant) is not a facilitator cluster, whoever else paid it; the features
leave the same clusters out of F1-F5.

Substantive and context grounds (what enters the reported set). A payment is reported (listed in
`transactions`, summed in the totals, carried by every form) only when a *substantive* ground cites it: an
activity indicator the typology names as the payments' own marker:

- CONFIRMED_CLUSTER (F5: a payee cluster other confirmed cases paid),
- REFERENCES (O7: school fees, gift, medical, family support, a social-media handle),
- NIGHT_PAYMENTS (O5), BURSTS (O12),
- LINKED_PAYEES and SHARED_CLUSTER for a facilitator-like cluster only (`Context.facilitator_like`): 3 or
  more payee records sharing a phone, account or address (F2), senders from 3 or more countries in 90 days
  (F1), or another confirmed case paying it (F5); two records sharing a phone are a family or a shop as often,
  so a cluster of two records that one other customer pays is context,
- SOURCE_COUNTRY_PAYMENTS (O1: payments to individuals in a source country).

The *context* grounds describe the pattern of the customer's payments, not a payment: NEW_PAYEES and
PAYEE_SWITCHING (O4; marketplace buyers and tippers pay many new payees too), ROUND_AMOUNTS (O6; rent and
gifts are round), FOCUS_REGIONS (F4; most of the country's population) and SHARED_CLUSTER on a cluster that
is not facilitator-like (a seller or parish two customers pay). They never put a payment in the reported set:
after the first pass (`find_grounds`), `restrict` states them again over the reported payments only, so that
they cite, count and sum reported rows alone. A ground that states a share ("9 of the 14 payments abroad")
lists the rows of its denominator (`Finding.base`), so every count can be checked; the build lists the base
rows that are not reported apart, as supporting rows.

`GROUNDS` is in order of strength, strongest first (a payee cluster paid by confirmed cases first, the
small payments to a source country last), and the draft lists grounds in that order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from bantay.features import common, payments

SMALL_USD = common.SMALL_PAYMENT_USD
MAX_QUOTED = 3  # references and merchant names quoted in a ground's sentence

_SOURCE_NAMES = {
    "PH": "the Philippines",
    "TH": "Thailand",
    "CO": "Colombia",
    "DO": "the Dominican Republic",
    "MX": "Mexico",
    "GH": "Ghana",
    "RO": "Romania",
}
_REGION_NAMES = {
    "PH-NCR": "Metro Manila",
    "PH-Central Luzon": "Central Luzon",
    "PH-Central Visayas": "Central Visayas",
    "PH-Zamboanga Peninsula": "the Zamboanga Peninsula",
}


@dataclass(frozen=True)
class Context:
    """What a ground reads: the customer's flagged rows of the look-back, and the payee clusters."""

    txns: pd.DataFrame  # the look-back's rows with the flag columns, sorted by booked_at, txn_id
    as_of: date
    currency: str  # reporting currency
    timezone: str | None
    cluster_of: Mapping[str, str]  # counterparty_id -> cluster_id
    cluster_facts: Mapping[str, Mapping[str, Any]]  # cluster_id -> the clusters table's row
    other_payers: Mapping[str, int]  # cluster_id -> other customers of the institution paying it
    # The customer is itself a confirmed case: its own label never counts for its own clusters, as in the
    # features (`network.customer_network_features_at`).
    own_confirmed: bool = False
    # The reported payments (boolean mask over txns): set by `restrict`, so a context ground counts only them.
    within: pd.Series | None = None
    # Masks of the look-back windows, computed once per context (days -> mask); read through `window`.
    _windows: dict[int, pd.Series] = field(default_factory=dict, init=False, repr=False, compare=False)

    def is_hub(self, cluster: str) -> bool:
        """The cluster is a hub (`is_hub` in the clusters table), never a facilitator cluster."""
        return bool(self.cluster_facts.get(cluster, {}).get("is_hub") or False)

    def window(self, days: int) -> pd.Series:
        """The rows booked in the `days` before `as_of` (a new Series each call)."""
        if days not in self._windows:
            self._windows[days] = self.txns["booking_date"] >= self.as_of - timedelta(days=days)
        return self._windows[days].copy()

    def p2p(self, days: int) -> pd.Series:
        mask = self.txns["is_p2p"] & self.window(days)
        return mask if self.within is None else mask & self.within

    def facilitator_like(self, cluster: str) -> bool:
        """Not a hub, and 3+ linked payee records (F2), senders from 3+ countries in 90 days (F1), or another
        confirmed case paying it (F5): a cluster whose payments LINKED_PAYEES or SHARED_CLUSTER report."""
        facts = self.cluster_facts.get(cluster, {})
        if self.is_hub(cluster):
            return False
        others_confirmed = int(facts.get("n_confirmed_payers_365d") or 0) - int(self.own_confirmed)
        return (
            int(facts.get("n_members") or 1) >= 3
            or int(facts.get("n_sender_countries_90d") or 0) >= 3
            or others_confirmed > 0
        )


@dataclass(frozen=True)
class Finding:
    """The rows behind a ground, whether its own rule holds, and its sentence."""

    rows: pd.Series  # boolean mask over Context.txns
    holds: bool
    text: str
    # The rows of the stated denominator ("9 of the 14 payments abroad": the 14), when the text states one.
    base: pd.Series | None = None
    # The rows this ground makes reportable (None: all of `rows` for a substantive ground, none for context).
    reportable: pd.Series | None = None


@dataclass(frozen=True)
class Ground:
    """One activity indicator: stable code, typology, look-back window, model features it states.

    `supporting`: context, not suspected payments; its rows are evidence, never reported property.
    `context`: describes the pattern; cites only payments a substantive ground reports (see the module).
    """

    code: str
    typology_id: str
    title: str
    days: int
    features: frozenset[str]
    find: Callable[[Context, int], Finding]
    supporting: bool = False
    context: bool = False

    def reportable(self, finding: Finding) -> pd.Series:
        """The rows the finding puts in the reported set (none for a supporting or context ground)."""
        if self.supporting or self.context:
            return finding.rows & False
        return finding.rows if finding.reportable is None else finding.rows & finding.reportable


# --- wording helpers ---------------------------------------------------------------------------------------


def cents(value: Any) -> Decimal:
    """An amount rounded half up to cents, as a Decimal (0 when missing)."""
    if value is None or pd.isna(value):
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def total(rows: pd.DataFrame) -> Decimal:
    """The sum of the rows' reporting amounts, each rounded to cents first (as the draft lists them)."""
    return sum((cents(v) for v in rows["amount_reporting"]), Decimal("0.00"))


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _span(rows: pd.DataFrame) -> str:
    first, last = rows["booking_date"].min(), rows["booking_date"].max()
    if first == last:
        return f"on {first.isoformat()}"
    return f"between {first.isoformat()} and {last.isoformat()}"


def _verb(count: int, singular: str, plural: str) -> str:
    """The verb agreeing with `count` things: `_verb(1, "was", "were")` is "was"."""
    return singular if count == 1 else plural


def _of_the(part: int, whole: int, noun: str) -> str:
    """"3 of the 5 payments", or "the 1 payment" where "1 of the 1 payment" would read oddly."""
    if whole == 1 and part == 1:
        return f"the 1 {noun}"
    return f"{part} of the {_n(whole, noun)}"


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def _quoted(values: Sequence[Any]) -> str:
    seen = list(dict.fromkeys(str(v).strip() for v in values if v is not None and str(v).strip()))
    shown = ", ".join(f'"{v}"' for v in seen[:MAX_QUOTED])
    return shown + (f" and {len(seen) - MAX_QUOTED} more" if len(seen) > MAX_QUOTED else "")


def _empty(ctx: Context) -> pd.Series:
    return pd.Series(False, index=ctx.txns.index)


# --- the grounds -------------------------------------------------------------------------------------------


def _confirmed_cluster(ctx: Context, days: int) -> Finding:
    others = {
        cluster: int(facts.get("n_confirmed_payers_365d") or 0) - int(ctx.own_confirmed)
        for cluster, facts in ctx.cluster_facts.items()
    }
    confirmed = {cluster: n for cluster, n in others.items() if n > 0 and not ctx.is_hub(cluster)}
    payee_cluster = ctx.txns["counterparty_id"].astype("string").map(ctx.cluster_of)
    mask = ctx.p2p(days) & payee_cluster.isin(list(confirmed)).fillna(False).astype(bool)
    rows = ctx.txns[mask]
    if rows.empty:
        return Finding(mask, False, "")
    parts = []
    for cluster, group in rows.groupby(payee_cluster[mask], sort=True):
        n = confirmed[str(cluster)]
        parts.append(
            f"{_n(len(group), 'payment')} ({_money(total(group), ctx.currency)}) to payee cluster {cluster}, "
            f"which {_n(n, 'other confirmed case' if ctx.own_confirmed else 'confirmed case')} of the "
            "institution also paid"
        )
    text = f"{'; '.join(parts)} ({_span(rows)})"
    return Finding(mask, True, text)


def _shared_cluster(ctx: Context, days: int) -> Finding:
    shared = {cluster: n for cluster, n in ctx.other_payers.items() if n > 0 and not ctx.is_hub(cluster)}
    payee_cluster = ctx.txns["counterparty_id"].astype("string").map(ctx.cluster_of)
    mask = ctx.p2p(days) & payee_cluster.isin(list(shared)).fillna(False).astype(bool)
    rows = ctx.txns[mask]
    if rows.empty:
        return Finding(mask, False, "")
    parts = []
    for cluster, group in rows.groupby(payee_cluster[mask], sort=True):
        parts.append(
            f"{_n(len(group), 'payment')} ({_money(total(group), ctx.currency)}) to payee cluster {cluster}, "
            f"which {_n(shared[str(cluster)], 'other customer')} of the institution also paid"
        )
    facilitator = [c for c in shared if ctx.facilitator_like(c)]
    reportable = payee_cluster.isin(facilitator).fillna(False).astype(bool)
    return Finding(mask, True, f"{'; '.join(parts)} ({_span(rows)})", reportable=reportable)


def _references(ctx: Context, days: int) -> Finding:
    mask = ctx.p2p(days) & ctx.txns["is_keyword"]
    rows = ctx.txns[mask]
    text = (
        f"{_n(len(rows), 'payment')} abroad {_span(rows)} {_verb(len(rows), 'carries', 'carry')} references "
        f"that read like school fees, "
        f"gifts, medical costs, family support or a social-media handle "
        f"({_quoted(rows['reference'].tolist())}), "
        f"{_money(total(rows), ctx.currency)} in total"
        if len(rows)
        else ""
    )
    return Finding(mask, len(rows) >= 1, text)


# The kinds of related merchant a draft names (typology O8): the features' kinds and name patterns, but a
# merchant category code alone names a kind only where the code is specific to it (5967 adult teleservices,
# 7273 dating); software stores (5734, 7372), network services (4816) and quasi-cash (6051) hold many ordinary
# merchants, so there the merchant's name must say it. Everyday digital goods (streaming, app and game
# stores: 5815-5818) count in the model's related-spend features but are no kind: a SAR never cites an
# audiobook, app-store or game purchase as context.
_SPECIFIC_MCCS = frozenset({"5967", "7273"})
_RELATED_KINDS: tuple[tuple[str, frozenset[str], re.Pattern[str]], ...] = (
    *((name, frozenset(mccs) & _SPECIFIC_MCCS, re.compile(pattern))
      for name, mccs, pattern in common.RELATED_GROUPS),
    ("live chat", frozenset(), re.compile(r"(?i)\blive ?chat")),
)
_RELATED_WORDS = {
    "adult content or its tokens": "adult-content sites or their token sellers",
    "dating": "dating services",
    "VPN or anonymiser": "VPN or anonymiser services",
    "software": "software sellers",
    "live chat": "live-chat sites",
}


def related_kind(mcc: Any, name: Any) -> str | None:
    """The O8 kind of a card payment's merchant (`_RELATED_KINDS`, first match), or None for any other."""
    code, label = str(mcc or ""), str(name or "")
    for kind, mccs, pattern in _RELATED_KINDS:
        if code in mccs or pattern.search(label):
            return kind
    return None


def _related_spend(ctx: Context, days: int) -> Finding:
    kinds = pd.Series(
        [related_kind(m, n) for m, n in zip(ctx.txns["mcc"], ctx.txns["counterparty_name"], strict=True)],
        index=ctx.txns.index, dtype="object",
    )
    mask = ctx.window(days) & ctx.txns["is_related_spend"] & kinds.notna()
    rows = ctx.txns[mask]
    parts = []
    for kind in dict.fromkeys(k for k, _, _ in _RELATED_KINDS):
        of_kind = rows[kinds[mask] == kind]
        if len(of_kind):
            parts.append(f"{_n(len(of_kind), 'payment')} to {_RELATED_WORDS.get(kind, kind)} "
                         f"({_quoted(of_kind['counterparty_name'].tolist())})")
    text = (
        f"{_n(len(rows), 'card payment')} {_span(rows)} to related merchants: {'; '.join(parts)}; "
        f"{_money(total(rows), ctx.currency)} in total"
        if len(rows)
        else ""
    )
    return Finding(mask, len(rows) >= 1, text)


def _night(ctx: Context, days: int) -> Finding:
    base = ctx.p2p(days)
    mask = base & ctx.txns["is_night"]
    rows, n_base = ctx.txns[mask], int(base.sum())
    zone = f" ({ctx.timezone})" if ctx.timezone else ""
    text = (
        f"{_of_the(len(rows), n_base, 'payment')} abroad {_span(ctx.txns[base])} "
        f"({_share(len(rows), n_base)}) {_verb(len(rows), 'was', 'were')} made between 21:00 and 03:00 in "
        f"the customer's local "
        f"time{zone}, "
        f"{_money(total(rows), ctx.currency)} in total"
        if len(rows)
        else ""
    )
    return Finding(mask, len(rows) >= 2 and 2 * len(rows) >= n_base, text, base=base)


def _bursts(ctx: Context, days: int) -> Finding:
    mask = ctx.p2p(days) & ctx.txns["is_burst"]
    rows = ctx.txns[mask]
    n_days = rows["booking_date"].nunique()
    text = (
        f"{_n(len(rows), 'payment')} abroad {_span(rows)} were made within 2 hours of another one "
        f"(on {_n(n_days, 'day')}), {_money(total(rows), ctx.currency)} in total"
        if len(rows)
        else ""
    )
    return Finding(mask, len(rows) >= 2, text)


def _new_payees(ctx: Context, days: int) -> Finding:
    mask = ctx.p2p(days) & ctx.txns["is_new_payee"]
    rows = ctx.txns[mask]
    n_payees = rows["counterparty_id"].nunique()
    text = (
        f"{_n(len(rows), 'payment')} abroad {_span(rows)} went to {_n(n_payees, 'payee')} first paid within "
        f"the {payments.NEW_PAYEE_DAYS} days before, {_money(total(rows), ctx.currency)} in total"
        if len(rows)
        else ""
    )
    return Finding(mask, n_payees >= 3, text)


def _payee_switching(ctx: Context, days: int) -> Finding:
    base = ctx.p2p(days)
    mask = base & ctx.txns["is_payee_switch"]
    rows, n_base = ctx.txns[mask], int(base.sum())
    n_payees = ctx.txns.loc[base, "counterparty_id"].nunique()
    text = (
        f"{_of_the(len(rows), n_base, 'payment')} abroad {_span(ctx.txns[base])} went to a different "
        f"payee "
        f"from the customer's payment abroad before it ({_n(n_payees, 'payee')} in all)"
        if len(rows)
        else ""
    )
    return Finding(mask, len(rows) >= 4 and len(rows) >= 0.6 * (n_base - 1), text, base=base)


def _linked_payees(ctx: Context, days: int) -> Finding:
    linked = {
        cluster: int(facts.get("n_members") or 1)
        for cluster, facts in ctx.cluster_facts.items()
        if int(facts.get("n_members") or 1) >= 2 and not ctx.is_hub(cluster)
    }
    payee_cluster = ctx.txns["counterparty_id"].astype("string").map(ctx.cluster_of)
    mask = ctx.p2p(days) & payee_cluster.isin(list(linked)).fillna(False).astype(bool)
    rows = ctx.txns[mask]
    if rows.empty:
        return Finding(mask, False, "")
    parts = [
        f"{_n(len(group), 'payment')} ({_money(total(group), ctx.currency)}) to payee cluster {cluster}, "
        f"whose "
        f"{linked[str(cluster)]} payee records share a phone number, account or address"
        for cluster, group in rows.groupby(payee_cluster[mask], sort=True)
    ]
    holds = any(linked[str(c)] >= 3 for c in set(payee_cluster[mask]))
    facilitator = [c for c in linked if ctx.facilitator_like(c)]
    reportable = payee_cluster.isin(facilitator).fillna(False).astype(bool)
    return Finding(mask, holds, f"{'; '.join(parts)} ({_span(rows)})", reportable=reportable)


def _focus_regions(ctx: Context, days: int) -> Finding:
    mask = ctx.p2p(days) & ctx.txns["is_ph_focus_region"]
    rows = ctx.txns[mask]
    regions = [_REGION_NAMES.get(str(r), str(r)) for r in dict.fromkeys(rows["payee_region"].dropna())]
    text = (
        f"{_n(len(rows), 'payment')} abroad {_span(rows)} went to payees in {', '.join(regions)} "
        f"(regions of the Philippines named in the guidance), {_money(total(rows), ctx.currency)} in total"
        if len(rows)
        else ""
    )
    # Stated only when the model cites it: the regions are most of the country's population.
    return Finding(mask, False, text)


def _source_countries(ctx: Context, days: int) -> Finding:
    mask = ctx.p2p(days) & ctx.txns["counterparty_country"].isin(common.SOURCE_COUNTRIES)
    rows = ctx.txns[mask]
    if rows.empty:
        return Finding(mask, False, "")
    by_country = rows.groupby("counterparty_country", sort=False).size()
    by_country = by_country.sort_values(ascending=False, kind="stable")
    names = [_SOURCE_NAMES.get(str(c), str(c)) for c in by_country.index]
    counted = (f"{c} ({n})" for c, n in zip(names, by_country, strict=True))
    places = names[0] if len(names) == 1 else ", ".join(counted)
    usd = rows["amount_usd"].astype("float64")
    n_small = int((usd < SMALL_USD).sum())
    median = cents(rows["amount_reporting"].astype("float64").median())
    text = (
        f"{_n(len(rows), 'payment')} to individuals in {places} {_span(rows)}, "
        f"{_money(total(rows), ctx.currency)} in total; {n_small} of them under USD {SMALL_USD:,.0f}, "
        f"median {_money(median, ctx.currency)}"
    )
    return Finding(mask, len(rows) >= 2 and float(usd.median()) < SMALL_USD, text)


def _round_amounts(ctx: Context, days: int) -> Finding:
    base = ctx.p2p(days)
    mask = base & ctx.txns["is_round"]
    rows, n_base = ctx.txns[mask], int(base.sum())
    text = (
        f"{_of_the(len(rows), n_base, 'payment')} abroad {_span(ctx.txns[base])} "
        f"({_share(len(rows), n_base)}) {_verb(len(rows), 'was', 'were')} in round amounts or landed on "
        f"round sums in Philippine pesos"
        if len(rows)
        else ""
    )
    return Finding(mask, len(rows) >= 3 and 4 * len(rows) >= 3 * n_base, text, base=base)


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


GROUNDS: tuple[Ground, ...] = (
    Ground("CONFIRMED_CLUSTER", "F5", "Payee cluster paid by confirmed cases", 365,
           _f("n_pay_confirmed_cluster_365d", "max_confirmed_risk_cluster_365d",
              "pay_weighted_confirmed_risk_365d"), _confirmed_cluster),
    Ground("REFERENCES", "O7", "Payment references", 90,
           _f("share_p2p_keyword_90d", "share_p2p_keyword_365d"), _references),
    Ground("RELATED_SPEND", "O8", "Card payments to related merchants", 90,
           _f("n_related_card_30d", "n_related_card_90d", "n_related_groups_90d", "related_card_usd_90d"),
           _related_spend, supporting=True),
    Ground("SHARED_CLUSTER", "F1", "Payees shared with other customers", 365,
           _f("share_pay_shared_cluster_90d", "share_pay_shared_cluster_365d",
              "max_other_senders_cluster_90d", "sum_other_senders_cluster_90d",
              "max_sender_countries_cluster_90d"), _shared_cluster),
    Ground("NIGHT_PAYMENTS", "O5", "Payments at night", 90,
           _f("share_p2p_night_30d", "share_p2p_night_90d", "share_p2p_night_365d", "share_out_night_90d"),
           _night),
    Ground("BURSTS", "O12", "Payments in bursts", 90, _f("n_p2p_burst_90d", "share_p2p_burst_90d"), _bursts),
    Ground("NEW_PAYEES", "O4", "Many new payees", 90,
           _f("n_payees_30d", "n_payees_90d", "n_payees_365d", "share_p2p_new_payee_90d"), _new_payees,
           context=True),
    Ground("PAYEE_SWITCHING", "O4", "Switching between payees", 365, _f("share_p2p_payee_switch_365d"),
           _payee_switching, context=True),
    Ground("LINKED_PAYEES", "F2", "Payees linked to each other", 365,
           _f("max_members_cluster_365d", "share_pay_multi_member_cluster_365d"), _linked_payees),
    Ground("FOCUS_REGIONS", "F4", "Payees in the regions named in the guidance", 365,
           _f("share_pay_ph_focus_region_365d"), _focus_regions, context=True),
    Ground("SOURCE_COUNTRY_PAYMENTS", "O1", "Small payments to individuals in a source country", 90,
           _f("n_p2p_30d", "n_p2p_90d", "n_p2p_ph_90d", "n_p2p_source_90d", "share_p2p_ph_90d", "p2p_usd_30d",
              "p2p_usd_90d", "p2p_usd_ph_90d", "median_p2p_usd_90d", "p2p_usd_iqr_ratio_90d",
              "share_p2p_small_90d", "n_p2p_days_90d", "median_p2p_usd_365d", "share_p2p_small_365d",
              "share_p2p_ph_365d", "n_p2p_365d", "max_p2p_per_day_90d", "gap_cv_365d",
              "escalation_amount_ratio_365d", "escalation_gap_ratio_365d", "p2p_count_trend_90d"),
           _source_countries),
    Ground("ROUND_AMOUNTS", "O6", "Round amounts", 90, _f("share_p2p_round_90d", "share_p2p_round_365d"),
           _round_amounts, context=True),
)
BY_FEATURE: dict[str, Ground] = {feature: ground for ground in GROUNDS for feature in ground.features}


def ground_of(feature: str | None) -> Ground | None:
    """The ground that states a model feature, or None (profile, travel, baseline: never a ground)."""
    return BY_FEATURE.get(feature or "")


def find_grounds(ctx: Context, cited: Mapping[str, int]) -> list[tuple[Ground, Finding, int]]:
    """(ground, finding, window days) of every ground that holds, strongest first.

    `cited`: ground code -> the longest window of the model features citing it (the ground's own window is
    the shortest used). A cited ground holds when any row is behind it; the others by their own rule.
    """
    found = []
    for ground in GROUNDS:
        days = max(ground.days, cited.get(ground.code, 0))
        finding = ground.find(ctx, days)
        if finding.holds or (ground.code in cited and bool(finding.rows.any())):
            found.append((ground, finding, days))
    return found


def reported_rows(found: Sequence[tuple[Ground, Finding, int]], index: pd.Index) -> pd.Series:
    """The reported set: the rows at least one substantive ground cites (boolean mask over Context.txns)."""
    mask = pd.Series(False, index=index)
    for ground, finding, _days in found:
        mask |= ground.reportable(finding)
    return mask


def restrict(ctx: Context, found: Sequence[tuple[Ground, Finding, int]]) -> list[tuple[Ground, Finding, int]]:
    """The grounds with every context ground (and SHARED_CLUSTER) stated again over the reported rows only:
    its rows, counts, sums and denominator are then reported payments; a ground left with no row is dropped.
    Substantive grounds are kept as found (their rows are reported by definition)."""
    reported = reported_rows(found, ctx.txns.index)
    within = replace(ctx, within=reported)
    out = []
    for ground, finding, days in found:
        if ground.supporting or not bool((finding.rows & ~reported).any()):
            out.append((ground, finding, days))
            continue
        again = ground.find(within, days)
        if bool(again.rows.any()):
            out.append((ground, again, days))
    return out
