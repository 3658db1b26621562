"""One case of a day's drafts, as the draft job or a worker process (`bantay.pool`) makes it: its draft built,
its files rendered, and the failure of either kept as the case's FailedCase so that the day's other cases go
on. What every case of the day reads comes in one value (`DayInputs`, `Rendering`), sent with each chunk of
cases."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from bantay.sar import build, case
from bantay.sar.text import display

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class FailedCase:
    """A case whose draft could not be built or rendered: its id, its score (for the index) and the reason."""

    case_id: str
    score: float | None
    reason: str
    error_type: str = ""

    @classmethod
    def of(cls, case_id: str, score: Any, error: Exception) -> FailedCase:
        # Private files only (the case folder and the day's index): the message may quote a value.
        reason = display(f"{type(error).__name__}: {error}", 500)
        return cls(case_id, None if score is None else float(score), reason, type(error).__name__)

    def log(self) -> None:
        """One line in the job's log: the case id and the error type (never the message: it may quote a
        value)."""
        logger.error("draft of case %s failed (%s); the other cases go on", self.case_id, self.error_type)


def isolated(case_id: str, score: Any, make: Callable[[], T]) -> T | FailedCase:
    """`make()`, or the FailedCase of the exception it raised: one case never stops the day's others."""
    try:
        return make()
    except Exception as error:  # any fault of one case, a bug included: the case records it, the day goes on
        return FailedCase.of(case_id, score, error)


@dataclass(frozen=True)
class DayInputs:
    """What every draft of the day reads (sent with each task of a worker)."""

    as_of: date
    generated_at: datetime
    clusters: pd.DataFrame
    cluster_payers: pd.DataFrame
    case_ids: dict[str, str]
    institution: dict[str, Any]
    reporting_currency: str
    catalogue: dict[str, build.FeatureInfo]
    goaml: dict[str, Any]
    index: build.ClusterIndex | None
    prepared: bool


def build_one(
    day: DayInputs, case_inputs: tuple[dict[str, Any], Any, pd.DataFrame, dict[str, Any] | None]
) -> dict[str, Any] | FailedCase:
    """One alert's draft (`build.build_draft`), or its FailedCase."""
    score, customer, rows, decision = case_inputs
    return isolated(
        day.case_ids[str(score["customer_id"])],
        score.get("score"),
        partial(
            build.build_draft,
            as_of=day.as_of,
            generated_at=day.generated_at,
            score=score,
            customer=customer,
            transactions=rows,
            clusters=day.clusters,
            cluster_payers=day.cluster_payers,
            case_ids=day.case_ids,
            institution=day.institution,
            reporting_currency=day.reporting_currency,
            catalogue=day.catalogue,
            goaml=day.goaml,
            decision=decision,
            index=day.index,
            prepared=day.prepared,
        ),
    )


@dataclass(frozen=True)
class Rendering:
    """What rendering any draft of the day reads (sent with each task of a worker)."""

    goaml: dict[str, Any]
    goaml_xsd: Path | None
    pdf: bool


RENDER_NOTES = ("forms_omitted", "truncations")  # what `case.render_forms` records in the draft


def render_one(
    rendering: Rendering, draft: dict[str, Any]
) -> tuple[dict[str, bytes], dict[str, Any]] | FailedCase:
    """The case's files by name and what rendering recorded in the draft (`RENDER_NOTES`: the forms' clips
    and omissions; the caller puts them in its own draft, which a worker only has a copy of), or its
    FailedCase."""

    def render() -> tuple[dict[str, bytes], dict[str, Any]]:
        forms = case.render_forms(draft, rendering.goaml, rendering.goaml_xsd, pdf=rendering.pdf)
        return forms, {key: draft[key] for key in RENDER_NOTES}

    return isolated(draft["case_id"], draft["model"]["score"], render)
