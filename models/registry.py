"""The MLflow registry: experiment, aliases, loading a booster, and the promotion gate.

Every training run registers a new version of `settings.model_name` with alias `challenger`; scoring loads
`models:/<name>@champion`. The gate (`promote`) re-scores the challenger and the champion on the
challenger's evaluation set (logged by training as `evaluation/eval_set.parquet`: feature columns, label,
label typology and decision date, no customer ids) and moves `champion` only when the challenger's PR-AUC
beats the champion's by `promotion_margin`; with no champion yet it must beat the rules baseline by the same
margin.

Each version is judged by its *holdout model* (`holdout/model.ubj`: fitted before the version's own
evaluation cut, tag `eval_from`), never by the registered refit, which has seen every label before its as-of
date. Rows of the challenger's evaluation set decided before the champion's own `eval_from` were in the
champion's holdout fit, so they are left out of the comparison (and counted in the decision). Versions
logged before holdout models existed are judged by their registered model. The decision
is returned as a dict and recorded on the version (tag `promotion_decision`, and its description). A promoted
version gets its model card (`bantay.models.card.write`), whose folder the decision names (`model_card`).

When the evaluation set records each label's origin, the decision also reports both PR-AUCs on the rows not
from alerts (the ledger's labels, below-the-line samples, the unlabelled sample): alerted cases' labels were
chosen by the champion of their day, which favours it. Reported, not deciding, and not free of bias either:
below-the-line samples are drawn just under the champion's line (where its scores are flat), and the ledger's
labels favour whatever system chose the bank's earlier cases (rules, at the first gate).

Only a model, version or alias that does not exist counts as missing (no champion yet); a store that cannot
be reached or read raises `RegistryError`, so that nothing trains and promotes because a database was down.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from sklearn.metrics import average_precision_score
from sqlalchemy.exc import SQLAlchemyError

from bantay.cases import labels as case_labels
from bantay.errors import MissingArtefactError, ModelError, RegistryError, TooFewLabelsError
from bantay.io import files
from bantay.models import baseline, ranks
from bantay.settings import Settings

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
EVAL_ARTIFACT_DIR = "evaluation"
EVAL_ARTIFACT = f"{EVAL_ARTIFACT_DIR}/eval_set.parquet"
# Evaluation rows whose label did not come from an alerted case: the ledger's labels, below-the-line
# samples, the unlabelled sample.
UNCHOSEN_ORIGINS = (*case_labels.UNCHOSEN, case_labels.UNLABELLED_SAMPLE)
HOLDOUT_ARTIFACT_DIR = "holdout"
HOLDOUT_ARTIFACT = f"{HOLDOUT_ARTIFACT_DIR}/model.ubj"
# What the model card and monitoring read back (`bantay.models.validation` makes them; no customer id).
PREDICTIONS_ARTIFACT = f"{EVAL_ARTIFACT_DIR}/holdout_predictions.parquet"
SEGMENTS_ARTIFACT = f"{EVAL_ARTIFACT_DIR}/segments.parquet"
LINEAGE_ARTIFACT = "lineage/labels.parquet"
REFERENCE_ARTIFACT = "monitoring/reference.json"
CARD_ARTIFACT_DIR = "model_card"
LABEL = "label"
# MLflow error codes of a model, version or alias that does not exist (any store: SQL or REST).
NOT_FOUND = frozenset({"RESOURCE_DOES_NOT_EXIST"})
# A version number given by hand may also be malformed ("models:/bantay-ocse/x"): no such version either.
NO_SUCH_VERSION = NOT_FOUND | {"INVALID_PARAMETER_VALUE"}

_T = TypeVar("_T")


def _unavailable(settings: Settings, error: Exception) -> RegistryError:
    """One line naming the store (password hidden) and what went wrong."""
    uri = re.sub(r"//([^/:@]*):[^/@]*@", r"//\1:***@", settings.tracking_uri)
    code = getattr(error, "error_code", None) or type(error).__name__
    detail = (str(getattr(error, "message", "")) or str(error)).strip().splitlines()
    cause = f": {detail[0][:200]}" if detail else ""
    return RegistryError(
        f"MLflow store {uri}: cannot be read ({code}{cause}); check that it is reachable and readable "
        "(BANTAY_MLFLOW_TRACKING_URI, MLFLOW_TRACKING_URI)"
    )


def _ask(settings: Settings, call: Callable[[], _T], missing: frozenset[str] = NOT_FOUND) -> _T | None:
    """`call()` on the store; None when what it asks for does not exist (an MLflow error code in `missing`);
    RegistryError for any other failure of the store."""
    try:
        return call()
    except MlflowException as error:
        if error.error_code in missing:
            return None
        raise _unavailable(settings, error) from error
    except SQLAlchemyError as error:
        raise _unavailable(settings, error) from error


def client(settings: Settings) -> MlflowClient:
    """An MLflow client on the settings' tracking store (also the registry), set as the global URI."""
    private_store(settings)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    try:
        return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)
    except (MlflowException, SQLAlchemyError) as error:
        raise _unavailable(settings, error) from error


