"""GX Core 1.x expectation suites for the four ledger tables, written as code, and the runner.

Each suite describes a valid table as the contract states it. The validator runs it on every row read, typed
to the contract (`bantay.quality.quarantine.checked`), so GX's result counts the same problems the row-level
quarantine acts on; cross-table facts (a known customer, an FX rate for the day) arrive as helper columns.
Results keep counts only: `partial_unexpected_count=0` keeps row values (personal data) out of the JSON.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from pyspark.sql import DataFrame

from bantay import ledger
from bantay.quality.rules import (
    CHANNELS,
    DIRECTIONS,
    GENDERS,
    MCC_PATTERN,
    country_codes,
    currency_codes,
    timezone_names,
)

RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


def _schema(table: str) -> list[gxe.Expectation]:
    """Every contract column present with its contract type, and the required ones never null."""
    schema = ledger.SCHEMAS[table]
    expectations: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(column_set=[f.name for f in schema.fields], exact_match=False)
    ]
    expectations += [
        gxe.ExpectColumnValuesToBeOfType(column=f.name, type_=type(f.dataType).__name__)
        for f in schema.fields
    ]
    expectations += [
        gxe.ExpectColumnValuesToNotBeNull(column=name) for name in ledger.REQUIRED_COLUMNS[table]
    ]
    return expectations


def transactions_suite() -> ExpectationSuite:
    """Transactions; the checked frame adds booking_date, booked_date, customer_known and usd_per_unit."""
    return gx.ExpectationSuite(
        name="transactions",
        expectations=[
            *_schema("transactions"),
            gxe.ExpectColumnValuesToBeUnique(column="txn_id"),
            gxe.ExpectColumnPairValuesToBeEqual(column_A="booked_date", column_B="booking_date"),
            gxe.ExpectColumnValuesToBeInSet(column="customer_known", value_set=[True]),
            gxe.ExpectColumnValuesToBeInSet(column="direction", value_set=list(DIRECTIONS)),
            gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=list(CHANNELS)),
            gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, strict_min=True),
            gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=list(currency_codes())),
            gxe.ExpectColumnValuesToBeInSet(column="counterparty_country", value_set=list(country_codes())),
            # An FX rate for every currency and day used: the rate joined on (currency, booking_date) exists.
            gxe.ExpectColumnValuesToNotBeNull(column="usd_per_unit"),
            gxe.ExpectColumnValuesToMatchRegex(column="mcc", regex=MCC_PATTERN),
        ],
    )


def customers_suite(as_of: date) -> ExpectationSuite:
    return gx.ExpectationSuite(
        name="customers",
        expectations=[
            *_schema("customers"),
            gxe.ExpectColumnValuesToBeUnique(column="customer_id"),
            gxe.ExpectColumnValuesToBeBetween(column="birth_date", max_value=as_of),
            gxe.ExpectColumnValuesToBeInSet(column="nationality", value_set=list(country_codes())),
            gxe.ExpectColumnValuesToBeInSet(column="residence_country", value_set=list(country_codes())),
            gxe.ExpectColumnValuesToBeInSet(column="timezone", value_set=list(timezone_names())),
            gxe.ExpectColumnValuesToBeInSet(column="gender", value_set=list(GENDERS)),
        ],
    )


def fx_rates_suite() -> ExpectationSuite:
    return gx.ExpectationSuite(
        name="fx_rates",
        expectations=[
            *_schema("fx_rates"),
            gxe.ExpectColumnValuesToBeBetween(column="usd_per_unit", min_value=0, strict_min=True),
            gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=list(currency_codes())),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["currency", "rate_date"]),
        ],
    )


def labels_suite() -> ExpectationSuite:
    """Labels; the checked frame adds `customer_known`."""
    return gx.ExpectationSuite(
        name="labels",
        expectations=[
            *_schema("labels"),
            gxe.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1]),
            gxe.ExpectColumnValuesToBeInSet(column="customer_known", value_set=[True]),
        ],
    )


def suite_for(table: str, as_of: date) -> ExpectationSuite:
    if table == "transactions":
        return transactions_suite()
    if table == "customers":
        return customers_suite(as_of)
    if table == "fx_rates":
        return fx_rates_suite()
    if table == "labels":
        return labels_suite()
    raise ValueError(f"no suite for table {table!r}")


def ephemeral_context() -> Any:
    """An in-memory GX context: no files, no progress bars, no usage statistics sent anywhere."""
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def run_suite(frame: DataFrame, suite: ExpectationSuite, context: Any | None = None) -> dict[str, Any]:
    """Validate a Spark frame against `suite`; return GX's result as a JSON-ready dict."""
    context = context or ephemeral_context()
    name = suite.name
    source = context.data_sources.add_or_update_spark(name=f"bantay_{name}")
    asset = source.add_dataframe_asset(name=name)
    batch = asset.add_batch_definition_whole_dataframe(name=f"{name}_whole")
    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"validate_{name}", data=batch, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
    payload: dict[str, Any] = result.to_json_dict()
    return payload


def failures(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The failed expectations of a GX result: type, column(s), unexpected count (no row values)."""
    failed = []
    for item in result["results"]:
        if item["success"]:
            continue
        kwargs = item["expectation_config"]["kwargs"]
        column = (
            kwargs.get("column")
            or kwargs.get("column_list")
            or [kwargs.get("column_A"), kwargs.get("column_B")]
        )
        failed.append(
            {
                "expectation": item["expectation_config"]["type"],
                "column": column if isinstance(column, str) else ",".join(str(c) for c in column if c),
                "unexpected_count": item["result"].get("unexpected_count"),
                "observed_value": item["result"].get("observed_value"),
                "exception": (item.get("exception_info") or {}).get("exception_message"),
            }
        )
    return failed
