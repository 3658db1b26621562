"""Settings precedence: defaults, then the TOML file (BANTAY_CONFIG or --config), then BANTAY_* variables,
then explicit options (the CLI's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bantay import settings
from bantay.errors import ConfigError


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("BANTAY_CONFIG", "BANTAY_ALERT_BUDGET", "BANTAY_OUTPUT_ROOT", "BANTAY_INSTITUTION__NAME"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _toml(tmp_path: Path) -> Path:
    path = tmp_path / "bantay.toml"
    path.write_text(
        'alert_budget = 0.05\noutput_root = "from-file"\nreporting_currency = "gbp"\n'
        '[institution]\nname = "File Bank"\n'
    )
    return path


def test_defaults_apply_without_file_environment_or_options(clean_env: pytest.MonkeyPatch) -> None:
    loaded = settings.load()
    assert (loaded.alert_budget, loaded.output_root, loaded.reporting_currency) == (0.01, Path("out"), "USD")
    assert loaded.institution.name == "Demo Bank (synthetic)"


def test_file_overrides_defaults(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("BANTAY_CONFIG", str(_toml(tmp_path)))
    loaded = settings.load()
    assert (loaded.alert_budget, loaded.output_root, loaded.reporting_currency) == (
        0.05,
        Path("from-file"),
        "GBP",
    )
    assert loaded.institution.name == "File Bank"
    assert loaded.spark_shuffle_partitions == 8  # not in the file: the default


def test_environment_overrides_the_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("BANTAY_CONFIG", str(_toml(tmp_path)))
    clean_env.setenv("BANTAY_ALERT_BUDGET", "0.07")
    clean_env.setenv("BANTAY_INSTITUTION__NAME", "Env Bank")
    loaded = settings.load()
    assert (loaded.alert_budget, loaded.output_root) == (0.07, Path("from-file"))
    assert loaded.institution.name == "Env Bank"


def test_options_override_the_environment_and_none_is_ignored(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("BANTAY_CONFIG", str(_toml(tmp_path)))
    clean_env.setenv("BANTAY_ALERT_BUDGET", "0.07")
    clean_env.setenv("BANTAY_OUTPUT_ROOT", "from-env")
    loaded = settings.load(alert_budget=0.09, output_root=None)
    assert (loaded.alert_budget, loaded.output_root) == (0.09, Path("from-env"))


def test_bad_values_and_a_missing_file_are_one_line_config_errors(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("BANTAY_ALERT_BUDGET", "5")
    with pytest.raises(ConfigError, match="invalid settings") as caught:
        settings.load()
    assert "\n" not in str(caught.value)
    clean_env.delenv("BANTAY_ALERT_BUDGET")
    clean_env.setenv("BANTAY_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"missing\.toml: no such file"):
        settings.load()
