"""The backtest's figures on hand-built payers, alerts and cases (values worked out by hand)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from bantay.backtest import measures, oracle

START, END = date(2025, 3, 1), date(2025, 3, 10)  # 10 days: a week and a 3-day week


def _oracle() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["p1", "p2", "p3", "p4", "n1", "n2"],
        "label": [1, 1, 1, 1, 0, 0],
        "typology": ["ocse_payer"] * 4 + ["online_buyer", "cleared"],
        "first_suspicious_at": pd.to_datetime(
            ["2025-02-20 10:00", "2025-03-02 09:00", "2025-03-09 23:00", "2025-03-20 08:00", None, None],
            utc=True,
        ),
    })


def _cases() -> pd.DataFrame:
    return pd.DataFrame({
        "case_id": ["c1", "c2", "c3", "c4"],
        "customer_id": ["p1", "n1", "p2", "n2"],
        "opened_on": [date(2025, 3, 4), date(2025, 3, 4), date(2025, 3, 8), date(2025, 3, 9)],
        "below_line": [False, False, True, False],
        "outcome": ["confirmed", "cleared_online_buyer", None, "confirmed"],
        "approved_on": [date(2025, 3, 6), date(2025, 3, 6), None, date(2025, 3, 10)],
        "wrong": [False, False, False, True],
    })


def test_payer_lags_counts_days_from_the_first_suspicious_payment() -> None:
    alerts = pd.DataFrame({"customer_id": ["p1", "p1", "n1"],
                           "as_of": [date(2025, 3, 4), date(2025, 3, 5), date(2025, 3, 4)]})

    payers = measures.payer_lags(_oracle(), alerts, _cases(), START, END).set_index("customer_id")

    # p4 starts paying after the replay: not counted.
    assert list(payers.index) == ["p1", "p2", "p3"]
    assert payers.loc["p1", "days_to_alert"] == 12  # 20 Feb -> alerted as of 4 March
    assert payers.loc["p1", "days_to_decision"] == 14  # approved 6 March
    assert payers.loc["p1", "found_by"] == "alert" and not payers.loc["p1", "started_in_window"]
    assert payers.loc["p2", "found_by"] == "below_line" and payers.loc["p2", "days_to_alert"] == 6
    assert np.isnan(payers.loc["p2", "days_to_decision"])  # not decided yet
    assert payers.loc["p3", "found_by"] is None and np.isnan(payers.loc["p3", "days_to_alert"])
    # Started in the window: p2 (6 days) and p3 (never): the median of (6, never) is not reached.
    assert measures.censored_median(payers.loc[payers["started_in_window"], "days_to_alert"]) is None
    assert measures.censored_median(pd.Series([6.0, 12.0, np.nan])) == 12.0


def test_weekly_recall_precision_and_labels() -> None:
    alerts = pd.DataFrame({"customer_id": ["p1"], "as_of": [date(2025, 3, 4)]})
    payers = measures.payer_lags(_oracle(), alerts, _cases(), START, END)

    weeks = measures.weekly(payers, _cases(), _oracle(), START, END)

    assert weeks["days"].tolist() == [7, 3]
    # Week 1 (1-7 March): p1 and p2 pay, p1 alerted; cases c1 (payer) and c2 above the line.
    first = weeks.iloc[0]
    assert (first["payers_paying"], first["payers_alerted"], first["recall"]) == (2, 1, 0.5)
    assert (first["cases_above_line"], first["precision"]) == (2, 0.5)
    assert (first["decisions"], first["labels_confirmed"], first["labels_cleared"]) == (2, 1, 1)
    # Week 2 (8-10 March): p3 pays too; p2 found below the line; c4 confirmed wrongly.
    second = weeks.iloc[1]
    assert (second["payers_paying"], second["payers_alerted"]) == (3, 2)
    assert (second["cases_below_line"], second["payer_cases_below_line"]) == (1, 1)
    assert (second["cases_above_line"], second["precision"]) == (1, 0.0)
    assert (second["labels_confirmed"], second["labels_wrong"]) == (1, 1)


def test_summary_says_how_much_of_the_capacity_became_cases() -> None:
    alerts = pd.DataFrame({"customer_id": ["p1"], "as_of": [date(2025, 3, 4)]})
    payers = measures.payer_lags(_oracle(), alerts, _cases(), START, END)
    weeks = measures.weekly(payers, _cases(), _oracle(), START, END)
    # Ten days with 1 place above the line each except two with 2: 12 places; 3 cases above the line.
    daily = pd.DataFrame({
        "capacity_above_line": [1, 2, 1, 1, 1, 2, 1, 1, 1, 1], "open_cases": [0] * 10,
        "trained": [False] * 10, "promoted": [False] * 10,
        "model": ["bantay-rules/1"] * 3 + ["bantay-ocse/1"] * 7,
    })
    figures = measures.summary(payers, weeks, daily)
    assert figures["days_scored_by_rules"] == 3
    assert (figures["cases_above_line"], figures["capacity_above_line"]) == (3, 12)
    assert figures["capacity_used_above_line"] == 0.25
    empty = measures.summary(payers, weeks, daily.assign(capacity_above_line=0))
    assert empty["capacity_used_above_line"] is None
    # Below the line: c3 (p2) is the one sampled case, a payer: 1 of 1, Wilson interval [0.2065, 1].
    assert (figures["below_line_payer_rate"], figures["below_line_payer_rate_ci95"]) == (1.0, [0.2065, 1.0])


def test_wilson_interval_of_a_proportion() -> None:
    # 9 of 25: p = 0.36, z = 1.96; centre (9 + 1.9208) / 28.8416 = 0.3787, half-width 0.1762.
    assert measures.wilson(9, 25) == [0.2025, 0.5548]
    assert measures.wilson(0, 0) is None


def test_decide_follows_the_oracle_and_errs_at_the_rate() -> None:
    assert oracle.decide((1, "ocse_payer"), 0.0, 1, "C-1") == ("confirmed", False)
    assert oracle.decide((0, "dating"), 0.0, 1, "C-1") == ("cleared_dating", False)
    assert oracle.decide((0, "retail"), 0.0, 1, "C-1") == ("cleared_other", False)
    assert oracle.decide(None, 0.0, 1, "C-1") == ("inconclusive", False)
    assert oracle.decide((0, "dating"), 1.0, 1, "C-1") == ("confirmed", True)
    flips = [oracle.decide((1, "ocse_payer"), 0.3, 7, f"C-{n}")[1] for n in range(2000)]
    assert 0.27 < np.mean(flips) < 0.33
    assert flips == [oracle.decide((1, "ocse_payer"), 0.3, 7, f"C-{n}")[1] for n in range(2000)]  # rerun


def test_generate_oracle_names_payers_and_the_look_alike_each_is_cleared_as() -> None:
    import pyarrow as pa

    from bantay.synth import generate

    first = pd.Timestamp("2025-03-02 09:00", tz="UTC")
    truth = pa.Table.from_pylist(
        [
            {"customer_id": "a", "kind": "ocse_payer", "first_ocse_at": first, "ocse_payments": 3},
            {"customer_id": "b", "kind": "online_dater", "first_ocse_at": None, "ocse_payments": 0},
            {"customer_id": "c", "kind": "retail", "first_ocse_at": None, "ocse_payments": 0},
        ],
        schema=generate.TRUTH_CUSTOMERS,
    )

    table = generate.oracle(truth).to_pylist()

    assert [(r["customer_id"], r["label"], r["typology"]) for r in table] == [
        ("a", 1, "ocse_payer"), ("b", 0, "dating"), ("c", 0, "cleared")]
    assert table[0]["first_suspicious_at"] == first.to_pydatetime()
    assert table[1]["first_suspicious_at"] is None
    # What the backtest decides from them with no errors: confirmed, cleared as dating, cleared as other.
    assert [oracle.decide((r["label"], r["typology"]), 0.0, 0, "C-x")[0] for r in table] == [
        "confirmed", "cleared_dating", "cleared_other"]


def test_threshold_testing_says_where_the_line_sat() -> None:
    from bantay.backtest import report

    figures = {
        "capacity_above_line": 223, "cases_above_line": 14, "precision_above_line": 12 / 14,
        "precision_above_line_ci95": measures.wilson(12, 14), "cases_below_line": 25,
        "payer_cases_below_line": 9, "below_line_payer_rate": 0.36,
        "below_line_payer_rate_ci95": measures.wilson(9, 25),
    }
    lines = report.threshold_testing({"min_alert_score": 0.2}, figures)
    assert lines[0] == "Above the line: 14 new cases in 223 places of review capacity (6% used)."
    assert lines[1] == "Precision above the line 0.86 (95% interval 0.60-0.96)."
    assert lines[2] == (
        "Below the line: 9 of 25 sampled cases were payers (rate 0.36, 95% interval 0.20-0.55)."
    )
    assert lines[3].startswith("The alert floor (min_alert_score 0.2) left 209 places unused")
    # No floor, or the capacity mostly used: no sentence about the floor.
    assert len(report.threshold_testing({"min_alert_score": 0.0}, figures)) == 3
    assert len(report.threshold_testing({"min_alert_score": 0.2}, {**figures, "cases_above_line": 200})) == 3
    page = report.html_page({"min_alert_score": 0.2}, figures, pd.DataFrame({"week": [1]}), {})
    assert "<h2>Threshold testing</h2><p>Above the line: 14 new cases" in page


def test_the_report_shows_each_retraining_days_gate_figures():
    from bantay.backtest import report
    from bantay.jobs.replay_backtest import gate_figures

    decision = {"promoted": True, "baseline": "rules", "challenger_pr_auc": 0.81, "baseline_pr_auc": 0.4,
                "unchosen_rows": 52, "unchosen_positives": 3, "challenger_pr_auc_unchosen": 0.55,
                "baseline_pr_auc_unchosen": 0.61}
    daily = pd.DataFrame([
        {"as_of": date(2025, 5, 1), "trained": True, "promoted": True, **gate_figures(decision)},
        {"as_of": date(2025, 5, 2), "trained": False, "promoted": False, **gate_figures({})},
    ])
    assert pd.isna(daily.loc[1, "gate_challenger_pr_auc"])
    table = report.gate_table(daily)
    assert table.count("</tr>") == 2  # the header and the one day that trained
    for shown in ("2025-05-01", "rules", "0.810", "0.400", "52", "3", "0.550", "0.610"):
        assert f"<td>{shown}</td>" in table
    assert "No model was trained" in report.gate_table(daily.iloc[1:])
    assert "No model was trained" in report.gate_table(None)
    page = report.html_page({}, {}, pd.DataFrame({"week": [1]}), {}, daily)
    assert "<h2>Retraining and the promotion gate</h2>" in page and "<td>0.550</td>" in page
