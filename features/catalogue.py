"""The feature catalogue: every model column in model order: typology id, definition, window, unit.

`FEATURES` is the single source for the feature table's columns, the model's inputs and `docs/features.md`.
"""

from __future__ import annotations

from pathlib import Path

from bantay.features.common import FeatureSpec
from bantay.features.network import NETWORK_FEATURES

__all__ = [
    "FEATURES",
    "SENDER_FEATURES",
    "TYPOLOGY_SOURCES",
    "FeatureSpec",
    "markdown",
    "model_columns",
    "write_docs",
]

_P2P = "outbound cross-border person-to-person payments (p2p)"

SENDER_FEATURES: tuple[FeatureSpec, ...] = (
    # O1 small repeated cross-border p2p payments
    FeatureSpec("n_p2p_30d", "O1", f"number of {_P2P}", 30, "count"),
    FeatureSpec("n_p2p_90d", "O1", f"number of {_P2P}", 90, "count"),
    FeatureSpec("n_p2p_ph_90d", "O1", "number of p2p payments to the Philippines", 90, "count"),
    FeatureSpec(
        "n_p2p_source_90d",
        "O1",
        "number of p2p payments to other source countries (TH, CO, DO, MX, GH, RO)",
        90,
        "count",
    ),
    FeatureSpec("n_p2p_elsewhere_90d", "O1", "number of p2p payments to any other country", 90, "count"),
    FeatureSpec("share_p2p_ph_90d", "O1", "share of p2p payments going to the Philippines", 90, "share"),
    FeatureSpec("p2p_usd_30d", "O1", "total of p2p payments", 30, "USD"),
    FeatureSpec("p2p_usd_90d", "O1", "total of p2p payments", 90, "USD"),
    FeatureSpec("p2p_usd_ph_90d", "O1", "total of p2p payments to the Philippines", 90, "USD"),
    FeatureSpec("median_p2p_usd_90d", "O1", "median p2p payment (percentile_approx)", 90, "USD (median)"),
    FeatureSpec(
        "p2p_usd_iqr_ratio_90d", "O1", "spread of p2p amounts: (75th - 25th percentile) / median", 90, "ratio"
    ),
    FeatureSpec("share_p2p_small_90d", "O1", "share of p2p payments under USD 200", 90, "share", monotone=1),
    FeatureSpec("n_p2p_days_90d", "O1", "distinct days with a p2p payment", 90, "count"),
    FeatureSpec("median_p2p_usd_365d", "O1", "median p2p payment (percentile_approx)", 365, "USD (median)"),
    FeatureSpec(
        "share_p2p_small_365d", "O1", "share of p2p payments under USD 200", 365, "share", monotone=1
    ),
    FeatureSpec("share_p2p_ph_365d", "O1", "share of p2p payments going to the Philippines", 365, "share"),
    # O2 uneven, heavy-tailed activity
    FeatureSpec("n_p2p_365d", "O2", f"number of {_P2P}", 365, "count"),
    FeatureSpec("max_p2p_per_day_90d", "O2", "most p2p payments made on one day", 90, "count"),
    FeatureSpec(
        "gap_cv_365d",
        "O2",
        "coefficient of variation of the gaps between p2p payments (standard deviation / mean; 3+ payments, "
        "gaps under an hour count as an hour): low for a fixed cadence, high for irregular payments",
        365,
        "ratio",
    ),
    # O3 escalation
    FeatureSpec(
        "escalation_amount_ratio_365d",
        "O3",
        "median amount of the last third of p2p payments / median of the first third (3+ payments)",
        365,
        "ratio",
    ),
    FeatureSpec(
        "escalation_gap_ratio_365d",
        "O3",
        "median gap between p2p payments in the first third / in the last third (above 1: gaps shrink; "
        "4+ payments)",
        365,
        "ratio",
    ),
    FeatureSpec(
        "p2p_count_trend_90d",
        "O3",
        "p2p payments in the last 30 days / (half the payments in the 60 days before, plus 1)",
        90,
        "ratio",
    ),
    # O4 many new, unrelated payees
    FeatureSpec("n_payees_30d", "O4", "distinct p2p payees", 30, "count"),
    FeatureSpec("n_payees_90d", "O4", "distinct p2p payees", 90, "count"),
    FeatureSpec("n_payees_365d", "O4", "distinct p2p payees", 365, "count"),
    FeatureSpec(
        "share_p2p_new_payee_90d",
        "O4",
        "share of p2p payments to a payee the customer first paid within the 30 days before",
        90,
        "share",
        monotone=1,
    ),
    FeatureSpec(
        "share_p2p_unrelated_surname_90d",
        "O4",
        "share of p2p payments to payees whose surname differs from the sender's",
        90,
        "share",
        monotone=1,
    ),
    FeatureSpec("n_p2p_top_payee_365d", "O4", "p2p payments to the customer's most-paid payee", 365, "count"),
    FeatureSpec(
        "share_p2p_top_payee_365d",
        "O4",
        "share of p2p payments going to the customer's most-paid payee (1-3 stable payees: the look-alikes)",
        365,
        "share",
    ),
    FeatureSpec(
        "share_p2p_payee_switch_365d",
        "O4",
        "share of p2p payments (after the first) going to a payee other than the previous payment's",
        365,
        "share",
    ),
    # O5 night payments in the sender's own time zone
    FeatureSpec(
        "share_p2p_night_30d", "O5", "share of p2p payments booked 21:00-03:00 local time", 30, "share",
        monotone=1,
    ),
    FeatureSpec(
        "share_p2p_night_90d",
        "O5",
        "share of p2p payments booked 21:00-03:00 local time",
        90,
        "share",
        monotone=1,
    ),
    FeatureSpec(
        "share_p2p_night_365d",
        "O5",
        "share of p2p payments booked 21:00-03:00 local time",
        365,
        "share",
        monotone=1,
    ),
    FeatureSpec(
        "share_out_night_90d",
        "O5",
        "share of all outbound transactions booked 21:00-03:00 local time",
        90,
        "share",
    ),
    # O6 round amounts
    FeatureSpec(
        "share_p2p_round_90d",
        "O6",
        "share of p2p payments round in the sending currency (multiple of 5) or landing on a multiple "
        "of PHP 500 (within 0.5%)",
        90,
        "share",
        monotone=1,
    ),
    FeatureSpec(
        "share_p2p_round_365d",
        "O6",
        "share of p2p payments round in the sending currency or landing on a multiple of PHP 500",
        365,
        "share",
        monotone=1,
    ),
    # O7 innocent-sounding references
    FeatureSpec(
        "share_p2p_keyword_90d",
        "O7",
        "share of p2p payments whose reference reads school fees, gift, medical, uniform, family support "
        "or a social-media handle",
        90,
        "share",
        monotone=1,
    ),
    FeatureSpec(
        "share_p2p_keyword_365d",
        "O7",
        "share of p2p payments with an innocent-sounding reference or a social-media handle (as 90 days)",
        365,
        "share",
        monotone=1,
    ),
    # O8 related spending
    FeatureSpec(
        "n_related_card_30d",
        "O8",
        "card payments to adult / dating / VPN / digital-token / software merchants (MCC or name)",
        30,
        "count",
        monotone=1,
    ),
    FeatureSpec(
        "n_related_card_90d",
        "O8",
        "card payments to adult / dating / VPN / digital-token / software merchants (MCC or name)",
        90,
        "count",
        monotone=1,
    ),
    FeatureSpec("related_card_usd_90d", "O8", "total of those related card payments", 90, "USD"),
    FeatureSpec(
        "n_related_groups_90d",
        "O8",
        "kinds of related merchants paid by card, of 4: adult content or its tokens, dating, VPN or "
        "anonymiser, software (everyday digital goods are no kind of their own)",
        90,
        "count",
        monotone=1,
    ),
    # O9 channels
    FeatureSpec(
        "share_p2p_remittance_90d",
        "O9",
        "share of p2p payments sent through a money-transfer operator",
        90,
        "share",
    ),
    FeatureSpec("share_p2p_wallet_90d", "O9", "share of p2p payments sent to an e-wallet", 90, "share"),
    FeatureSpec("share_p2p_crypto_90d", "O9", "share of p2p payments sent as crypto-assets", 90, "share"),
    FeatureSpec("share_p2p_cash_90d", "O9", "share of p2p payments sent for cash pick-up", 90, "share"),
    # O10 sender profile (KYC). Sex and age are no model inputs (docs/experiments.md, 2026-12-06: with them
    # the model found 4 of 37 young payers across ten worlds, without them 20, and did no better on the worst
    # world it was chosen on); they stay in the table to report alert rates among innocent customers by sex
    # and age band.
    FeatureSpec("age_years", "O10", "age at the as-of date", None, "years", model_input=False),
    FeatureSpec(
        "is_male", "O10", "1 if KYC gender is M, 0 if F or X, empty if unknown", None, "flag",
        model_input=False,
    ),
    FeatureSpec("tenure_days", "O10", "days since onboarding", None, "days"),
    FeatureSpec(
        "share_p2p_to_nationality_90d",
        "O10",
        "share of p2p payments going to the sender's country of nationality (a family tie)",
        90,
        "share",
        monotone=-1,
    ),
    FeatureSpec(
        "share_payees_same_surname_365d",
        "O10",
        "share of distinct p2p payees who share the sender's surname",
        365,
        "share",
        monotone=-1,
    ),
    # O11 travel to a destination
    FeatureSpec("n_airline_90d", "O11", "payments to airlines (MCC 3000-3299, 4511)", 90, "count"),
    FeatureSpec(
        "n_lodging_abroad_90d",
        "O11",
        "payments to hotels or lodging abroad (MCC 3501-3999, 7011)",
        90,
        "count",
    ),
    FeatureSpec(
        "cash_in_destination_usd_90d",
        "O11",
        "cash withdrawn (ATM) in a source country (PH, TH, CO, DO, MX, GH, RO) abroad",
        90,
        "USD",
    ),
    # O12 bursts
    FeatureSpec(
        "n_p2p_burst_90d", "O12", "p2p payments with another p2p payment within 2 hours", 90, "count",
        monotone=1,
    ),
    FeatureSpec(
        "share_p2p_burst_90d",
        "O12",
        "share of p2p payments with another p2p payment within 2 hours",
        90,
        "share",
        monotone=1,
    ),
    # Baseline activity: tells ordinary customers from the rest
    FeatureSpec("n_out_90d", "BASE", "outbound transactions of any kind", 90, "count"),
    FeatureSpec("out_usd_90d", "BASE", "total outbound", 90, "USD"),
    FeatureSpec("n_in_90d", "BASE", "inbound transactions of any kind", 90, "count"),
    FeatureSpec("in_usd_90d", "BASE", "total inbound", 90, "USD"),
    FeatureSpec(
        "salary_like_in_usd_90d",
        "BASE",
        "inbound domestic bank transfers (salary, pension, benefits)",
        90,
        "USD",
    ),
    FeatureSpec("n_card_90d", "BASE", "outbound card payments", 90, "count"),
    FeatureSpec("n_active_days_90d", "BASE", "days with any transaction", 90, "count"),
    FeatureSpec("n_active_days_365d", "BASE", "days with any transaction", 365, "count"),
    FeatureSpec("share_out_p2p_90d", "BASE", "p2p payments / all outbound transactions", 90, "share"),
    FeatureSpec("p2p_usd_to_in_usd_90d", "BASE", "p2p total / (inbound total + 1 USD)", 90, "ratio"),
)


