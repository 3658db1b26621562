"""Turn XGBoost `pred_contribs=True` output into reason codes in investigators' words.

`pred_contribs` gives, per row, one additive contribution (log-odds) per feature plus a bias column; the
contributions sum to the row's margin. A reason is a feature with a positive contribution (it pushed the
score up), worded with `bantay.sar.reasons` and the customer's own values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from bantay.sar import reasons as wording

TOP_REASONS = 3


@dataclass(frozen=True)
class FeatureInfo:
    """What the wording needs from a catalogue `FeatureSpec`: its definition and unit."""

    definition: str
    unit: str
    window_days: int | None


def feature_info(columns: Sequence[str]) -> dict[str, FeatureInfo]:
    """Definitions, units and windows of `columns` from the feature catalogue (unknown columns get none)."""
    try:
        from bantay.features.catalog import FEATURES
    except ImportError:
        FEATURES = ()
    known = {spec.name: FeatureInfo(spec.definition, spec.unit, spec.window_days) for spec in FEATURES}
    return {column: known[column] for column in columns if column in known}


def contributions(
    booster: xgb.Booster, frame: pd.DataFrame, columns: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, contributions without the bias column) for the feature columns of `frame`."""
    matrix = xgb.DMatrix(frame[list(columns)].astype("float64"), feature_names=list(columns))
    scores = booster.predict(matrix)
    contribs = booster.predict(matrix, pred_contribs=True)[:, : len(columns)]
    return scores.astype("float64"), contribs.astype("float64")


def top_reasons(
    contribs: np.ndarray,
    frame: pd.DataFrame,
    columns: Sequence[str],
    info: Mapping[str, FeatureInfo],
    k: int = TOP_REASONS,
) -> list[list[dict[str, Any]]]:
    """Per row, up to `k` reasons (code, text, contribution, value), largest positive contribution first.

    A row without any positive contribution still gets its single largest one, so that no alert is ever
    left without an explanation. Two features worded by the same code appear once.
    """
    records = frame[list(columns)].to_dict("records")
    order = np.argsort(-contribs, axis=1, kind="stable")
    out: list[list[dict[str, Any]]] = []
    for row, values in enumerate(records):
        picked: list[dict[str, Any]] = []
        seen: set[str] = set()
        for index in order[row]:
            contribution = float(contribs[row, index])
            if len(picked) >= k or (contribution <= 0 and picked):
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
            value = values.get(feature)
            picked.append({
                "code": code,
                "text": text,
                "contribution": contribution,
                "value": None if value is None or pd.isna(value) else float(value),
            })
        out.append(picked)
    return out
