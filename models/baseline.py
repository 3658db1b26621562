"""The transparent rules baseline: points for each typology indicator over a threshold.

This is what a rules engine in a bank's transaction monitoring would do with the same feature table, and
the bar the model must clear (a first model is promoted only if it beats these rules on the same
evaluation set). Score = points earned / points available, in [0, 1]; a rule whose feature column is
missing from the table is left out (and so are its points).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bantay.errors import ModelError


@dataclass(frozen=True)
class Rule:
    """`points` when every `(column, threshold)` condition holds (`column >= threshold`)."""

    typology_id: str
    conditions: tuple[tuple[str, float], ...]
    points: int
    why: str

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.conditions)


RULES: tuple[Rule, ...] = (
    # O1: small repeated payments to individuals in the Philippines (AUSTRAC: A$10-100, several a month).
    Rule("O1", (("n_p2p_ph_90d", 4), ("share_p2p_small_90d", 0.8)), 2,
         "4+ payments to individuals in PH in 90 days, 80%+ of them under USD 200"),
    # O4: new, unrelated payees (FINTRAC, AMLC): 30-60% of payments to a payee first seen within 30 days.
    Rule("O4", (("share_p2p_new_payee_90d", 0.3), ("n_payees_90d", 3)), 1,
         "3+ payees abroad in 90 days, 30%+ of payments to payees first paid within 30 days"),
    # O5: night payments in the sender's own time zone (baseline about 10%, offenders 40-60%).
    Rule("O5", (("share_p2p_night_90d", 0.35),), 1,
         "35%+ of payments abroad between 21:00 and 03:00 local time"),
    # O6: round amounts (60-80% for offenders).
    Rule("O6", (("share_p2p_round_90d", 0.6),), 1, "60%+ of payments abroad in round amounts"),
    # O8: related card spending (webcam, dating, tokens, VPN, screen capture), 1-4 a month.
    Rule("O8", (("n_related_card_90d", 1),), 1, "1+ related card payments in 90 days"),
    # F5: pays into a payee cluster also paid by confirmed cases (AUSTRAC: the strongest single link).
    Rule("F5", (("n_pay_confirmed_cluster_365d", 1),), 2,
         "pays a payee cluster also paid by confirmed cases"),
)


def usable(columns: Sequence[str], rules: Sequence[Rule] = RULES) -> tuple[Rule, ...]:
    """The rules whose feature columns are all among `columns`."""
    present = set(columns)
    return tuple(rule for rule in rules if set(rule.columns) <= present)


def score(frame: pd.DataFrame, rules: Sequence[Rule] = RULES) -> np.ndarray:
    """Rules score in [0, 1] for each row of `frame` (a missing value meets no condition)."""
    active = usable(list(frame.columns), rules)
    if not active:
        raise ModelError(
            "rules baseline: none of its rules has all its feature columns ("
            + ", ".join(sorted({c for rule in rules for c in rule.columns}))
            + ") in the feature table"
        )
    points = np.zeros(len(frame), dtype="float64")
    for rule in active:
        met = np.ones(len(frame), dtype=bool)
        for column, threshold in rule.conditions:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            met &= np.nan_to_num(values, nan=-np.inf) >= threshold
        points += np.where(met, rule.points, 0)
    return points / sum(rule.points for rule in active)
