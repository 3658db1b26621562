"""Turn XGBoost `pred_contribs=True` output into reason codes in investigators' words.

`pred_contribs` gives, per row, one additive contribution (log-odds) per feature plus a bias column; the
contributions sum to the row's margin. TreeSHAP measures each contribution against the training population,
which is mostly customers who never pay anyone abroad: against them, any customer paying abroad gets credit
for merely *having* a median payment or a share of payments to the Philippines. Investigators want what sets
this customer apart from other customers paying abroad. So training stores on the model (booster attribute
`reason_baseline`) the mean contribution of each feature over the reference population (`set_baseline`:
unlabelled customers with a payment abroad in the year), and a reason is a feature whose contribution
exceeds that baseline, largest excess first, worded with `bantay.features.reasons` and the customer's own
values.
A model without the attribute uses a zero baseline (plain contributions). The `contribution` a reason
reports stays the raw TreeSHAP value, so that an auditor can add them up to the margin.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from bantay.features import reasons as wording

TOP_REASONS = 3
BASELINE_ATTR = "reason_baseline"
# Below this many customers paying abroad in the reference frame, the baseline is taken over all its rows.
MIN_BASELINE_ROWS = 30
# A mean over this many rows is precise enough; TreeSHAP over a 200k-row sample would cost minutes.
MAX_BASELINE_ROWS = 20_000


@dataclass(frozen=True)
class FeatureInfo:
    """What the wording needs from a catalogue `FeatureSpec`: its definition and unit."""

    definition: str
    unit: str
    window_days: int | None


def feature_info(columns: Sequence[str]) -> dict[str, FeatureInfo]:
    """Definitions, units and windows of `columns` from the feature catalogue (unknown columns get none)."""
    try:
        from bantay.features.catalogue import FEATURES
    except ImportError:
        FEATURES = ()
    known = {spec.name: FeatureInfo(spec.definition, spec.unit, spec.window_days) for spec in FEATURES}
    return {column: known[column] for column in columns if column in known}


def contributions(booster: xgb.Booster, frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """TreeSHAP contributions (log-odds, without the bias column) of the feature columns of `frame`."""
    matrix = xgb.DMatrix(frame[list(columns)].astype("float64"), feature_names=list(columns))
    contribs = booster.predict(matrix, pred_contribs=True)[:, : len(columns)]
    return contribs.astype("float64")


def set_baseline(
    booster: xgb.Booster,
    reference: pd.DataFrame,
    columns: Sequence[str],
    active: str = "n_p2p_365d",
    max_rows: int = MAX_BASELINE_ROWS,
) -> dict[str, float]:
    """Store on `booster` the mean contribution of each feature over `reference` rows with `active` > 0
    (customers paying abroad), or over every row when fewer than `MIN_BASELINE_ROWS` qualify; at most
    `max_rows` of them, a fixed random sample."""
    rows = reference
    if active in reference.columns:
        paying = reference[reference[active].fillna(0) > 0]
        if len(paying) >= MIN_BASELINE_ROWS:
            rows = paying
    if len(rows) > max_rows:
        rows = rows.sample(n=max_rows, random_state=0)
    values = np.zeros(len(columns))
    if len(rows):
        values = contributions(booster, rows, columns).mean(axis=0)
    baseline = {column: round(float(value), 6) for column, value in zip(columns, values, strict=True)}
    booster.set_attr(**{BASELINE_ATTR: json.dumps(baseline, sort_keys=True)})
    return baseline


def baseline(booster: xgb.Booster, columns: Sequence[str]) -> np.ndarray:
    """The reference contributions stored by `set_baseline`, in `columns` order (zeros if none)."""
    raw = booster.attr(BASELINE_ATTR)
    stored = json.loads(raw) if raw else {}
    return np.array([float(stored.get(column, 0.0)) for column in columns])


def standing_text(rank: float) -> str:
    """Where an amount stands in the book, from its rank (the share of customers paying abroad at or below
    it), rounded down so that it never overstates: "as high as or higher than 87% of ..." from the middle up,
    "lower than 60% of ..." below it."""
    if rank >= 0.5:
        return f"as high as or higher than {math.floor(rank * 100)}% of customers paying abroad"
    return f"lower than {math.floor((1 - rank) * 100)}% of customers paying abroad"


def top_reasons(
    contribs: np.ndarray,
    frame: pd.DataFrame,
    columns: Sequence[str],
    info: Mapping[str, FeatureInfo],
    k: int = TOP_REASONS,
    reference: np.ndarray | None = None,
    book_ranks: pd.DataFrame | None = None,
) -> list[list[dict[str, Any]]]:
    """Per row, up to `k` reasons (code, feature, text, contribution, value): the features whose contribution
    most exceeds `reference` (the baseline; zeros if None), largest excess first. `feature` is the column the
    reason explains, so a reader (the drafts) never has to work it back from the code.

    `frame` holds the values the reasons state (amounts, not ranks). `book_ranks`: for a book-relative model,
    the rank in the book of each ranked column (`bantay.models.ranks`), row for row with `frame`; a reason on
    such a column says where the amount stands among the customers paying abroad.

    A row without any positive excess still gets its single largest one, so that no alert is ever left
    without an explanation. Two features worded by the same code appear once.
    """
    records = frame[list(columns)].to_dict("records")
    ranked = [] if book_ranks is None else list(book_ranks.columns)
    standing = book_ranks.to_dict("records") if book_ranks is not None else [{}] * len(records)
    excess = contribs - (np.zeros(len(columns)) if reference is None else reference)
    order = np.argsort(-excess, axis=1, kind="stable")
    out: list[list[dict[str, Any]]] = []
    for row, values in enumerate(records):
        picked: list[dict[str, Any]] = []
        seen: set[str] = set()
        for index in order[row]:
            contribution = float(contribs[row, index])
            if len(picked) >= k or (excess[row, index] <= 0 and picked):
                break
            feature = columns[index]
            spec = info.get(feature)
            code, text = (
                wording.explain_feature(feature, values, spec.definition, spec.unit, spec.window_days)
                if spec
                else wording.explain_feature(feature, values)
            )
            if code in seen:
                continue
            seen.add(code)
            rank = standing[row].get(feature) if feature in ranked else None
            if rank is not None and not pd.isna(rank):
                text = f"{text} ({standing_text(float(rank))})"
            value = values.get(feature)
            picked.append({
                "code": code,
                "feature": feature,
                "text": text,
                "contribution": contribution,
                "value": None if value is None or pd.isna(value) else float(value),
            })
        out.append(picked)
    return out


def contributions_by_group(
    contribs: np.ndarray, groups: Sequence[str], columns: Sequence[str]
) -> pd.DataFrame:
    """Mean contribution of each feature per group (e.g. typology): one row per group, `rows` first.

    `contribs`: TreeSHAP values without the bias column, one row per customer in `groups` order. For a model
    owner: which features lift a cleared look-alike (online daters, church donors) towards an alert.
    """
    table = pd.DataFrame(np.asarray(contribs, dtype="float64"), columns=list(columns))
    table.insert(0, "group", list(groups))
    means = table.groupby("group", sort=True)[list(columns)].mean()
    means.insert(0, "rows", table.groupby("group", sort=True).size())
    return means