def private_store(settings: Settings) -> None:
    """Make MLflow's local store owner-only: OUT/mlflow 0700 with everything in it (database, artifacts).

    The store holds labels, typologies, age and sex. MLflow creates files by the umask, so the SQLite file is
    created 0600 before MLflow first opens it (SQLite gives its journal the database's mode), and the tree is
    made private again after each training run has logged its artifacts.
    """
    folder = settings.output_root / "mlflow"
    database = Path(settings.tracking_uri.removeprefix("sqlite:///"))
    if settings.tracking_uri.startswith("sqlite:///") and database.parent == folder.resolve():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    files.make_private(folder)


def ensure_experiment(settings: Settings, name: str | None = None) -> str:
    """The experiment id of `name` (default `settings.mlflow_experiment`), created with artifacts under
    `artifact_root`."""
    mlflow_client = client(settings)
    name = name or settings.mlflow_experiment
    try:
        experiment = mlflow_client.get_experiment_by_name(name)
    except (MlflowException, SQLAlchemyError) as error:
        raise _unavailable(settings, error) from error
    if experiment is not None:
        return str(experiment.experiment_id)
    settings.artifact_root.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_store(settings)
    location = settings.artifact_root.as_uri()
    return str(mlflow_client.create_experiment(name, artifact_location=location))


def _version_by_alias(
    settings: Settings, mlflow_client: MlflowClient, name: str, alias: str
) -> ModelVersion | None:
    """The version of model `name` holding `alias`; None when the model or the alias does not exist."""
    model = _ask(settings, lambda: mlflow_client.get_registered_model(name))
    if model is None or alias not in model.aliases:
        return None
    number = str(model.aliases[alias])
    return _ask(settings, lambda: mlflow_client.get_model_version(name, number))


def alias_version(settings: Settings, alias: str) -> ModelVersion | None:
    """The model version holding `alias`, or None when the registered model or the alias does not exist.

    Any other failure of the store (unreachable, unreadable) raises `RegistryError`.
    """
    return _version_by_alias(settings, client(settings), settings.model_name, alias)


def model_version(settings: Settings, name: str, number: str) -> ModelVersion | None:
    """Version `number` of registered model `name`; None when the registry has no such version
    (RegistryError when the store cannot be read)."""
    return _ask(settings, lambda: client(settings).get_model_version(name, number))


def has_champion(settings: Settings) -> bool:
    """Whether a version of the model holds alias `champion`."""
    return alias_version(settings, CHAMPION) is not None


def _as_booster(model: Any) -> xgb.Booster:
    return model if isinstance(model, xgb.Booster) else model.get_booster()


def load_booster(settings: Settings, model_uri: str | None = None) -> tuple[xgb.Booster, str]:
    """(booster, version label) for `model_uri`, default `models:/<name>@champion`.

    The label is `<name>/<version>` for a registry URI, else the URI itself.
    """
    mlflow_client = client(settings)
    uri = model_uri or f"models:/{settings.model_name}@{CHAMPION}"
    label = uri
    if uri.startswith("models:/"):
        name, _, ref = uri.removeprefix("models:/").partition("@")
        if ref:
            found = _version_by_alias(settings, mlflow_client, name, ref)
        else:
            name, _, number = name.partition("/")
            found = _ask(settings, lambda: mlflow_client.get_model_version(name, number), NO_SUCH_VERSION)
        if found is None:
            hint = "check --model"
            if ref == CHAMPION:
                hint = "run `bantay train --promote` (or `bantay promote`) first"
            raise MissingArtefactError(f"{uri}: no such registered model version; {hint}")
        label = f"{name}/{found.version}"
    try:
        booster = _as_booster(mlflow.xgboost.load_model(uri))
    except (MlflowException, OSError) as error:
        raise ModelError(f"{uri}: cannot load the model ({type(error).__name__})") from None
    if not booster.feature_names:
        raise ModelError(f"{uri}: the model has no feature names; retrain with `bantay train`")
    return booster, label


