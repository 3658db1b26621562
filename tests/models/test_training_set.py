"""The training set: each customer's latest label before the cut-off, lead points, the unlabelled sample."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from model_worlds import CUTOFF, PAYING_FROM, customer_id, write_validated

from bantay.cases import labels as case_labels
from bantay.models import evaluate, training_set
from bantay.models.recipe import RECIPE


def test_labelled_points_keeps_the_latest_label_decided_before_the_cutoff(spark):
    labels = spark.createDataFrame(
        [
            ("a", 0, datetime(2025, 3, 1, 9), "cleared"),      # superseded by the confirmation below
            ("a", 1, datetime(2025, 4, 2, 15), "ocse_payer"),  # latest before the cut-off: kept, on 04-02
            ("b", 1, datetime(2025, 5, 31, 23, 59), "ocse_payer"),  # the last minute before the cut-off: kept
            ("c", 1, datetime(2025, 6, 1, 0, 0), "ocse_payer"),  # decided at the cut-off: never used
            ("d", 0, datetime(2025, 5, 1), None),                # no typology: "cleared"
        ],
        "customer_id string, label int, decided_at timestamp, typology string",
    )
    rows = sorted(tuple(r) for r in training_set.labelled_points(labels, CUTOFF).collect())
    assert rows == [
        ("a", date(2025, 4, 2), 1, "ocse_payer"),
        ("b", date(2025, 5, 31), 1, "ocse_payer"),
        ("d", date(2025, 5, 1), 0, "cleared"),
    ]


def test_lead_points_repeat_each_confirmed_customer_before_its_decision(spark):
    labelled = spark.createDataFrame(
        [("a", date(2025, 4, 2), 1, "ocse_payer"),   # confirmed: once per lead of the recipe
         ("d", date(2025, 5, 1), 0, "cleared")],     # cleared: never a lead point
        "customer_id string, as_of date, label int, typology string",
    )
    recipe = replace(RECIPE, lead_days=(14, 28))
    rows = sorted(tuple(r) for r in training_set.lead_points(labelled, recipe).collect())
    assert rows == [
        ("a", date(2025, 3, 5), 1, "ocse_payer", date(2025, 4, 2), 28),
        ("a", date(2025, 3, 19), 1, "ocse_payer", date(2025, 4, 2), 14),
    ]
    # A recipe without lead points gives none, with the same columns.
    none = training_set.lead_points(labelled, replace(recipe, lead_days=()))
    assert none.count() == 0 and none.columns == ["customer_id", "as_of", "label", "typology", "decided_on",
                                                  "lead_days"]


def test_unlabelled_points_are_a_seeded_sample_of_customers_without_a_label(spark):
    population = spark.createDataFrame([(f"c{n}",) for n in range(50)] + [("c0",)], "customer_id string")
    labelled = spark.createDataFrame([("c1", date(2025, 3, 1), 1, "ocse_payer")],
                                     "customer_id string, as_of date, label int, typology string")
    dates = [date(2025, 3, 1), date(2025, 4, 1)]
    first = training_set.unlabelled_points(population, labelled, dates, 10).collect()
    again = training_set.unlabelled_points(population, labelled, dates, 10).collect()
    assert first == again and len({row["customer_id"] for row in first}) == 10  # c0 twice: drawn once
    assert "c1" not in {row["customer_id"] for row in first}  # labelled: never in the sample
    assert {row["as_of"] for row in first} <= set(dates)
    assert {(row["label"], row["typology"]) for row in first} == {(0, evaluate.UNLABELLED)}
    # Another seed draws other customers.
    other = replace(RECIPE, sample_seed=7)
    drawn = training_set.unlabelled_points(population, labelled, dates, 10, other).collect()
    assert {row["customer_id"] for row in drawn} != {row["customer_id"] for row in first}


def test_training_table_never_sees_a_label_decided_after_the_cutoff(spark, world):
    late = customer_id("payer", 99)
    labels = [*world["labels"], (late, 1, datetime(2025, 6, 2, 8), "ocse_payer")]
    write_validated(spark, world["out"], labels, [*world["population"], late])
    recipe = world["recipe"]
    frame = training_set.training_table(spark, world["settings"], CUTOFF, training_set.catalogue_columns(),
                                        recipe, world["features"])
    decisions = frame[frame["lead_days"] == 0]
    assert int(decisions["label"].sum()) == 30  # the 30 payers decided before the cut-off, not the late one
    assert frame.loc[frame["customer_id"] == late, "label"].tolist() in ([], [0])
    labelled = decisions[decisions["typology"] != evaluate.UNLABELLED]
    assert len(labelled) == 60
    # Each labelled row carries the features of its own decision date, never a later one.
    decided = {c: d.date() for c, _, d, _ in labels}
    assert all(row.as_of == row.decided_on == decided[row.customer_id] for row in labelled.itertuples())
    assert (frame["as_of"] < CUTOFF).all() and (frame["decided_on"] < CUTOFF).all()
    # Lead points: every confirmed customer again every lead_days before its decision, label 1, as of the
    # earlier date, where it already paid abroad (from PAYING_FROM in this world: 2 payments in 90 days
    # before it, under lead_min_p2p); none for cleared customers.
    leads = frame[frame["lead_days"] > 0]
    payers = {c for c, label, when, _ in labels if label == 1 and when.date() < CUTOFF}
    wanted = sorted((c, n) for c in payers for n in recipe.lead_days
                    if decided[c] - timedelta(days=n) >= PAYING_FROM)
    assert 0 < len(wanted) < len(payers) * len(recipe.lead_days)
    assert sorted(zip(leads["customer_id"], leads["lead_days"], strict=True)) == wanted
    assert (leads["label"] == 1).all()
    assert all(row.as_of == decided[row.customer_id] - timedelta(days=row.lead_days)
               and row.decided_on == decided[row.customer_id] for row in leads.itertuples())
    # The unlabelled sample: unlabelled_min wanted, 120 ordinary + 1 late customer available.
    assert (frame["typology"] == evaluate.UNLABELLED).sum() == 121


def test_training_table_takes_an_approved_decision_from_the_next_cutoff_on(spark, world):
    # A look-alike cleared in the ledger, then confirmed in the workbench and approved the day before the
    # cut-off: that training day cannot see it yet (decided_at < D, UTC midnight), the next one takes it.
    lookalike = customer_id("lookalike", 0)
    cleared_on = next(when.date() for c, _, when, _ in world["labels"] if c == lookalike)
    approved = datetime(2025, 5, 31, 15, 30, tzinfo=UTC)
    case_labels.write_decision(world["out"], case_id="C-20250530-0000000001", customer_id=lookalike, label=1,
                               decided_at=approved, typology="confirmed")
    columns = training_set.catalogue_columns()

    def decision_of(cutoff: date) -> list[tuple]:
        frame = training_set.training_table(spark, world["settings"], cutoff, columns, world["recipe"],
                                            world["features"])
        rows = frame[(frame["customer_id"] == lookalike) & (frame["lead_days"] == 0)]
        return list(zip(rows["as_of"], rows["label"], rows["typology"], strict=True))

    assert decision_of(CUTOFF - timedelta(days=1)) == [(cleared_on, 0, "ofw_remitter")]
    assert decision_of(CUTOFF) == [(date(2025, 5, 31), 1, "confirmed")]


def test_sex_and_age_are_in_the_feature_table_but_no_model_input():
    from bantay.features.catalogue import model_columns

    inputs = training_set.catalogue_columns()
    assert "age_years" not in inputs and "is_male" not in inputs
    assert {"age_years", "is_male"} <= set(model_columns())  # still written, for reporting
    assert inputs == [c for c in model_columns() if c not in ("age_years", "is_male")]


def test_with_origin_names_each_evaluation_row_where_its_label_came_from():
    points = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e"],
        "as_of": [date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 3), date(2025, 5, 4), date(2025, 5, 5)],
        "typology": ["confirmed", "cleared", "unlabelled", "confirmed", "confirmed"],
    })
    origins = pd.DataFrame({
        "customer_id": ["a", "b", "d", "e"],
        # d's label of another day is not the label of this point
        "as_of": [date(2025, 5, 1), date(2025, 5, 2), date(2025, 4, 1), date(2025, 5, 5)],
        "origin": ["alert", "below_line_sample", "ledger", None],
    })
    marked = training_set.with_origin(points, origins)
    assert marked["origin"].tolist() == [
        "alert", "below_line_sample", "unlabelled_sample", "unknown", "unknown"]
    assert marked.drop(columns="origin").equals(points)
