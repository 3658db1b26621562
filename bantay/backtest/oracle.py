"""The oracle of a backtest: each customer's true outcome, and the investigators' decision drawn from it.

The oracle file (Parquet or CSV) has `customer_id, label, typology` (label 1 = the customer is a payer,
typology in the labels' words, e.g. `ocse_payer`, `online_buyer`, `dating`, `cleared`) and optionally
`first_suspicious_at` (UTC timestamp of the payer's first suspicious payment; `bantay generate --truth`
writes TRUTH/oracle.parquet with it). A bank would build one from its historic case outcomes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from bantay.cases.models import CLEARED, CONFIRMED, INCONCLUSIVE
from bantay.errors import ConfigError

COLUMNS = ("customer_id", "label", "typology")
FIRST = "first_suspicious_at"


def read(path: Path) -> pd.DataFrame:
    """The oracle as `customer_id, label, typology, first_suspicious_at` (the last all NaT when absent)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"{path}: no oracle file (customer_id, label, typology); see `bantay generate --truth`"
        )
    frame = pd.read_csv(path, dtype={"customer_id": str}) if path.suffix == ".csv" else pd.read_parquet(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path}: the oracle lacks column(s) {', '.join(missing)}")
    if frame["customer_id"].duplicated().any():
        raise ConfigError(f"{path}: {int(frame['customer_id'].duplicated().sum())} repeated customer ids")
    labels = pd.to_numeric(frame["label"], errors="coerce")
    if not labels.isin([0, 1]).all():
        raise ConfigError(f"{path}: {int((~labels.isin([0, 1])).sum())} labels that are not 0 or 1")
    first = (
        pd.to_datetime(frame[FIRST], utc=True) if FIRST in frame.columns
        else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    )
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype(str),
            "label": labels.astype("int64"),
            "typology": frame["typology"].fillna("cleared").astype(str),
            FIRST: first,
        }
    ).reset_index(drop=True)


def outcome_of(label: int, typology: str) -> str:
    """The case outcome for a true label: confirmed, or cleared as the named look-alike (else as other)."""
    if label == 1:
        return CONFIRMED
    cleared = f"cleared_{typology}"
    return cleared if cleared in CLEARED else "cleared_other"


def decide(truth: tuple[int, str] | None, error_rate: float, seed: int, case_id: str) -> tuple[str, bool]:
    """The investigators' outcome for a case and whether it is wrong. With probability `error_rate` (drawn
    per case from `seed` and the case id, so a rerun decides the same) a payer is cleared and anyone else
    confirmed; a customer the oracle does not know is decided inconclusive (no label)."""
    if truth is None:
        return INCONCLUSIVE, False
    label, typology = truth
    draw = np.random.default_rng([seed, int(hashlib.sha256(case_id.encode()).hexdigest()[:12], 16)]).random()
    if draw < error_rate:
        return ("cleared_other" if label == 1 else CONFIRMED), True
    return outcome_of(label, typology), False
