"""`bantay run`: validate, features, (train if there is no champion yet), score, monitor, draft for one as-of
date. Monitoring runs when the day is scored by a registered version (the champion); its status is reported,
not enforced (the daily DAG's check task does that)."""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import Any

from bantay.settings import Settings

logger = logging.getLogger(__name__)


def run(settings: Settings, as_of: date, model_uri: str | None = None, pdf: bool = False) -> dict[str, Any]:
    """Run every daily step in order and return where each wrote; stops at the first failing step."""
    from bantay.jobs import build_features, draft_cases, monitor_model, score_customers, validate_ledger
    from bantay.models import registry, train

    steps: dict[str, Any] = {}
    started = time.monotonic()
    steps["validate"] = validate_ledger.run(settings, as_of)
    steps["features"] = str(build_features.run(settings, as_of))
    if model_uri is None and not registry.has_champion(settings):
        logger.info("no champion model registered: training one as of %s", as_of)
        steps["train"] = train.run(settings, as_of, promote=True)
    steps["score"] = str(score_customers.run(settings, as_of, model_uri=model_uri))
    if model_uri is None:
        summary = monitor_model.run(settings, as_of)
        steps["monitor"] = {k: summary[k] for k in ("status", "reason", "report")}
    steps["draft"] = str(draft_cases.run(settings, as_of, pdf=pdf))
    steps["seconds"] = round(time.monotonic() - started, 1)
    return steps