# The payee-side features (F1-F5) are owned by `bantay.features.network`.
FEATURES: tuple[FeatureSpec, ...] = SENDER_FEATURES + tuple(NETWORK_FEATURES)

# Each typology id of the catalogue: the indicator it stands for and the public sources that describe it
# (docs/typology.md). The model card lists every feature with these.
TYPOLOGY_SOURCES: dict[str, tuple[str, str]] = {
    "O1": ("small repeated cross-border person-to-person payments",
           "AUSTRAC; AIC T&I 589/634; FATF 2025; ECPAT Sweden; AMLC"),
    "O2": ("very uneven activity between payers", "AIC T&I 589; AUSTRAC case study"),
    "O3": ("escalation: shorter gaps, larger amounts", "AIC T&I 589; AUSTRAC"),
    "O4": ("many new, unrelated payees", "FINTRAC; AMLC"),
    "O5": ("night payments in the sender's own time zone", "ECPAT Sweden; FATF"),
    "O6": ("round amounts", "FATF; AMLC"),
    "O7": ("innocent-sounding references", "AUSTRAC; FATF"),
    "O8": ("related card spending", "FINTRAC; AUSTRAC; ECPAT Sweden"),
    "O9": ("channels: money-transfer operators, wallets, crypto", "AMLC; FINTRAC; FinCEN FIN-2021-NTC3"),
    "O10": ("sender profile and family ties to the destination", "AIC; Rights Lab; FINTRAC; ECPAT"),
    "O11": ("travel to a destination", "AUSTRAC; FINTRAC (2025 update)"),
    "O12": ("bursts of payments", "AUSTRAC"),
    "F1": ("many unrelated foreign senders to one recipient", "AUSTRAC; AMLC"),
    "F2": ("family-run collection by linked payees", "IJM; AMLC"),
    "F3": ("quick cash-out by the recipients", "AMLC"),
    "F4": ("where recipients are", "AMLC; DSWD"),
    "F5": ("shared facilitators: payees also paid by confirmed cases", "AUSTRAC"),
    "BASE": ("baseline activity: tells ordinary customers from the rest", "none (no typology indicator)"),
}

