"""The `bantay` console script: one line on stderr and exit 2 for usage, 1 for data; never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from bantay import cli
from bantay.io import lock

STEPS = ("validate", "features", "train", "score", "draft", "run")


def _one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str], code: int) -> str:
    assert cli.main(argv) == code
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bantay: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _usage_cases(tmp: Path) -> list[tuple[list[str], str]]:
    common = ["--ledger", str(tmp / "ledger"), "--out", str(tmp / "out")]
    cases = [
        (["generate", "--out", str(tmp / "gen"), "--customers", "3"], "greater than or equal to 50"),
        (["promote", "--out", str(tmp / "out"), "--nope"], "No such option: --nope"),
        (["version", "--nope"], "No such option: --nope"),
        (["bogus"], "No such command 'bogus'"),
    ]
    for step in STEPS:
        cases += [
            ([step, *common, "--as-of", "2025-13-01"], "Invalid value for '--as-of'"),
            ([step, "--out", str(tmp / "out"), "--as-of", "2025-03-03"], "Missing option '--ledger'"),
            ([step, *common, "--as-of", "2025-03-03", "--nope"], "No such option: --nope"),
        ]
    return cases


def test_every_usage_error_is_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, expected in _usage_cases(tmp_path):
        line = _one_line_error(capsys, argv, 2)
        assert expected in line, (argv, line)
    assert not (tmp_path / "out").exists() and not (tmp_path / "gen").exists()


def test_unusable_settings_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["validate", "--ledger", str(tmp_path), "--out", str(tmp_path / "out"), "--as-of", "2025-03-03"]
    line = _one_line_error(capsys, ["--config", str(tmp_path / "missing.toml"), *argv], 2)
    assert "missing.toml: no such file" in line
    assert "BANTAY_CONFIG" not in os.environ  # --config holds for one call only
    monkeypatch.setenv("BANTAY_ALERT_BUDGET", "5")
    assert "invalid settings" in _one_line_error(capsys, argv, 2)


def test_no_arguments_print_the_help_as_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    shown = capsys.readouterr()
    assert "Usage:" in shown.out + shown.err


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="2025-13-01"):
        cli.main(["--debug", "validate", "--ledger", ".", "--out", str(tmp_path), "--as-of", "2025-13-01"])


def test_a_missing_ledger_is_a_data_error_before_spark_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console script itself, in a fresh process: exit 1, one line, and no Spark session started."""
    common = ["--ledger", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"), "--as-of", "2025-03-03"]
    assert "ledger root does not exist" in _one_line_error(capsys, ["run", *common], 1)
    for step in ("validate",):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bantay.cli",
                "--log-level",
                "INFO",
                step,
                "--ledger",
                str(tmp_path / "nowhere"),
                "--out",
                str(tmp_path / "out"),
                "--as-of",
                "2025-03-03",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        lines = [line for line in done.stderr.splitlines() if "bantay: error:" in line]
        assert lines == [
            f"bantay: error: {tmp_path / 'nowhere'}: ledger root does not exist (or is not a folder)"
        ]
        assert "Traceback" not in done.stderr and "spark session" not in done.stderr


def test_a_second_writer_is_a_data_error_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / lock.LOCK_NAME).write_text(
        json.dumps({"pid": 4242, "host": "batch-2", "since": "2025-03-03T01:00:00Z"})
    )
    for step in STEPS:
        argv = [step, "--ledger", str(tmp_path), "--out", str(out), "--as-of", "2025-03-03"]
        line = _one_line_error(capsys, argv, 1)
        assert "in use by another bantay run (pid 4242 on batch-2" in line
    assert "in use" in _one_line_error(capsys, ["promote", "--out", str(out)], 1)


def test_missing_artefacts_are_data_errors(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    out = tmp_path / "out"
    common = ["--ledger", str(tmp_path), "--out", str(out), "--as-of", "2025-03-03"]
    expected = {
        "features": "no validated",
        "score": "no feature table",
        "draft": "no scores",
        "train": "no validated",
    }
    for step, words in expected.items():
        demo = ["--demo"] if step == "draft" else []  # past the refusal of the demo institution's identifiers
        assert words in _one_line_error(capsys, [step, *common, *demo], 1)
    assert "no version with alias challenger" in _one_line_error(capsys, ["promote", "--out", str(out)], 1)
    assert not (out / lock.LOCK_NAME).exists()  # every step released the lock


def test_version_prints_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    from bantay import __version__

    assert cli.main(["version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


def test_a_second_generator_on_one_ledger_folder_stops_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bantay generate` swaps the whole ledger folder into place, so its lock lies beside the folder: a
    second generator of the same folder stops at once, the folder untouched; with the holder gone it runs."""
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / "earlier.txt").write_text("an earlier ledger\n")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from bantay.io.lock import folder_lock\n"
            f"with folder_lock({str(ledger)!r}):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    argv = ["generate", "--out", str(ledger), "--customers", "50", "--days", "7", "--end-date", "2025-03-01"]
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        line = _one_line_error(capsys, argv, 1)
        assert line.startswith(f"bantay: error: {ledger}: in use by another bantay run (pid {holder.pid} on ")
        assert str(tmp_path / f".ledger{lock.LOCK_NAME}") in line
        assert [p.name for p in ledger.iterdir()] == ["earlier.txt"]
        assert not (tmp_path / "_staging").exists()  # nothing was started
    finally:
        holder.kill()
        holder.wait()
    # The holder is dead: its lock is stale, broken, and the generator runs and releases its own.
    assert cli.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"]["customers"] >= 50
    assert sorted(p.name for p in ledger.iterdir()) == ["customers", "fx_rates", "labels", "transactions"]
    assert not (tmp_path / f".ledger{lock.LOCK_NAME}").exists()