def holdout_booster(settings: Settings, version: ModelVersion) -> xgb.Booster:
    """The version's holdout model (fitted before its evaluation cut); its registered model if it has none.

    Only a run logged before holdout models existed lacks the artifact; a store that fails to hand over an
    artifact it lists is an error, not a reason to judge the refit (which has seen the evaluation rows).
    """
    run_id = _run_of(version)
    listed = {a.path for a in client(settings).list_artifacts(run_id, HOLDOUT_ARTIFACT_DIR)}
    if HOLDOUT_ARTIFACT not in listed:
        return load_booster(settings, f"models:/{version.name}/{version.version}")[0]
    with tempfile.TemporaryDirectory() as folder:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=HOLDOUT_ARTIFACT, dst_path=folder,
                tracking_uri=settings.tracking_uri,
            )
        except (MlflowException, OSError) as error:
            raise ModelError(
                f"version {version.version}: cannot read its holdout model ({type(error).__name__})"
            ) from None
        booster = xgb.Booster()
        booster.load_model(local)
        return booster


def _run_of(version: ModelVersion) -> str:
    """The MLflow run that logged a version; a version registered from outside a run cannot be judged."""
    if not version.run_id:
        raise ModelError(
            f"model version {version.version} has no MLflow run; register versions with `bantay train`"
        )
    return str(version.run_id)


def evaluation_set(settings: Settings, run_id: str) -> pd.DataFrame:
    """The evaluation set a training run logged (feature columns, label, typology)."""
    return run_parquet(settings, run_id, EVAL_ARTIFACT)


def run_parquet(settings: Settings, run_id: str, artifact: str) -> pd.DataFrame:
    """A Parquet artifact of a training run; ModelError naming it when the run has none."""
    with tempfile.TemporaryDirectory() as folder:
        return pd.read_parquet(Path(_download(settings, run_id, artifact, folder)))


def run_json(settings: Settings, run_id: str, artifact: str) -> Any:
    """A JSON artifact of a training run; ModelError naming it when the run has none."""
    with tempfile.TemporaryDirectory() as folder:
        return json.loads(Path(_download(settings, run_id, artifact, folder)).read_text(encoding="utf-8"))


def _download(settings: Settings, run_id: str, artifact: str, folder: str) -> str:
    try:
        return str(mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=artifact, dst_path=folder, tracking_uri=settings.tracking_uri,
        ))
    except (MlflowException, OSError):
        raise ModelError(f"run {run_id}: no {artifact} artifact; retrain with `bantay train`") from None


def _seen_by(champion: ModelVersion | None, evaluation: pd.DataFrame) -> pd.Series:
    """Rows of `evaluation` decided before the champion's evaluation cut (its holdout model saw them)."""
    cut = (champion.tags or {}).get("eval_from") if champion is not None else None
    if cut is None or "as_of" not in evaluation.columns:
        return pd.Series(False, index=evaluation.index)
    decided = pd.to_datetime(evaluation["as_of"]).dt.date
    return decided < date.fromisoformat(cut)


def pr_auc(labels: Sequence[int] | np.ndarray, scores: np.ndarray) -> float:
    """Average precision (the area under the precision-recall curve)."""
    return float(average_precision_score(np.asarray(labels), scores))


def booster_scores(booster: xgb.Booster, frame: pd.DataFrame) -> np.ndarray:
    """Scores of `frame` with the booster's own feature columns, in its own terms (amounts ranked in the book
    or raw: `ranks.model_input`); ModelError when `frame` lacks some."""
    frame = ranks.model_input(booster, frame)
    columns = list(booster.feature_names or [])
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ModelError(f"the evaluation set lacks {len(missing)} model column(s): {', '.join(missing[:5])}")
    matrix = xgb.DMatrix(frame[columns].astype("float64"), feature_names=columns)
    return booster.predict(matrix).astype("float64")


def _unchosen_comparison(
    evaluation: pd.DataFrame, labels: np.ndarray, challenger: np.ndarray, baseline_scores: np.ndarray | None
) -> dict[str, Any]:
    """The gate's PR-AUCs again on the evaluation rows not from alerts (`UNCHOSEN_ORIGINS`: the ledger's own
    labels, below-the-line samples, the unlabelled sample), reported beside the decision, which stays on
    every row: the labels of alerted cases were chosen by the champion of their day, which favours the
    champion. Empty for an evaluation set logged without origins; the PR-AUCs are null without both classes
    (or without baseline scores)."""
    if "origin" not in evaluation.columns:
        return {}
    unchosen = evaluation["origin"].isin(UNCHOSEN_ORIGINS).to_numpy()
    positives = int(labels[unchosen].sum())
    both = 0 < positives < int(unchosen.sum())
    return {
        "unchosen_rows": int(unchosen.sum()),
        "unchosen_positives": positives,
        "challenger_pr_auc_unchosen": pr_auc(labels[unchosen], challenger[unchosen]) if both else None,
        "baseline_pr_auc_unchosen": (
            pr_auc(labels[unchosen], baseline_scores[unchosen])
            if both and baseline_scores is not None else None),
    }


