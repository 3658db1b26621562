"""What MLflow keeps of a training run, and its provenance. No customer id ever reaches MLflow.

A run holds: tags `as_of`, `ledger_fingerprint`, `code_version`, `feature_list_hash`, `training_engine`;
the recipe and the row counts as params; the metrics (model, rules baseline, labels-only variant); plots of
the holdout model on the evaluation set; the training and evaluation inputs (feature columns and label
only); the evaluation set as `evaluation/eval_set.parquet` (feature columns, label, typology, decision
date, the label's origin when training knows it; for a book-relative model the amount columns hold ranks
and `book_raw__<column>` the amounts, so that the gate scores every version in its own terms); the holdout
booster as `holdout/model.ubj`; for the model card, the holdout predictions
(`evaluation/holdout_predictions.parquet`: scores, label, typology, decision date, segment columns), the
segment table and the label counts by decision month (`lineage/labels.parquet`); for daily monitoring, the
reference bins of the score and of every feature (`monitoring/reference.json`: deciles over the book as of
the training date, scored by the registered refit); and the refit as the registered model (signature, an
input example of feature columns: the amount columns as ranks when book-relative, which the model's metadata
and the version's tag `book_relative_columns` say), whose new version gets alias `challenger`.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow.data.pandas_dataset import from_pandas
from mlflow.models import infer_signature

import bantay
from bantay import ledger
from bantay.io import catalogue as output_catalogue
from bantay.io import files
from bantay.models import evaluate, explain, plots, ranks, registry, validation
from bantay.models.fit import Fitted, predict
from bantay.models.recipe import RECIPE, Recipe
from bantay.settings import Settings

if TYPE_CHECKING:
    from bantay.models.training_set import Book


def ledger_fingerprint(output_root: Path, as_of: date) -> str:
    """sha256 of the validated files' relative names and sizes (transactions partitions before `as_of`)."""
    root = output_catalogue.dataset("validated_transactions").folder(output_root)
    digest = hashlib.sha256()
    cut = f"{ledger.PARTITION_COLUMN}={as_of.isoformat()}"
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or files.is_hidden(relative):
            continue
        partition = next((p for p in relative.parts if p.startswith(f"{ledger.PARTITION_COLUMN}=")), None)
        if partition is not None and partition >= cut:
            continue
        digest.update(f"{relative.as_posix()}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()


def code_version() -> str:
    """Package version plus a short hash of the model code."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return f"{bantay.__version__}+{digest.hexdigest()[:12]}"


def feature_list_hash(columns: Sequence[str], monotone: Sequence[int]) -> str:
    """sha256 of the model's feature columns in order, each with its monotone constraint."""
    listed = ",".join(f"{c}:{m}" for c, m in zip(columns, monotone, strict=True))
    return hashlib.sha256(listed.encode()).hexdigest()



def log_run(
    settings: Settings,
    as_of: date,
    fitted: Fitted,
    specs: Sequence[Any],
    counts: dict[str, Any],
    metrics: dict[str, float],
    model_scores: np.ndarray,
    rules_scores: np.ndarray,
    recipe: Recipe = RECIPE,
    predictions: pd.DataFrame | None = None,
    book: Book | None = None,
) -> dict[str, str]:
    """Log the run, register the refit and give it alias `challenger`; return its run id, version and URI.

    `fitted.booster` is the holdout model (metrics, plots, the gate), `fitted.production` the refit that is
    registered. No customer id ever leaves this function.
    """
    columns = [spec.name for spec in specs]
    monotone = [int(spec.monotone) for spec in specs]
    frame, evaluation = fitted.frame, fitted.evaluation
    booster, production, params = fitted.booster, fitted.production, fitted.params
    experiment_id = registry.ensure_experiment(settings)
    mlflow_client = registry.client(settings)
    inputs = frame[columns].astype("float64")
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{as_of.isoformat()}") as active:
        mlflow.set_tags({
            "as_of": as_of.isoformat(),
            "ledger_fingerprint": ledger_fingerprint(settings.output_root, as_of),
            "code_version": code_version(),
            "feature_list_hash": feature_list_hash(columns, monotone),
            "training_engine": fitted.engine,
        })
        mlflow.log_params({
            **{k: v for k, v in params.items() if k != "monotone_constraints"},
            "monotone_features": sum(1 for m in monotone if m),
            "features": len(columns),
            "eval_share": recipe.eval_share,
            "stop_share": recipe.stop_share,
            "unlabelled_ratio": recipe.unlabelled_ratio,
            "unlabelled_min": recipe.unlabelled_min,
            "refit_rounds": int(params["best_iteration"]) + 1,
            "unlabelled_weight": recipe.unlabelled_weight,
            "cleared_weight": recipe.cleared_weight,
            "lead_days": " ".join(str(n) for n in recipe.lead_days),
            "lead_weight": recipe.lead_weight,
            "lead_min_p2p": recipe.lead_min_p2p,
            "alert_budget": settings.alert_budget,
            "min_alert_score": settings.min_alert_score,
            "book_relative": recipe.book_relative,
            "book_relative_columns": len(ranks.columns_of(production)),
            **counts,
        })
        mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
        log_plots(evaluation, columns, booster, model_scores, rules_scores)
        for context, part in (("training", frame), ("evaluation", evaluation)):
            logged = part[[*columns, "label"]].astype("float64").reset_index(drop=True)
            dataset = from_pandas(logged, targets="label", name=f"bantay-{context}")
            mlflow.log_input(dataset, context=context)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(registry.EVAL_ARTIFACT).name
            # With the raw amounts beside a book-relative model's ranks (the gate scores each version in its
            # own terms: `ranks.model_input`).
            kept = [c for c in evaluation.columns if c.startswith(ranks.RAW_PREFIX)]
            kept += [c for c in ("origin",) if c in evaluation.columns]  # the label's origin (the gate's)
            evaluation[[*columns, *kept, "label", "typology", "as_of"]].to_parquet(path, index=False)
            mlflow.log_artifact(str(path), artifact_path=registry.EVAL_ARTIFACT_DIR)
            holdout = Path(folder) / Path(registry.HOLDOUT_ARTIFACT).name
            booster.save_model(str(holdout))
            mlflow.log_artifact(str(holdout), artifact_path=registry.HOLDOUT_ARTIFACT_DIR)
        if predictions is None:
            predictions = validation.holdout_predictions(evaluation, model_scores, rules_scores)
        segments = validation.segment_table(predictions, settings.alert_budget, settings.min_alert_score)
        log_frame(predictions, registry.PREDICTIONS_ARTIFACT)
        log_frame(segments, registry.SEGMENTS_ARTIFACT)
        log_frame(validation.label_lineage(frame), registry.LINEAGE_ARTIFACT)
        mlflow.log_dict(monitoring_reference(frame, columns, production, book), registry.REFERENCE_ARTIFACT)
        info = mlflow.xgboost.log_model(
            production,
            name="model",
            signature=infer_signature(inputs, predict(production, frame.head(200), columns)),
            input_example=inputs.head(3),
            registered_model_name=settings.model_name,
            pip_requirements=[f"xgboost=={xgb.__version__}"],
            model_format="ubj",
            # The signature's amount columns are ranks in the book, not amounts: said where a server looks.
            metadata={"book_relative_columns": ranks.columns_of(production)},
        )
        run_id = active.info.run_id
    registry.private_store(settings)
    version = str(info.registered_model_version)
    mlflow_client.set_registered_model_alias(settings.model_name, registry.CHALLENGER, version)
    mlflow_client.set_model_version_tag(settings.model_name, version, "as_of", as_of.isoformat())
    mlflow_client.set_model_version_tag(settings.model_name, version, "pr_auc", f"{metrics['pr_auc']:.4f}")
    mlflow_client.set_model_version_tag(settings.model_name, version, "eval_from", counts["eval_from"])
    mlflow_client.set_model_version_tag(settings.model_name, version, "book_relative_columns",
                                        ",".join(ranks.columns_of(production)))
    return {"run_id": run_id, "version": version, "model_uri": f"models:/{settings.model_name}/{version}"}


def log_frame(frame: pd.DataFrame, artifact: str) -> None:
    """Log `frame` as the Parquet artifact `artifact` (a path inside the active run)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(artifact).name
        frame.to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=str(Path(artifact).parent))


def monitoring_reference(
    frame: pd.DataFrame, columns: Sequence[str], production: xgb.Booster, book: Book | None = None
) -> dict[str, Any]:
    """Reference bins of the refit's score and of every feature: what daily monitoring compares each day's
    population with.

    Over `book`, the customers as scoring on the training date sees them (`training_set.book_features`), so
    that a day like the training date shows no drift. Without it, over the unlabelled sample of the training
    table (all rows when it has none): those customers are each as of a past decision date, so features that
    grow with the ledger's length (active days in 365) sit lower than on any later day.
    """
    if book is not None and len(book.frame):
        reference = book.frame
        population = f"book as of the training date ({book.source})"
        # Scored as scoring sees that day: amounts ranked among that book's customers paying abroad.
        inputs = ranks.as_scored(production, reference)
    else:
        inputs = frame[frame["typology"] == evaluate.UNLABELLED]
        population = "unlabelled sample" if 0 < len(inputs) < len(frame) else "all training rows"
        if inputs.empty:
            inputs = frame
        reference = ranks.raw(inputs)  # the monitoring compares raw features
    scores = predict(production, inputs, columns)
    return {
        "population": population,
        "rows": len(reference),
        "bins": validation.REFERENCE_BINS,
        "score": validation.reference_bins(scores),
        "features": {column: validation.reference_bins(reference[column]) for column in columns},
    }


def log_plots(
    evaluation: pd.DataFrame,
    columns: list[str],
    booster: xgb.Booster,
    model_scores: np.ndarray,
    rules_scores: np.ndarray,
) -> None:
    """Plots of the holdout model on `evaluation` (PR curves against the rules, score distribution, SHAP
    summary, importance, reliability, contributions by typology) and the contributions table."""
    import matplotlib.pyplot as plt

    labels = evaluation["label"].to_numpy(dtype="int64")
    groups = np.where(labels == 1, "confirmed",
                      np.where(evaluation["typology"] == evaluate.UNLABELLED, "unlabelled sample", "cleared"))
    matrix = xgb.DMatrix(evaluation[columns].astype("float64"), feature_names=columns)
    contribs = booster.predict(matrix, pred_contribs=True)[:, : len(columns)]
    gains = booster.get_score(importance_type="total_gain")
    figures = {
        "pr_curve": plots.pr_curves(labels, {"model": model_scores, "rules": rules_scores}),
        "score_distribution": plots.score_distribution(model_scores, groups),
        "shap_summary": plots.shap_summary(contribs, evaluation[columns].to_numpy(dtype="float64"), columns),
        "feature_importance": plots.importance({c: float(np.sum(gains.get(c, 0.0))) for c in columns}),
        "reliability": plots.reliability(labels, model_scores),
    }
    # Per typology of the labels (and the unlabelled sample): what lifts each, e.g. a cleared look-alike.
    typologies = evaluation["typology"].astype(str).tolist()
    by_typology = explain.contributions_by_group(contribs, typologies, columns)
    figures["contributions_by_typology"] = plots.contributions_heatmap(by_typology)
    mlflow.log_table(by_typology.reset_index().rename(columns={"group": "typology"}),
                     f"{registry.EVAL_ARTIFACT_DIR}/contributions_by_typology.json")
    for name, figure in figures.items():
        mlflow.log_figure(figure, f"plots/{name}.png")
        plt.close(figure)


def log_backtest(
    settings: Settings,
    params: dict[str, Any],
    figures: dict[str, Any],
    weeks: pd.DataFrame,
    artifacts: Sequence[Path],
) -> str:
    """Log a backtest as one MLflow run of `settings.mlflow_experiment`: its settings as params, its
    headline figures as metrics (None left out), recall and precision by week as steps, and the files
    `artifacts` (the report page, charts, weekly and daily tables: aggregates only, never customer ids)."""
    experiment = registry.ensure_experiment(settings)
    name = f"backtest {params['from']}..{params['to']}"
    with mlflow.start_run(experiment_id=experiment, run_name=name) as run:
        mlflow.set_tags({"kind": "backtest", "code_version": code_version()})
        mlflow.log_params({k: str(v) for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in figures.items() if isinstance(v, int | float)})
        for row in weeks.itertuples(index=False):
            for name in ("recall", "precision"):
                value = getattr(row, name)
                if np.isfinite(value):
                    mlflow.log_metric(f"weekly_{name}", float(value), step=int(row.week))
        for path in artifacts:
            mlflow.log_artifact(str(path), artifact_path="backtest")
        run_id = str(run.info.run_id)
    registry.private_store(settings)
    return run_id
