"""Bad-row rules: one stable id per rule, each a Spark Column predicate that is true when a row breaks it.

The ids are the contract with the synthetic generator (docs/design.md, "Bad-row rules"): it plants one row of
each kind and records the same id in its truth. The order of each tuple is the order of precedence: a row that
breaks several rules is quarantined once, under the first.

Predicates read the *prepared* frame built by `bantay.quality.quarantine.prepare`: every contract column typed
with try-cast semantics under `typed(name)` (a value that does not parse is null there, never an error),
plus a few helper columns computed across rows or tables (duplicate rank, known customer, FX rate of the day).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date
from functools import cache

import pycountry
from pyspark.sql import Column
from pyspark.sql import functions as F

DIRECTIONS = ("out", "in")
CHANNELS = ("remittance", "bank_transfer", "card", "wallet", "crypto", "cash")
GENDERS = ("M", "F", "X")
MCC_PATTERN = r"^[0-9]{4}$"

# Helper columns of the prepared frame (double underscore: never clashes with a ledger column).
BOOKING_DAY = "__booking_day"  # the partition folder's date (null when the folder name is not a date)
DUP_RANK = "__dup_rank"  # 1 for the copy that is kept, 2.. for later copies; null when the key is null
SEEN_BEFORE = "__seen_before"  # txn_id already in the validated layer on a day not being re-validated
CUSTOMER_KNOWN = "__customer_known"  # customer_id is among the accepted customers
USD_PER_UNIT = "__usd_per_unit"  # the accepted FX rate of the row's currency on its booking day
AMOUNT_NUMBER = "__amount_number"  # the amount as read, as a double (null when it is not a number at all)
# decimal(18,2) holds up to 16 digits before the point: a larger amount is a number the contract cannot hold.
AMOUNT_LIMIT = 1e16


def typed(name: str) -> Column:
    """The contract-typed value of column `name` in the prepared frame."""
    return F.col(f"__{name}")


@dataclass(frozen=True)
class Rule:
    """A bad-row rule: `broken` is true when the row breaks it (null counts as not broken)."""

    id: str
    column: str
    broken: Column


@cache
def currency_codes() -> tuple[str, ...]:
    """ISO 4217 alpha-3 codes."""
    return tuple(sorted(c.alpha_3 for c in pycountry.currencies))


@cache
def country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes."""
    return tuple(sorted(c.alpha_2 for c in pycountry.countries))


@cache
def timezone_names() -> tuple[str, ...]:
    """IANA time zone names (tzdata), as Python's zoneinfo knows them."""
    return tuple(sorted(zoneinfo.available_timezones()))


def _missing(name: str) -> Column:
    return typed(name).isNull()


def _not_in(name: str, values: tuple[str, ...]) -> Column:
    return typed(name).isNull() | ~typed(name).isin(*values)


def _number() -> Column:
    return F.col(AMOUNT_NUMBER)


def transaction_rules() -> tuple[Rule, ...]:
    return (
        Rule("txn_id_null", "txn_id", _missing("txn_id")),
        Rule("txn_id_duplicate", "txn_id", (F.col(DUP_RANK) > 1) | F.col(SEEN_BEFORE)),
        Rule("booked_at_null", "booked_at", _missing("booked_at")),
        Rule(
            "booked_at_not_partition_date",
            "booked_at",
            F.col(BOOKING_DAY).isNull() | (F.to_date(typed("booked_at")) != F.col(BOOKING_DAY)),
        ),
        Rule("customer_unknown", "customer_id", _missing("customer_id") | ~F.col(CUSTOMER_KNOWN)),
        Rule("direction_invalid", "direction", _not_in("direction", DIRECTIONS)),
        Rule("channel_invalid", "channel", _not_in("channel", CHANNELS)),
        Rule(
            "amount_out_of_range",
            "amount",
            _missing("amount") & ~F.isnan(_number()) & (F.abs(_number()) >= AMOUNT_LIMIT),
        ),
        Rule("amount_not_positive", "amount", _missing("amount") | (typed("amount") <= 0)),
        Rule("currency_invalid", "currency", _not_in("currency", currency_codes())),
        Rule(
            "counterparty_country_invalid",
            "counterparty_country",
            _not_in("counterparty_country", country_codes()),
        ),
        Rule("fx_rate_missing", "currency", F.col(USD_PER_UNIT).isNull()),
        Rule("mcc_invalid", "mcc", typed("mcc").isNotNull() & ~typed("mcc").rlike(MCC_PATTERN)),
    )


def customer_rules(as_of: date) -> tuple[Rule, ...]:
    """`as_of` is the run date: a birth date after it is in the future."""
    return (
        Rule("customer_id_null", "customer_id", _missing("customer_id")),
        Rule("customer_id_duplicate", "customer_id", F.col(DUP_RANK) > 1),
        Rule(
            "birth_date_invalid", "birth_date", _missing("birth_date") | (typed("birth_date") > F.lit(as_of))
        ),
        Rule("nationality_invalid", "nationality", _not_in("nationality", country_codes())),
        Rule("residence_country_invalid", "residence_country", _not_in("residence_country", country_codes())),
        Rule("timezone_invalid", "timezone", _not_in("timezone", timezone_names())),
        Rule("gender_invalid", "gender", typed("gender").isNotNull() & ~typed("gender").isin(*GENDERS)),
        # Not in the generator's list: the contract requires it, and a value that does not parse is no date.
        Rule("onboarded_at_invalid", "onboarded_at", _missing("onboarded_at")),
    )


def fx_rate_rules() -> tuple[Rule, ...]:
    rate = typed("usd_per_unit")
    return (
        # NaN compares greater than any number in Spark, and an infinite rate is as useless as a missing one.
        Rule(
            "fx_rate_not_positive",
            "usd_per_unit",
            rate.isNull() | F.isnan(rate) | (rate <= 0) | (rate == float("inf")),
        ),
        Rule("fx_currency_invalid", "currency", _not_in("currency", currency_codes())),
        Rule("fx_duplicate", "rate_date", F.col(DUP_RANK) > 1),
        # Not in the generator's list: a rate without a date cannot be used (null or unparsable rate_date).
        Rule("fx_rate_date_null", "rate_date", _missing("rate_date")),
    )


def label_rules() -> tuple[Rule, ...]:
    return (
        Rule("label_invalid", "label", _missing("label") | ~typed("label").isin(0, 1)),
        Rule("label_customer_unknown", "customer_id", _missing("customer_id") | ~F.col(CUSTOMER_KNOWN)),
        Rule("decided_at_null", "decided_at", _missing("decided_at")),
    )


def rules_for(table: str, as_of: date) -> tuple[Rule, ...]:
    """The ordered rules of a ledger table."""
    if table == "transactions":
        return transaction_rules()
    if table == "customers":
        return customer_rules(as_of)
    if table == "fx_rates":
        return fx_rate_rules()
    if table == "labels":
        return label_rules()
    raise ValueError(f"no rules for table {table!r}")


def rule_ids(table: str) -> tuple[str, ...]:
    return tuple(rule.id for rule in rules_for(table, date(2000, 1, 1)))
