"""The training recipe: every knob of the training set, the split, the weights and the model, in one place.

`RECIPE` is what `bantay train` uses; tests pass a smaller one (`dataclasses.replace(RECIPE, max_rounds=40)`).
Why each value was chosen, and what was measured against it, is in docs/experiments.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """How a model is trained; every function of training takes one (default `RECIPE`)."""

    # The latest quarter of labelled decisions is held out: every metric and the gate use decisions the
    # holdout model has not seen.
    eval_share: float = 0.25
    # Early stopping watches the tail of the earlier decisions (their last 15%), never the evaluated ones.
    stop_share: float = 0.15
    # Unlabelled customers sampled per labelled one: alerts are the top 1% of the whole book, so the model
    # must see many ordinary customers.
    unlabelled_ratio: int = 10
    # At least this many even when labels are few (6,000 instead of 3x the labels raised recall at 1%).
    unlabelled_min: int = 5_000
    # At most this many (15,000 instead of 5,000 gained nothing); bounds the training table's size.
    unlabelled_max: int = 200_000
    # Unlabelled is not negative: a few of the sample may be undetected payers.
    unlabelled_weight: float = 0.5
    # Investigated and cleared customers are the hard negatives; at weight 1 the sample swamped them.
    cleared_weight: float = 2.0
    # Confirmed customers again every 14 days up to 24 weeks before their decision: the book holds payers
    # long before anyone reports them.
    lead_days: tuple[int, ...] = tuple(range(14, 169, 14))
    # A lead point is less certain than the decision itself (weight 1 ranked worse).
    lead_weight: float = 0.5
    # A lead point counts once the customer had made this many cross-border p2p payments in 90 days (2
    # added points from before the pattern shows).
    lead_min_p2p: int = 3
    # Seed of the unlabelled sample's hash order: the same customers on every run over the same ledger.
    sample_seed: int = 20_240_601
    # At most this many customers of the book form the monitoring reference (deciles of each feature and of
    # the score as of the training date); a seeded sample above it.
    reference_max: int = 50_000
    # Training tables above this many rows are fitted on the cluster (`xgboost.spark`), below on the driver.
    driver_rows_limit: int = 2_000_000
    # Upper bound on boosting rounds; early stopping ends far sooner.
    max_rounds: int = 800
    # Rounds without improvement on the stop part before the holdout model is cut at its best round.
    early_stopping_rounds: int = 40
    # Fewest confirmed labels the fitted part needs, and cleared labels in all (confirmed: twice as many).
    min_positives: int = 2
    # A probability per customer from histogram-based trees; early stopping follows the log loss.
    objective: str = "binary:logistic"
    tree_method: str = "hist"
    eval_metric: str = "logloss"
    # Shallow trees: depths 3-5 differed within the seed spread, depth 6 ranked worse.
    max_depth: int = 4
    # Step size of each round; early stopping picks the number of rounds for it.
    learning_rate: float = 0.08
    # Least weight in a leaf (1-5 differed within the seed spread).
    min_child_weight: float = 2.0
    # Each round grows a bagged forest of 5 trees (80% of the rows, 70% of the columns per split): less
    # variance from few labels than single-tree rounds (10 trees per round gained nothing).
    num_parallel_tree: int = 5
    subsample: float = 0.8
    colsample_bytree: float = 0.9
    colsample_bynode: float = 0.7
    # XGBoost's default L2 penalty on leaf weights.
    reg_lambda: float = 1.0
    # USD amounts enter as their rank among the customers paying abroad (`bantay.models.ranks`): chosen by the
    # worst-world rule on fresh worlds (docs/experiments.md, 2026-12-06, book-relative amounts, the retest).
    book_relative: bool = True
    # Fixed seed: the same data gives the same model.
    seed: int = 0
    # Threads of a driver fit (the Spark path runs one XGBoost worker per task instead).
    nthread: int = 2

    def params(self) -> dict[str, Any]:
        """XGBoost's native parameters of this recipe (no monotone constraints nor class weight)."""
        return {
            "objective": self.objective,
            "tree_method": self.tree_method,
            "eval_metric": self.eval_metric,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "min_child_weight": self.min_child_weight,
            "num_parallel_tree": self.num_parallel_tree,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "colsample_bynode": self.colsample_bynode,
            "reg_lambda": self.reg_lambda,
            "seed": self.seed,
            "nthread": self.nthread,
        }


RECIPE = Recipe()
