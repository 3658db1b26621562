"""Shared vocabulary of the feature code: `FeatureSpec`, row-level predicates as Column functions, windows.

Every predicate here is a plain `Column` built from `F.*` functions, so the feature job, the network features
and the SAR drafts (which must show the transactions behind an indicator) select exactly the same rows.

Point in time: feature rows carry an `as_of` date column; a row counts only when `booking_date < as_of`, and a
window of `days` days is `as_of - days <= booking_date < as_of` (`in_window`). The daily table puts a literal
`as_of` on every row; training (`features_for_points`) puts each point's own `as_of` there.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

KEYS = ("customer_id", "as_of")
WINDOWS = (30, 90, 365)
LOOKBACK_DAYS = 365

# Channels a person-to-person payment can travel through; `card` is a purchase, never p2p.
P2P_CHANNELS = ("remittance", "bank_transfer", "wallet", "crypto", "cash")
# Merchant codes a p2p transfer may carry (money transfer, quasi-cash / crypto, stored value); any other MCC,
# e.g. an ATM withdrawal (6011) on the cash channel, is a purchase or a withdrawal, not a payment to a person.
P2P_MCCS = ("4829", "6051", "6540")
# Source countries of the typology (O1: PH about 75%, then TH, CO, DO, MX, GH, RO): regulators' list.
PRIMARY_DESTINATION = "PH"
OTHER_SOURCE_COUNTRIES = ("TH", "CO", "DO", "MX", "GH", "RO")
SOURCE_COUNTRIES = (PRIMARY_DESTINATION, *OTHER_SOURCE_COUNTRIES)

# O5: 21:00 to 03:00 in the sender's own time zone.
NIGHT_START_HOUR = 21
NIGHT_END_HOUR = 3
# O1: "small" after AUSTRAC / FATF / AIC (5th-95th percentile USD 12-200).
SMALL_PAYMENT_USD = 200.0
# O6: round in the sending currency (a multiple of 5 units), or landing on a multiple of PHP 500 (AMLC:
# "PHP 1,000 / 2,000 / 3,000") within half a percent, the slack of the rate an operator quotes.
ROUND_SENDING_UNIT = 5
ROUND_PHP_UNIT = 500
ROUND_PHP_TOLERANCE = 0.005
# O12: 2-4 payments within 2 hours (AUSTRAC).
BURST_SECONDS = 2 * 3600

# O7: innocent-sounding references (AUSTRAC, FATF), and a social-media handle such as "@name" or "ig: name".
REFERENCE_PATTERN = (
    r"(?i)(school|tuition|fees?\b|gift|present|medical|medicine|hospital|uniform|family support|allowance"
    r"|for (the )?(kids?|baby|family)|(^|\s)@\w{2,}|\b(ig|fb|insta|tiktok|snap|telegram|tg)\s*[:@])"
)
# O8: related card spending by merchant category (FINTRAC, AUSTRAC, ECPAT): direct marketing / adult content,
# dating and escort services, computer network and information services (VPN), digital goods, games, tokens,
# software stores and services (screen capture), card purchases of quasi-cash (token and gift-card sellers,
# 6051), and the same by merchant name where the MCC is generic.
RELATED_MCCS = ("5967", "7273", "4816", "5815", "5816", "5817", "5818", "5734", "7372", "6051")
# O8 kinds: offenders pay several kinds of these merchants (cam sites and their tokens, a VPN, screen-capture
# software or a track cleaner, dating); an innocent subscriber usually pays one. Each kind is a bit of
# the daily state's `related_groups`, matched by MCC or merchant name. Everyday digital goods (5815-5818:
# streaming, app stores, games) count as related spend above but are no kind of their own: most customers
# buy them. Measured (benchmarks/quality.py, 20k customers, train seed 7, score seeds 11 / 13): recall at 1%
# 0.806 / 0.822 -> 0.833 / 0.850, PR-AUC 0.852 / 0.837 -> 0.882 / 0.876, retail alerts 0.22% / 0.19% ->
# 0.16% / 0.17%. With tokens as a kind of their own, legal webcam customers (a cam site and its tokens) were
# alerted at 3.5% / 2.5% (1.0% / 0.5% before the feature); as one kind, 1.5% / 1.0%.
RELATED_GROUPS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    # Cam sites are paid in tokens: a site and its token seller are one habit (the legal webcam customer's).
    ("adult content or its tokens", ("5967", "6051"),
     r"(?i)(webcam|\bcam ?(site|show|girls?|models?)\b|\blive ?(cam|show)|\bprivate ?(chat|show)|\badult\b"
     r"|\btokens?\b|\bcoins? ?shop\b)"),
    ("dating", ("7273",), r"(?i)\bdating\b"),
    ("VPN or anonymiser", ("4816",), r"(?i)(vpn|proxy|anonymi[sz])"),
    ("software", ("5734", "7372"), r"(?i)screen ?(capture|record)"),
)
# Related spend by merchant name: any kind's name, and live-chat sites, which are related spend of no kind.
RELATED_MERCHANT_PATTERN = (
    r"(?i)(" + "|".join(pattern.removeprefix("(?i)") for _, _, pattern in RELATED_GROUPS) + r"|\blive ?chat)"
)
# O11: travel to a destination: airlines (MCC 3000-3299 and 4511), lodging (3501-3999 and 7011), and
# cash withdrawals (ATM MCC 6011, or the cash channel) in a source country.
AIRLINE_MCC_RANGE = (3000, 3299)
AIRLINE_MCCS = ("4511",)
LODGING_MCC_RANGE = (3501, 3999)
LODGING_MCCS = ("7011",)
ATM_MCCS = ("6011",)


@dataclass(frozen=True)
class FeatureSpec:
    """One model column: its name, the typology indicator it measures, what it is, its window and unit.

    `monotone` is +1 where the indicator may only raise risk, -1 where it may only lower it (a family tie),
    else 0: a monotone constraint for the model, from the typology, not from the data. `model_input` False:
    the feature table holds the column (for reporting), but no model is trained on it.
    """

    name: str
    typology_id: str
    definition: str
    window_days: int | None
    unit: str
    monotone: int = 0
    model_input: bool = True


# --- windows ---


def before_as_of() -> Column:
    """The row was booked strictly before its `as_of` (the point-in-time rule)."""
    return F.col("booking_date") < F.col("as_of")


def in_window(days: int, end_days_ago: int = 0) -> Column:
    """`as_of - days <= booking_date < as_of - end_days_ago`: the last `days` days before `as_of`."""
    return (F.col("booking_date") >= F.date_sub(F.col("as_of"), days)) & (
        F.col("booking_date") < F.date_sub(F.col("as_of"), end_days_ago)
    )


# --- row predicates ---


def is_cross_border_p2p() -> Column:
    """Outbound person-to-person payment abroad: p2p channel, no MCC (or a money-transfer one), counterparty
    outside the residence country.

    Needs the transaction columns plus the sender's `residence_country` (joined from customers).
    """
    return (
        (F.col("direction") == "out")
        & F.col("channel").isin(*P2P_CHANNELS)
        & (F.col("mcc").isNull() | F.col("mcc").isin(*P2P_MCCS))
        & F.col("counterparty_country").isNotNull()
        & (F.col("counterparty_country") != F.col("residence_country"))
    )


def local_time(timestamp: str = "booked_at", timezone: str = "timezone") -> Column:
    """The UTC timestamp seen in the customer's own IANA time zone (a column per row, never the session's)."""
    return F.from_utc_timestamp(F.col(timestamp), F.col(timezone))


def local_hour(timestamp: str = "booked_at", timezone: str = "timezone") -> Column:
    """Hour of day 0-23 in the customer's own time zone."""
    return F.hour(local_time(timestamp, timezone))