# Units whose value is 0 (not undefined) for a customer with no matching rows.
ZERO_UNITS = frozenset({"count", "USD"})


def model_columns() -> list[str]:
    """The feature table's column names, in catalogue order (model inputs and reported-only columns)."""
    return [spec.name for spec in FEATURES]


def markdown(features: tuple[FeatureSpec, ...] = FEATURES) -> str:
    """`docs/features.md`: one table row per feature, grouped in catalogue order."""
    lines = [
        "# Features",
        "",
        "Generated from `catalogue.FEATURES` by `python -m bantay.features.catalogue`; do not edit.",
        "",
        "One row per customer with any transaction in the 365 days before the as-of date D. Only",
        "validated transactions booked before D (UTC booking date) and labels decided before D are used;",
        "a customer's own label never feeds its own features. Amounts are in USD at the rate of the",
        "booking day; hours are in the customer's own time zone. p2p = outbound cross-border",
        "person-to-person payment: channel remittance, bank_transfer, wallet, crypto or cash, no merchant",
        "code other than a money-transfer one (4829, 6051, 6540), counterparty country other than the",
        "residence country. Windows end the day before D. Counts and totals are 0 when nothing matched;",
        "shares, ratios and medians are empty when undefined.",
        "",
        "Columns marked *reported only* are in the table but are no model input (sex and age: see",
        "docs/experiments.md, 2026-12-06).",
        "",
        "| # | name | typology | definition | window (days) | unit | monotone |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, spec in enumerate(features, start=1):
        window = "" if spec.window_days is None else str(spec.window_days)
        definition = spec.definition.replace("|", "\\|") + ("" if spec.model_input else " (*reported only*)")
        lines.append(
            f"| {number} | `{spec.name}` | {spec.typology_id} | {definition} | {window} | {spec.unit} | "
            f"{spec.monotone:+d} |".replace("+0 |", "0 |")
        )
    return "\n".join(lines) + "\n"


def write_docs(path: Path) -> Path:
    """Write the catalogue as Markdown to `path` (docs/features.md)."""
    path.write_text(markdown(), encoding="utf-8")
    return path


if __name__ == "__main__":  # python -m bantay.features.catalogue [docs/features.md]
    import sys

    write_docs(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/features.md"))
