"""The transparent rules baseline: points for each typology indicator over a threshold.

This is what a rules engine in a bank's transaction monitoring would do with the same feature table, and
the bar the model must clear (a first model is promoted only if it beats these rules on the same
evaluation set). Score = points earned / points available, in [0, 1]; a rule whose feature column is
missing from the table is left out (and so are its points).

The rules are also the cold-start scorer: until a version of the model holds the `champion` alias (too few
confirmed labels to train one, or no version has beaten these rules at the gate), the daily scoring ranks
customers by `spark_score`, the same score computed in Spark, with one reason per rule met (code
`RULE_<id>`, its wording, its points' share of the score), under the version label `RULES_VERSION`. The
rules give few distinct scores, so their ranking breaks ties by the cross-border payments in 90 days
(`TIEBREAK`, more first), then by customer id, and they alert only customers who meet at least one rule
(`lowest_score`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bantay.errors import ModelError

# The `model_version` of scores made by the rules (bump the number when RULES change).
RULES_VERSION = "bantay-rules/1"
TIEBREAK = "n_p2p_90d"  # among equal rules scores, more cross-border payments in 90 days rank first


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
         "4+ payments to individuals in PH in 90 days, and 80%+ of payments abroad under USD 200"),
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


def _active(columns: Sequence[str], rules: Sequence[Rule]) -> tuple[Rule, ...]:
    active = usable(columns, rules)
    if not active:
        raise ModelError(
            "rules baseline: none of its rules has all its feature columns ("
            + ", ".join(sorted({c for rule in rules for c in rule.columns}))
            + ") in the feature table"
        )
    return active


def score(frame: pd.DataFrame, rules: Sequence[Rule] = RULES) -> np.ndarray:
    """Rules score in [0, 1] for each row of `frame` (a missing value meets no condition)."""
    active = _active(list(frame.columns), rules)
    points = np.zeros(len(frame), dtype="float64")
    for rule in active:
        met = np.ones(len(frame), dtype=bool)
        for column, threshold in rule.conditions:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            met &= np.nan_to_num(values, nan=-np.inf) >= threshold
        points += np.where(met, rule.points, 0)
    return points / sum(rule.points for rule in active)


def lowest_score(columns: Sequence[str], rules: Sequence[Rule] = RULES) -> float:
    """The lowest score above 0 the rules usable on `columns` can give (one rule met, the fewest points)."""
    active = _active(columns, rules)
    return min(rule.points for rule in active) / sum(rule.points for rule in active)


def _met(rule: Rule) -> Column:
    """Whether every condition of `rule` holds on the row (a null, NaN or non-numeric value meets none)."""
    conditions = [
        F.coalesce(F.nanvl(F.col(c).cast("double"), F.lit(None).cast("double")) >= F.lit(float(t)),
                   F.lit(False))
        for c, t in rule.conditions
    ]
    met = conditions[0]
    for condition in conditions[1:]:
        met = met & condition
    return met


def spark_score(features: DataFrame, rules: Sequence[Rule] = RULES, top_k: int = 3) -> DataFrame:
    """`customer_id, score, reasons, tiebreak` of every row of `features` by the rules, in Spark (no Python
    worker).

    `score` equals `score()` on the same rows. `reasons`: up to `top_k` rules met, most points first (then in
    `RULES` order), each `code` (`RULE_` and the rule's typology id), `feature` (its first column), `text`
    (its wording), `contribution` (its points over the points available) and `value` (that column's value),
    the scorer's reason layout (`bantay.models.score.SCORED_SCHEMA`). `tiebreak`: the `TIEBREAK` column
    (null when the table lacks it), which `bantay.models.score.rank_and_alert` orders equal scores by.
    """
    active = _active(features.columns, rules)
    available = float(sum(rule.points for rule in active))
    order = sorted(range(len(active)), key=lambda i: (-active[i].points, i))
    earned = sum((F.when(_met(rule), F.lit(rule.points)).otherwise(F.lit(0)) for rule in active), F.lit(0))
    reasons = F.array(*[
        F.when(_met(active[i]), F.struct(
            F.lit(f"RULE_{active[i].typology_id}").alias("code"),
            F.lit(active[i].columns[0]).alias("feature"),
            F.lit(active[i].why).alias("text"),
            F.lit(active[i].points / available).alias("contribution"),
            F.col(active[i].columns[0]).cast("double").alias("value"),
        ))
        for i in order
    ])
    met_only = F.filter(reasons, lambda reason: reason.isNotNull())
    return features.select(
        F.col("customer_id").cast("string").alias("customer_id"),
        (earned.cast("double") / F.lit(available)).alias("score"),
        F.slice(met_only, 1, top_k).alias("reasons"),
        (F.col(TIEBREAK).cast("double") if TIEBREAK in features.columns else F.lit(None).cast("double"))
        .alias("tiebreak"),
    )