def is_night_hour(hour: Column) -> Column:
    """21:00-03:00 (the end excluded) for an hour-of-day column."""
    return (hour >= NIGHT_START_HOUR) | (hour < NIGHT_END_HOUR)


def is_night_local(timestamp: str = "booked_at", timezone: str = "timezone") -> Column:
    """Booked between 21:00 and 03:00 in the customer's own time zone (O5)."""
    return is_night_hour(local_hour(timestamp, timezone))


def is_round_amount(amount: str = "amount", amount_php: str = "amount_php") -> Column:
    """Round in the sending currency (a multiple of 5 units) or landing on a multiple of PHP 500 (O6).

    `amount_php` may be null (no PHP rate that day): then only the sending currency decides.
    """
    sending = (F.col(amount) % ROUND_SENDING_UNIT) == 0
    php = F.col(amount_php)
    nearest = F.round(php / ROUND_PHP_UNIT) * ROUND_PHP_UNIT
    landing = (nearest >= ROUND_PHP_UNIT) & (F.abs(php - nearest) <= ROUND_PHP_TOLERANCE * php)
    return sending | F.coalesce(landing, F.lit(False))


def reference_keyword(reference: str = "reference") -> Column:
    """The reference reads like school fees, a gift, medical, a uniform, family support or a handle (O7)."""
    return F.coalesce(F.col(reference).rlike(REFERENCE_PATTERN), F.lit(False))


