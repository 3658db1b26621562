"""One typed settings object: defaults, then an optional TOML config file, then `BANTAY_*` environment
variables.

Nested values use a double underscore in the environment: `BANTAY_INSTITUTION__NAME="First Bank"`.
The config file is named by `BANTAY_CONFIG` (or the CLI's `--config`); its keys are the field names below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bantay.errors import ConfigError
from bantay.io import catalogue

# The daily monitoring checks (`bantay.models.monitor`), by the names `monitor_fail_on` takes.
MONITOR_CHECKS = ("score_psi", "feature_psi", "null_rate", "alert_volume", "scored_share")


class Institution(BaseModel):
    """The filing (reporting) institution, as the SAR forms need it. Defaults are a fictional demo bank."""

    model_config = {"frozen": True}

    name: str = "Demo Bank (synthetic)"
    tin: str = "000000000"
    tin_type: str = "EIN"
    rssd_id: str = "0000000"
    primary_regulator: str = "OCC"
    institution_type: str = "Depository institution"
    address: str = "1 Example Street"
    city: str = "Springfield"
    state: str = "VA"
    postcode: str = "22150"
    country: str = "US"
    contact_office: str = "Financial Intelligence Unit"
    contact_phone: str = "5555550100"
    goaml_reporting_entity_id: str = "0"
    nca_reporter_id: str = ""
    fincen_tcc: str = "TBSATEST"  # Transmitter Control Code FinCEN issues; TBSATEST is its test code
    austrac_re_number: str = "0"  # AUSTRAC reporting entity number (up to 7 digits); 0: not enrolled
    fintrac_re_number: str = "0"  # FINTRAC reporting entity number; 0: not registered
    fintrac_contact_id: str = "0"  # FINTRAC reporting entity contact id
    fintrac_location_id: str = "0"  # FINTRAC reporting entity location id (reportingEntityLocationId)


class Settings(BaseSettings):
    """Everything a Bantay step needs to know about where it runs and what it writes."""

    model_config = SettingsConfigDict(
        env_prefix="BANTAY_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    ledger_root: Path | None = None
    output_root: Path = Path("out")
    spark_master: str = "local[*]"
    spark_driver_memory: str = "6g"
    spark_shuffle_partitions: int = 8
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI; default sqlite under OUT/mlflow (MLFLOW_TRACKING_URI wins)",
    )
    mlflow_experiment: str = "bantay-ocse"
    model_name: str = "bantay-ocse"
    alert_budget: float = Field(default=0.01, gt=0, le=1, description="share of scored customers alerted")
    alert_capacity: int | None = Field(
        default=None, description="max alerts a day (overrides the budget if lower)"
    )
    min_alert_score: float = Field(default=0.2, ge=0, le=1)
    reason_share: float = Field(
        default=0.05, gt=0, le=1,
        description="share of scored customers, riskiest first, whose reasons are computed (every alert too)",
    )
    realert_margin: float = Field(
        default=0.15, ge=0, le=1, description="score rise needed to re-alert a cleared customer"
    )
    realert_cooldown_days: int = 180
    promotion_margin: float = Field(
        default=0.01, ge=0, description="PR-AUC gain a challenger needs over the champion"
    )
    reporting_currency: str = "USD"
    hub_sender_share: float = Field(
        default=0.01,
        gt=0,
        le=1,
        description="a payee cluster paid by more than this share of the year's senders abroad (and by more "
        "than 50) is a hub (exchange, money-service business, merchant), never a facilitator cluster",
    )
    # Daily monitoring of the champion (`bantay.models.monitor`): a check crossing its threshold marks the
    # Airflow task (a warning; a failure for the checks named in `monitor_fail_on`).
    monitor_score_psi_max: float = Field(
        default=0.25, gt=0, description="population stability index of the score vs its training reference"
    )
    monitor_feature_psi_max: float = Field(
        default=0.25, gt=0, description="population stability index of a feature vs its training reference"
    )
    monitor_null_rate_change_max: float = Field(
        default=0.2, gt=0, le=1, description="change of a feature's null rate vs its training reference"
    )
    monitor_alert_ratio_max: float = Field(
        default=1.5, gt=0, description="alerts / alerts the budget allows (open cases are alerted outside it)"
    )
    monitor_scored_share_min: float = Field(
        default=0.99, ge=0, le=1, description="customers scored / customers in the day's feature table"
    )
    monitor_fail_on: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="checks that fail the task instead of warning: score_psi, feature_psi, null_rate, "
        "alert_volume, scored_share",
    )
    case_store_url: str | None = Field(
        default=None, description="case store database URL; default SQLite under OUT/workbench"
    )
    draft_workers: int = Field(
        default=0,
        ge=0,
        description="processes building and rendering a day's drafts (0: one per CPU, at most 8; 1: the "
        "job's own)",
    )
    lock_wait_minutes: float = Field(
        default=30,
        ge=0,
        description="how long an Airflow task waits for the output root's lock held by another live run "
        "before it fails (and is retried)",
    )
    goaml_config: Path | None = None
    goaml_xsd: Path | None = None
    institution: Institution = Institution()
    demo: bool = Field(
        default=False,
        description="allow regulator files with the demo institution's values (BANTAY_DEMO=1 or --demo)",
    )

    @field_validator("monitor_fail_on", mode="before")
    @classmethod
    def _check_names(cls, value: Any) -> Any:
        names = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value
        unknown = sorted(set(names) - set(MONITOR_CHECKS))
        if unknown:
            raise ValueError(f"monitor_fail_on: unknown check(s) {', '.join(unknown)}; expected "
                             + ", ".join(MONITOR_CHECKS))
        return tuple(names)

    @field_validator("reporting_currency")
    @classmethod
    def _iso4217(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError("reporting_currency must be an ISO 4217 alpha-3 code")
        return value.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("BANTAY_CONFIG")
        if config:
            if not Path(config).is_file():
                raise ConfigError(f"BANTAY_CONFIG={config}: no such file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    # Derived locations; the output layout itself is decided by the output catalogue (`bantay.io.catalogue`).
    @property
    def ledger(self) -> Path:
        if self.ledger_root is None:
            raise ConfigError("no ledger given: pass --ledger or set BANTAY_LEDGER_ROOT")
        return self.ledger_root

    @property
    def tracking_uri(self) -> str:
        """MLflow tracking URI: MLFLOW_TRACKING_URI, then the setting, then SQLite under the output root."""
        explicit = os.environ.get("MLFLOW_TRACKING_URI") or self.mlflow_tracking_uri
        if explicit:
            return explicit
        return f"sqlite:///{(catalogue.path(self.output_root, 'mlflow') / 'mlflow.db').resolve()}"

    @property
    def artifact_root(self) -> Path:
        return (catalogue.path(self.output_root, "mlflow") / "artifacts").resolve()


def load(**overrides: Any) -> Settings:
    """Build settings from defaults, config file and environment, then explicit CLI overrides
    (None ignored)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        first = str(error).splitlines()
        raise ConfigError("invalid settings: " + " ".join(line.strip() for line in first[:3])) from None