def _unchosen_reason(decision: dict[str, Any]) -> str:
    """The reason's sentence on the rows not from alerts, when both PR-AUCs could be computed."""
    challenger, other = decision.get("challenger_pr_auc_unchosen"), decision.get("baseline_pr_auc_unchosen")
    if challenger is None or other is None:
        return ""
    return (f"; on the {decision['unchosen_rows']} rows not from alerts ({decision['unchosen_positives']} "
            f"confirmed; reported, not deciding): {challenger:.4f} against {other:.4f}")


def promote(settings: Settings, version: str | None = None, force: bool = False) -> dict[str, Any]:
    """Run the promotion gate for `version` (default: the challenger); return and record the decision."""
    mlflow_client = client(settings)
    name = settings.model_name
    if version is None:
        challenger = alias_version(settings, CHALLENGER)
        if challenger is None:
            raise ModelError(f"model {name}: no version with alias {CHALLENGER}; run `bantay train` first")
        version = str(challenger.version)
    number = str(version)
    candidate = _ask(settings, lambda: mlflow_client.get_model_version(name, number), NO_SUCH_VERSION)
    if candidate is None:
        raise ModelError(f"model {name}: no version {version}")
    champion = alias_version(settings, CHAMPION)
    decision: dict[str, Any] = {
        "model": name,
        "version": str(candidate.version),
        "champion_before": str(champion.version) if champion else None,
        "margin": settings.promotion_margin,
        "forced": force,
        "decided_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if champion is not None and str(champion.version) == str(candidate.version):
        decision |= {"promoted": False, "reason": f"version {candidate.version} is already the champion"}
        return decision

    evaluation = evaluation_set(settings, _run_of(candidate))
    seen = _seen_by(champion, evaluation)
    decision["eval_rows_seen_by_champion"] = int(seen.sum())
    evaluation = evaluation[~seen].reset_index(drop=True)
    labels = evaluation[LABEL].to_numpy(dtype="int64")
    if len(set(labels.tolist())) < 2:
        raise TooFewLabelsError(
            f"version {candidate.version}: its evaluation set has no confirmed and cleared decisions the "
            "champion has not seen; train again when newer labels are in"
        )
    decision["eval_rows"] = len(evaluation)
    challenger_scores = booster_scores(holdout_booster(settings, candidate), evaluation)
    decision["challenger_pr_auc"] = pr_auc(labels, challenger_scores)
    if champion is not None:
        decision["baseline"] = f"champion version {champion.version}"
        try:
            champion_scores = booster_scores(holdout_booster(settings, champion), evaluation)
        except ModelError as error:  # e.g. a rollback to a version logged before book ranks existed
            if not force:
                raise ModelError(f"{error}; the champion cannot be scored on version {candidate.version}'s "
                                 "evaluation set (`--force` promotes without the comparison)") from None
            champion_scores = None
        decision["baseline_pr_auc"] = (
            pr_auc(labels, champion_scores) if champion_scores is not None else float("nan"))
        baseline_scores = champion_scores
    else:
        decision["baseline"] = "rules"
        baseline_scores = baseline.score(ranks.raw(evaluation))
        decision["baseline_pr_auc"] = pr_auc(labels, baseline_scores)
    decision |= _unchosen_comparison(evaluation, labels, challenger_scores, baseline_scores)
    gain = decision["challenger_pr_auc"] - decision["baseline_pr_auc"]
    better = gain >= settings.promotion_margin
    decision["promoted"] = bool(better or force)
    verdict = "beats" if better else "does not beat"
    decision["reason"] = (
        f"PR-AUC {decision['challenger_pr_auc']:.4f} {verdict} {decision['baseline']} "
        f"({decision['baseline_pr_auc']:.4f}) by the margin {settings.promotion_margin:.4f} "
        f"on the challenger's evaluation set ({decision['eval_rows']} rows), holdout models"
        + ("; promoted by force" if force and not better else "")
        + _unchosen_reason(decision)
    )
    if decision["promoted"]:
        mlflow_client.set_registered_model_alias(name, CHAMPION, str(candidate.version))
    number = str(candidate.version)
    mlflow_client.set_model_version_tag(name, number, "promotion_decision", json.dumps(decision))
    mlflow_client.set_model_version_tag(name, number, "promoted", str(decision["promoted"]).lower())
    mlflow_client.update_model_version(name, number, description=decision["reason"])
    logger.info("promotion gate for %s version %s: %s", name, candidate.version, decision["reason"])
    if decision["promoted"]:
        from bantay.models import card  # the card reads this module: imported when a version is promoted

        decision["model_card"] = card.write(settings, number, decision)["folder"]
    return decision