def _mcc_number() -> Column:
    return F.when(F.col("mcc").rlike(r"^\d{4}$"), F.col("mcc").cast("int"))


def is_related_spend() -> Column:
    """Outbound card payment to adult, dating, VPN, token or screen-capture merchants, by MCC or name (O8)."""
    by_mcc = F.coalesce(F.col("mcc").isin(*RELATED_MCCS), F.lit(False))
    by_name = F.coalesce(F.col("counterparty_name").rlike(RELATED_MERCHANT_PATTERN), F.lit(False))
    return (F.col("direction") == "out") & (F.col("channel") == "card") & (by_mcc | by_name)


def related_groups() -> Column:
    """Bit mask of the `RELATED_GROUPS` kinds of a row's merchant (0 for anything but related spend)."""
    mask = F.lit(0)
    for bit, (_, mccs, pattern) in enumerate(RELATED_GROUPS):
        matches = F.coalesce(F.col("mcc").isin(*mccs), F.lit(False)) | F.coalesce(
            F.col("counterparty_name").rlike(pattern), F.lit(False)
        )
        mask = mask.bitwiseOR(F.when(matches, F.lit(1 << bit)).otherwise(F.lit(0)))
    return F.when(is_related_spend(), mask).otherwise(F.lit(0))


def is_airline() -> Column:
    """Outbound payment to an airline (MCC 3000-3299 or 4511) (O11)."""
    mcc = _mcc_number()
    low, high = AIRLINE_MCC_RANGE
    return (F.col("direction") == "out") & F.coalesce(
        mcc.between(low, high) | F.col("mcc").isin(*AIRLINE_MCCS), F.lit(False)
    )


def is_lodging_abroad() -> Column:
    """Outbound payment to a hotel or lodging outside the residence country (O11)."""
    mcc = _mcc_number()
    low, high = LODGING_MCC_RANGE
    lodging = F.coalesce(mcc.between(low, high) | F.col("mcc").isin(*LODGING_MCCS), F.lit(False))
    return (
        (F.col("direction") == "out")
        & lodging
        & (F.col("counterparty_country") != F.col("residence_country"))
    )


def is_cash_in_destination() -> Column:
    """Cash withdrawn (ATM MCC 6011 or the cash channel, not a p2p payee) in a source country abroad (O11)."""
    atm = F.coalesce(F.col("mcc").isin(*ATM_MCCS), F.lit(False))
    return (
        (F.col("direction") == "out")
        & atm
        & F.col("counterparty_country").isin(*SOURCE_COUNTRIES)
        & (F.col("counterparty_country") != F.col("residence_country"))
    )


def destination_group(country: str = "counterparty_country") -> Column:
    """'ph', 'source' (TH, CO, DO, MX, GH, RO) or 'other' for a payment's destination country."""
    return (
        F.when(F.col(country) == PRIMARY_DESTINATION, F.lit("ph"))
        .when(F.col(country).isin(*OTHER_SOURCE_COUNTRIES), F.lit("source"))
        .otherwise(F.lit("other"))
    )


def surname(name: str) -> Column:
    """Last word of a name, lower case, letters only: a rough family-name key for 'related' tests."""
    cleaned = F.lower(F.regexp_replace(F.trim(F.col(name)), r"[^\p{L}\s'-]", ""))
    last = F.element_at(F.split(F.trim(cleaned), r"\s+"), -1)
    return F.when(F.length(last) > 0, last)
