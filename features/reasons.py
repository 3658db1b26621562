"""Reason codes and their wording for investigators: the one table that scores and drafts both use.

A `Reason` names the feature column whose model contribution it explains (`feature`) and a template that
refers to feature columns by name, with a format kind after the colon:

- `{col:count}` a whole number ("31"), `{col:usd}` an amount in USD ("USD 42"), `{col:pct}` a share as a
  percentage ("58%"), `{col:days}` a number of days, `{col:yesno}` a 0/1 flag, `{col:num}` a plain number
  (one decimal at most).

A template is rendered only when every column it names has a value; otherwise (or for a feature without a
template of its own) the text falls back to the feature's catalogue definition and its value, so that every
reason reads as words and a number. Wording stays neutral: "suspected online child sexual exploitation
(OCSE)".
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reason:
    """One reason code: the feature whose contribution it explains and the investigators' sentence."""

    code: str
    feature: str
    template: str


def _reasons(*rows: tuple[str, str, str]) -> dict[str, Reason]:
    return {code: Reason(code, feature, template) for code, feature, template in rows}


# Codes are stable ids (drafts and case files cite them); features follow bantay.features.catalogue.FEATURES.
# "Payments abroad" = outbound cross-border person-to-person payments (p2p in the catalogue).
_CLUSTER = "payee cluster (payees linked by a shared phone, account or address)"
REASONS: dict[str, Reason] = _reasons(
    # O1 small repeated cross-border payments
    ("R_P2P_30D", "n_p2p_30d",
     "{n_p2p_30d:count} payments to individuals abroad in 30 days, {p2p_usd_30d:usd} in total"),
    ("R_P2P_90D", "n_p2p_90d",
     "{n_p2p_90d:count} payments to individuals abroad in 90 days, {p2p_usd_90d:usd} in total"),
    ("R_SMALL_REPEAT_PH", "n_p2p_ph_90d",
     "{n_p2p_ph_90d:count} payments to individuals in the Philippines in 90 days "
     "({n_payees_90d:count} payees abroad), median {median_p2p_usd_90d:usd}"),
    ("R_P2P_SOURCE", "n_p2p_source_90d",
     "{n_p2p_source_90d:count} payments to individuals in TH, CO, DO, MX, GH or RO in 90 days"),
    ("R_SHARE_PH", "share_p2p_ph_90d",
     "{share_p2p_ph_90d:pct} of payments to individuals abroad went to the Philippines (90 days)"),
    ("R_P2P_USD_PH", "p2p_usd_ph_90d", "{p2p_usd_ph_90d:usd} sent to individuals in the Philippines "
     "in 90 days"),
    ("R_SMALL_AMOUNTS", "median_p2p_usd_90d",
     "median payment to individuals abroad {median_p2p_usd_90d:usd} (90 days)"),
    ("R_SMALL_SHARE", "share_p2p_small_90d",
     "{share_p2p_small_90d:pct} of payments to individuals abroad under USD 200 (90 days)"),
    ("R_P2P_DAYS", "n_p2p_days_90d", "payments to individuals abroad on {n_p2p_days_90d:count} "
     "different days in 90 days"),
    ("R_SMALL_AMOUNTS_365D", "median_p2p_usd_365d",
     "median payment to individuals abroad {median_p2p_usd_365d:usd} over 365 days "
     "({n_p2p_365d:count} payments)"),
    ("R_SMALL_SHARE_365D", "share_p2p_small_365d",
     "{share_p2p_small_365d:pct} of payments to individuals abroad under USD 200 (365 days)"),
    ("R_SHARE_PH_365D", "share_p2p_ph_365d",
     "{share_p2p_ph_365d:pct} of payments to individuals abroad went to the Philippines (365 days)"),
    # O2 uneven activity
    ("R_P2P_365D", "n_p2p_365d", "{n_p2p_365d:count} payments to individuals abroad in 365 days"),
    ("R_MAX_PER_DAY", "max_p2p_per_day_90d",
     "up to {max_p2p_per_day_90d:count} payments to individuals abroad on a single day (90 days)"),
    ("R_IRREGULAR_GAPS", "gap_cv_365d",
     "payments abroad at irregular intervals, not on a fixed cadence (variation of the gaps "
     "{gap_cv_365d:num}, 365 days)"),
    # O3 escalation
    ("R_ESCALATION_AMOUNT", "escalation_amount_ratio_365d",
     "recent payments abroad are {escalation_amount_ratio_365d:num} times the size of the earliest "
     "(medians, 365 days)"),
    ("R_ESCALATION_GAPS", "escalation_gap_ratio_365d",
     "gaps between payments abroad: the earliest were {escalation_gap_ratio_365d:num} times as long as "
     "the latest (above 1: the gaps shrank)"),
    ("R_SPEEDING_UP", "p2p_count_trend_90d",
     "pace of payments abroad: {n_p2p_30d:count} in the last 30 days, pace ratio "
     "{p2p_count_trend_90d:num} against the 60 days before (above 1: faster)"),
    # O4 many new, unrelated payees
    ("R_PAYEES_30D", "n_payees_30d", "{n_payees_30d:count} different payees abroad in 30 days"),
    ("R_PAYEES_90D", "n_payees_90d", "{n_payees_90d:count} different payees abroad in 90 days"),
    ("R_PAYEES_365D", "n_payees_365d", "{n_payees_365d:count} different payees abroad in 365 days"),
    ("R_NEW_PAYEES", "share_p2p_new_payee_90d",
     "{share_p2p_new_payee_90d:pct} of payments abroad went to a payee first paid within the 30 days before "
     "({n_payees_90d:count} payees in 90 days)"),
    ("R_TOP_PAYEE", "share_p2p_top_payee_365d",
     "{share_p2p_top_payee_365d:pct} of payments abroad in 365 days went to one payee "
     "({n_p2p_top_payee_365d:count} payments)"),
    ("R_PAYEE_SWITCHING", "share_p2p_payee_switch_365d",
     "{share_p2p_payee_switch_365d:pct} of payments abroad went to a different payee from the payment "
     "before ({n_payees_365d:count} payees in 365 days)"),
    ("R_UNRELATED_PAYEES", "share_p2p_unrelated_surname_90d",
     "{share_p2p_unrelated_surname_90d:pct} of payments abroad went to payees with a surname other "
     "than the customer's"),
    # O5 night payments
    ("R_NIGHT_30D", "share_p2p_night_30d",
     "{share_p2p_night_30d:pct} of payments abroad in the last 30 days made between 21:00 and 03:00 "
     "local time"),
    ("R_NIGHT", "share_p2p_night_90d",
     "{share_p2p_night_90d:pct} of payments abroad made between 21:00 and 03:00 local time (90 days)"),
    ("R_NIGHT_365D", "share_p2p_night_365d",
     "{share_p2p_night_365d:pct} of payments abroad made between 21:00 and 03:00 local time (365 days)"),
    ("R_NIGHT_ALL", "share_out_night_90d",
     "{share_out_night_90d:pct} of all outgoing transactions made between 21:00 and 03:00 local "
     "time (90 days)"),
    # O6 round amounts, O7 references
    ("R_ROUND", "share_p2p_round_90d",
     "{share_p2p_round_90d:pct} of payments abroad in round amounts or landing on round PHP sums (90 days)"),
    ("R_ROUND_365D", "share_p2p_round_365d",
     "{share_p2p_round_365d:pct} of payments abroad in round amounts or landing on round PHP sums "
     "(365 days)"),
    ("R_REFERENCES", "share_p2p_keyword_90d",
     "{share_p2p_keyword_90d:pct} of payment references read like school fees, gifts, medical "
     "costs, uniforms, "
     "family support or a social-media handle (90 days)"),
    ("R_REFERENCES_365D", "share_p2p_keyword_365d",
     "{share_p2p_keyword_365d:pct} of payment references read like school fees, gifts, medical costs, "
     "uniforms, family support or a social-media handle (365 days)"),
    # O8 related spending
    ("R_RELATED_SPEND_30D", "n_related_card_30d",
     "{n_related_card_30d:count} card payments in 30 days to adult, dating, VPN, digital-token or "
     "software merchants"),
    ("R_RELATED_SPEND", "n_related_card_90d",
     "{n_related_card_90d:count} card payments in 90 days to adult, dating, VPN, digital-token or software "
     "merchants, {related_card_usd_90d:usd} in total"),
    ("R_RELATED_KINDS", "n_related_groups_90d",
     "card payments in 90 days to {n_related_groups_90d:count} different kinds of related merchants (adult "
     "content or its tokens, dating, VPN or anonymiser, software); most customers who pay one such merchant "
     "pay one kind"),
    ("R_RELATED_SPEND_USD", "related_card_usd_90d",
     "{related_card_usd_90d:usd} of card payments to adult, dating, VPN, digital-token or software "
     "merchants (90 days)"),
    # O9 channels
    ("R_CHANNEL_MTO", "share_p2p_remittance_90d",
     "{share_p2p_remittance_90d:pct} of payments abroad sent through a money-transfer operator (90 days)"),
    ("R_CHANNEL_WALLET", "share_p2p_wallet_90d", "{share_p2p_wallet_90d:pct} of payments abroad "
     "sent to e-wallets"),
    ("R_CHANNEL_CRYPTO", "share_p2p_crypto_90d", "{share_p2p_crypto_90d:pct} of payments abroad "
     "sent as crypto-assets"),
    ("R_CHANNEL_CASH", "share_p2p_cash_90d", "{share_p2p_cash_90d:pct} of payments abroad sent for "
     "cash pick-up"),
    # O10 sender profile
    ("R_PROFILE_AGE", "age_years", "customer aged {age_years:count}"),
    ("R_PROFILE_GENDER", "is_male", "KYC gender recorded as male: {is_male:yesno}"),
    ("R_PROFILE_TENURE", "tenure_days", "customer for {tenure_days:days}"),
    ("R_NO_FAMILY_TIE", "share_p2p_to_nationality_90d",
     "{share_p2p_to_nationality_90d:pct} of payments abroad go to the customer's country of nationality"),
    ("R_PAYEE_SURNAME", "share_payees_same_surname_365d",
     "{share_payees_same_surname_365d:pct} of payees abroad share the customer's surname (365 days)"),
    # O11 travel
    ("R_TRAVEL_AIR", "n_airline_90d", "{n_airline_90d:count} airline payments in 90 days"),
    ("R_TRAVEL_LODGING", "n_lodging_abroad_90d", "{n_lodging_abroad_90d:count} hotel or lodging "
     "payments abroad in 90 days"),
    ("R_TRAVEL_CASH", "cash_in_destination_usd_90d",
     "{cash_in_destination_usd_90d:usd} withdrawn in cash in PH, TH, CO, DO, MX, GH or RO (90 days)"),
    # O12 bursts
    ("R_BURSTS", "n_p2p_burst_90d",
     "{n_p2p_burst_90d:count} payments abroad made within 2 hours of another one (90 days)"),
    ("R_BURST_SHARE", "share_p2p_burst_90d",
     "{share_p2p_burst_90d:pct} of payments abroad made within 2 hours of another one (90 days)"),
    # F1-F5 the payees, seen across all senders
    ("R_SHARED_CLUSTER", "share_pay_shared_cluster_90d",
     f"{{share_pay_shared_cluster_90d:pct}} of payments abroad went to a {_CLUSTER} also paid by "
     f"other customers "
     "(90 days)"),
    ("R_SHARED_CLUSTER_365D", "share_pay_shared_cluster_365d",
     f"{{share_pay_shared_cluster_365d:pct}} of payments abroad went to a {_CLUSTER} also paid by "
     f"other customers "
     "(365 days)"),
    ("R_CLUSTER_SENDERS", "max_other_senders_cluster_90d",
     f"a {_CLUSTER} this customer pays was also paid by {{max_other_senders_cluster_90d:count}} "
     f"other customers "
     "in 90 days"),
    ("R_CLUSTER_SENDERS_SUM", "sum_other_senders_cluster_90d",
     "the payees this customer pays were also paid by {sum_other_senders_cluster_90d:count} other customers "
     "(summed over payee clusters, 90 days)"),
    ("R_CLUSTER_COUNTRIES", "max_sender_countries_cluster_90d",
     f"a {_CLUSTER} this customer pays receives money from senders in "
     "{max_sender_countries_cluster_90d:count} countries (90 days)"),
    ("R_CLUSTER_MEMBERS", "max_members_cluster_365d",
     f"a {_CLUSTER} this customer pays has {{max_members_cluster_365d:count}} linked payees"),
    ("R_LINKED_PAYEES", "share_pay_multi_member_cluster_365d",
     "{share_pay_multi_member_cluster_365d:pct} of payments abroad went to payees linked to other "
     "payees by a "
     "shared phone, account or address (365 days)"),
    ("R_CASH_OUT", "cash_pickup_share_clusters_365d",
     "{cash_pickup_share_clusters_365d:pct} of the money reaching this customer's payees is "
     "collected in cash"),
    ("R_PH_REGIONS", "share_pay_ph_focus_region_365d",
     "{share_pay_ph_focus_region_365d:pct} of payments abroad went to payees in Metro Manila, Central Luzon, "
     "Central Visayas or the Zamboanga Peninsula (365 days)"),
    ("R_CONFIRMED_CLUSTER", "n_pay_confirmed_cluster_365d",
     "{n_pay_confirmed_cluster_365d:count} payments in 365 days to payees also paid by confirmed cases"),
    ("R_CONFIRMED_RISK", "max_confirmed_risk_cluster_365d",
     f"a {_CLUSTER} this customer pays is linked to confirmed cases (confirmed-risk "
     "{max_confirmed_risk_cluster_365d:pct})"),
)
BY_FEATURE: dict[str, Reason] = {reason.feature: reason for reason in REASONS.values()}

_PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")


def _present(value: Any) -> bool:
    if value is None:
        return False
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def format_value(value: Any, kind: str) -> str:
    """Format one number the way investigators read it (see the module docstring for the kinds)."""
    number = float(value)
    if kind == "count":
        return f"{round(number):,d}"
    if kind == "usd":
        return f"USD {number:,.0f}"
    if kind == "pct":
        return f"{100 * number:.0f}%"
    if kind == "yesno":
        return "yes" if number >= 0.5 else "no"
    if kind == "days":
        return f"{number:,.0f} days"
    return f"{number:,.0f}" if abs(number) >= 100 or number == round(number) else f"{number:,.1f}"


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        return format_value(value, format_spec or "num")


def template_columns(template: str) -> tuple[str, ...]:
    """The feature columns a template refers to, in order."""
    return tuple(dict.fromkeys(name for name, _ in _PLACEHOLDER.findall(template)))


def render(reason: Reason, values: Mapping[str, Any]) -> str | None:
    """The reason's sentence with the customer's values, or None when a value it needs is missing."""
    if not all(_present(values.get(column)) for column in template_columns(reason.template)):
        return None
    return _Formatter().format(reason.template, **{c: values[c] for c in template_columns(reason.template)})


def fallback_code(feature: str) -> str:
    """Reason code for a feature without a template of its own: stable and derived from the column name."""
    return "R_" + re.sub(r"\W", "_", feature).upper()


def explain_feature(
    feature: str,
    values: Mapping[str, Any],
    definition: str | None = None,
    unit: str | None = None,
    window_days: int | None = None,
) -> tuple[str, str]:
    """(code, text) explaining one feature's contribution: its own template, else its definition and value."""
    reason = BY_FEATURE.get(feature)
    if reason is not None:
        text = render(reason, values)
        if text is not None:
            return reason.code, text
    code = reason.code if reason is not None else fallback_code(feature)
    value = values.get(feature)
    shown = format_value(value, kind_for_unit(unit)) if _present(value) else "not available"
    window = f" ({window_days} days)" if window_days else ""
    return code, f"{definition or feature.replace('_', ' ')}{window}: {shown}"


def kind_for_unit(unit: str | None) -> str:
    """The format kind for a catalogue unit ("count", "USD", "share", "days", "flag", ...)."""
    unit = (unit or "").lower()
    if unit.startswith("share"):
        return "pct"
    if unit.startswith("usd"):
        return "usd"
    if unit.startswith("count"):
        return "count"
    if unit.startswith("day"):
        return "days"
    if unit.startswith("flag"):
        return "yesno"
    return "num"
