"""`bantay run`: validate, features, (train if there is no champion yet), score, monitor, draft for one as-of
date. Monitoring runs when the day is scored by default (the champion, or the rules while there is none); its
status is reported, not enforced (the daily DAG's check task does that).

Cold start: with no champion, a first model is trained and put to the promotion gate. When the labels are too
few to train one (`TooFewLabelsError`), or the gate finds it no better than the documented rules, the day is
scored by the rules (`bantay.models.baseline`); the step's entry says which and why."""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import Any

from bantay.settings import Settings

logger = logging.getLogger(__name__)


def run(settings: Settings, as_of: date, model_uri: str | None = None, pdf: bool = False) -> dict[str, Any]:
    """Run every daily step in order and return where each wrote; stops at the first failing step."""
    from bantay.errors import TooFewLabelsError
    from bantay.jobs import build_features, draft_cases, monitor_model, score_customers, validate_ledger
    from bantay.models import registry, train

    steps: dict[str, Any] = {}
    started = time.monotonic()
    steps["validate"] = validate_ledger.run(settings, as_of)
    steps["features"] = str(build_features.run(settings, as_of))
    if model_uri is None and not registry.has_champion(settings):
        logger.info("no champion model registered: training one as of %s", as_of)
        try:
            steps["train"] = train.run(settings, as_of, promote=True)
        except TooFewLabelsError as error:
            logger.warning("no first model as of %s (%s): the rules score the day", as_of, error)
            steps["train"] = {"trained": False, "reason": str(error)}
    steps["score"] = str(score_customers.run(settings, as_of, model_uri=model_uri))
    if model_uri is None:
        summary = monitor_model.run(settings, as_of)
        steps["monitor"] = {k: summary[k] for k in ("status", "reason", "report")}
    steps["draft"] = str(draft_cases.run(settings, as_of, pdf=pdf))
    steps["seconds"] = round(time.monotonic() - started, 1)
    return steps
