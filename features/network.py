"""Recipient-side features (typology F1-F5): payee clusters across all senders, and each customer's links.

`cluster_table` describes every payee cluster (from `bantay.features.payees.resolve_clusters`): how many
members, how many distinct senders from how many countries paid it in the last quarter, how much of it was
collected in cash, where it is, and how many confirmed payers paid it. `customer_network_features` turns that
into per-customer columns.

Point in time: only payments with `booking_date < as_of` and labels with `decided_at < as_of` are used (both
filtered here again, whatever the caller passed). A customer's own label never feeds its own features: the
confirmed-risk of a cluster is recomputed for each customer with that customer's own label taken out.

Innocent twins (popular sellers, parishes, agencies) are paid by many unrelated senders and share phones and
wallets too, so the sender counts here are not evidence alone; the confirmed-risk columns and the combination
with the sender-side features are what separate them.

Hubs: a cluster paid by more distinct senders in the year than `hub_senders` allows (a share of all the
book's senders of the year, never fewer than `HUB_MIN_SENDERS`) is a hub: a crypto exchange, a money-service
business, a merchant or a popular seller, not a facilitator. A facilitator cluster is a few people paid by a
few senders; an exchange that 370 customers buy from is paid by some confirmed cases too, and would otherwise
make every customer buying there look like one who "pays a cluster confirmed cases paid". The cluster table
keeps hubs with their facts and `is_hub`; the customers' F1-F5 columns leave payments to hubs out, and the SAR
drafts (`bantay.sar.grounds`) never state a cluster ground from a hub. Point in time: the counts are those of
the payments before `as_of`, as every other column here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bantay import ledger
from bantay.features.common import FeatureSpec
from bantay.features.payees import fold_text

# F1 counts senders "a quarter" (AUSTRAC, AMLC); the other cluster facts use the whole look-back year.
QUARTER_DAYS = 90
YEAR_DAYS = 365
# Confirmed-risk of a cluster = confirmed payers / (distinct senders + RISK_PSEUDO_SENDERS): shrinks a cluster
# with one sender who happens to be confirmed (1/3) below one where 3 of 4 senders are (3/6).
RISK_PSEUDO_SENDERS = 2.0
# Hubs (see the module docstring): a cluster paid by more than `HUB_SENDER_SHARE` of the customers who paid
# anyone abroad in the year, and by more than `HUB_MIN_SENDERS` of them. One in a hundred of a bank's senders
# abroad paying one person is a business, whatever the bank's size; the floor keeps a small book (or a
# bank's first weeks) from calling a facilitator paid by a dozen offenders a hub. Settings.hub_sender_share
# overrides the share.
HUB_SENDER_SHARE = 0.01
HUB_MIN_SENDERS = 50

# F4: where facilitators are (AMLC, DSWD): Metro Manila about 30%, Pampanga / Central Luzon 25%,
# Cebu / Central Visayas 25%, Zamboanga 10%. Cities and provinces (normalised as `fold_text` does) by PSGC
# administrative region. "san fernando" is taken as San Fernando, Pampanga (the Central Luzon regional
# centre); San Fernando, La Union (Ilocos) needs its province written out and then falls into "PH-other".
PH_REGION_CITIES: dict[str, tuple[str, ...]] = {
    "PH-NCR": (
        "metro manila", "manila", "ncr", "quezon city", "makati", "makati city", "pasig", "pasig city",
        "taguig", "taguig city", "caloocan", "caloocan city", "pasay", "pasay city", "paranaque",
        "paranaque city", "las pinas", "las pinas city", "muntinlupa", "muntinlupa city", "mandaluyong",
        "mandaluyong city", "marikina", "marikina city", "valenzuela", "valenzuela city", "malabon",
        "navotas", "san juan", "san juan city", "pateros", "tondo", "sampaloc", "ermita", "binondo", "cubao",
    ),
    "PH-Central Luzon": (
        "central luzon", "pampanga", "angeles", "angeles city", "san fernando", "san fernando pampanga",
        "city of san fernando", "mabalacat", "mabalacat city", "clark", "guagua", "porac", "mexico", "lubao",
        "apalit", "bulacan", "malolos", "malolos city", "meycauayan", "san jose del monte", "marilao",
        "bocaue", "tarlac", "tarlac city", "nueva ecija", "cabanatuan", "cabanatuan city", "gapan",
        "palayan", "san jose city", "zambales", "olongapo", "olongapo city", "subic", "bataan", "balanga",
        "balanga city", "mariveles", "aurora", "baler",
    ),
    "PH-Central Visayas": (
        "central visayas", "cebu", "cebu city", "mandaue", "mandaue city", "lapu lapu", "lapulapu",
        "lapu lapu city", "lapulapu city", "talisay cebu", "minglanilla", "consolacion", "liloan", "danao",
        "danao city", "toledo city", "carcar", "bogo", "bohol", "tagbilaran", "tagbilaran city",
        "negros oriental", "dumaguete", "dumaguete city", "bais", "siquijor",
    ),
    "PH-Zamboanga Peninsula": (
        "zamboanga peninsula", "zamboanga", "zamboanga city", "zamboanga del norte", "zamboanga del sur",
        "zamboanga sibugay", "dipolog", "dipolog city", "dapitan", "dapitan city", "pagadian",
        "pagadian city", "ipil",
    ),
}
PH_FOCUS_REGIONS = tuple(PH_REGION_CITIES)
PH_OTHER_REGION = "PH-other"

_CONFIRMED = "confirmed payers (latest label 1, decided before the as-of date)"
_PAYMENTS = "the customer's p2p payments"
NETWORK_FEATURES: tuple[FeatureSpec, ...] = (
    # F1 many unrelated foreign senders to one recipient cluster
    FeatureSpec("share_pay_shared_cluster_90d", "F1",
                f"share of {_PAYMENTS} going to a payee cluster another customer also paid in the window",
                90, "share"),
    FeatureSpec("share_pay_shared_cluster_365d", "F1",
                f"share of {_PAYMENTS} going to a payee cluster another customer also paid in the window",
                365, "share"),
    FeatureSpec("max_other_senders_cluster_90d", "F1",
                "most distinct other customers paying one payee cluster the customer paid", 90, "count"),
    FeatureSpec("sum_other_senders_cluster_90d", "F1",
                "distinct other customers paying each payee cluster the customer paid, summed over clusters",
                90, "count"),
    FeatureSpec("max_sender_countries_cluster_90d", "F1",
                "most distinct sender residence countries of one payee cluster the customer paid", 90,
                "count"),
    # F2 family-run collection: several payees linked by phone, account, address or surname + town
    FeatureSpec("max_members_cluster_365d", "F2",
                "most payees (beneficiary records) in one payee cluster the customer paid", 365, "count"),
    FeatureSpec("share_pay_multi_member_cluster_365d", "F2",
                f"share of {_PAYMENTS} going to a payee cluster of 2 or more linked payees", 365, "share"),
    # F3 quick cash-out
    FeatureSpec("cash_pickup_share_clusters_365d", "F3",
                "cash pick-up share (cash channel, or remittance to a payee without an account number) of "
                "the payee clusters paid, weighted by the customer's payments to each", 365, "share"),
    # F4 where recipients are
    FeatureSpec("share_pay_ph_focus_region_365d", "F4",
                f"share of {_PAYMENTS} to payees in Metro Manila, Central Luzon, Central Visayas or the "
                "Zamboanga Peninsula", 365, "share"),
    # F5 shared facilitators: propagation of confirmed cases through payee clusters
    FeatureSpec("n_pay_confirmed_cluster_365d", "F5",
                f"{_PAYMENTS} to payee clusters also paid by {_CONFIRMED} other than the customer", 365,
                "count", monotone=1),
    FeatureSpec("max_confirmed_risk_cluster_365d", "F5",
                "highest confirmed-risk of the payee clusters paid: confirmed payers other than the customer"
                f" / (distinct senders + {RISK_PSEUDO_SENDERS:g})", 365, "ratio", monotone=1),
    # A customer who pays dozens of popular sellers meets a (possibly wrongly) confirmed payer somewhere; one
    # who puts most payments into a cluster that confirmed payers use is exposed: weight by payments.
    FeatureSpec("pay_weighted_confirmed_risk_365d", "F5",
                "confirmed-risk (as above, without the customer's own label) of the payee clusters paid, "
                "averaged over the customer's p2p payments", 365, "ratio", monotone=1),
)


def _window(days: int) -> Column:
    """`as_of - days <= booking_date < as_of`, each row against its own `as_of` column."""
    booked = F.col("booking_date")
    return (booked >= F.date_sub(F.col("as_of"), days)) & (booked < F.col("as_of"))


def _at(frame: DataFrame, as_of: date) -> DataFrame:
    """`frame` scoped to the one date `as_of` (a literal `as_of` column, which Spark folds into constants)."""
    return frame.withColumn("as_of", F.lit(as_of))


def payment_region(city: str = "counterparty_city", country: str = "counterparty_country") -> Column:
    """F4 region of a payee: 'PH-NCR', 'PH-Central Luzon', 'PH-Central Visayas', 'PH-Zamboanga Peninsula',
    'PH-other' in the Philippines (by `PH_REGION_CITIES`), elsewhere the country code."""
    pairs = [(name, region) for region, names in PH_REGION_CITIES.items() for name in names]
    regions = F.create_map(*[F.lit(value) for pair in pairs for value in pair])
    ph_region = F.coalesce(regions[fold_text(F.col(city))], F.lit(PH_OTHER_REGION))
    return F.when(F.upper(F.col(country)) == "PH", ph_region).otherwise(F.upper(F.col(country)))


def is_cash_pickup() -> Column:
    """Collected in cash: the cash channel, or a remittance to a payee without an account number (F3)."""
    no_account = F.coalesce(F.trim(F.col("counterparty_account")), F.lit("")) == ""
    return (F.col("channel") == "cash") | ((F.col("channel") == "remittance") & no_account)


def confirmed_payers(labels: DataFrame, as_of: date) -> DataFrame:
    """`customer_id, confirmed` (1 or 0): each customer's latest label decided before `as_of` (UTC)."""
    return _latest_label(labels.where(F.col("decided_at") < F.lit(ledger.day_start(as_of))), [])


def confirmed_payers_at(labels: DataFrame, dates: Sequence[date]) -> DataFrame:
    """`as_of, customer_id, confirmed`: `confirmed_payers(labels, as_of)` for every as_of of `dates`."""
    spark = labels.sparkSession
    grid = spark.createDataFrame([(day,) for day in sorted(set(dates))], "as_of date")
    decided = ledger.before_day(F.col("decided_at"), F.col("as_of"))
    before = labels.join(F.broadcast(grid), decided, how="inner")
    return _latest_label(before, ["as_of"])


def _latest_label(labels: DataFrame, keys: list[str]) -> DataFrame:
    return (
        labels.where(F.col("customer_id").isNotNull())
        .groupBy(*keys, "customer_id")
        # Latest decision wins (a case reopened and cleared); ties by the higher label, to stay deterministic.
        # A null label is a withdrawal (a reopened case's): the customer then has no label.
        .agg(F.max_by("label", F.struct("decided_at", "label")).alias("label"))
        .where(F.col("label").isNotNull())
        .select(*keys, "customer_id", (F.col("label") == 1).cast("int").alias("confirmed"))
    )


def _payments(p2p: DataFrame, clusters: DataFrame) -> DataFrame:
    """The year's p2p payments before each row's `as_of` with their cluster of that date (a payee missing
    from `clusters` is its own cluster). Both frames carry `as_of`."""
    return (
        p2p.where(_window(YEAR_DAYS))
        .join(clusters.select("as_of", "counterparty_id", "cluster_id"), on=["as_of", "counterparty_id"],
              how="left")
        .select(
            "as_of",
            "customer_id",
            "residence_country",
            "amount_usd",
            F.coalesce("cluster_id", "counterparty_id").alias("cluster_id"),
            _window(QUARTER_DAYS).alias("in_quarter"),
            is_cash_pickup().alias("cash_pickup"),
            payment_region().alias("region"),
        )
    )


def hub_senders(
    book_senders: Column, share: float = HUB_SENDER_SHARE, floor: int = HUB_MIN_SENDERS
) -> Column:
    """The most distinct senders a facilitator cluster can have in the year: `share` of `book_senders` (the
    customers who paid anyone abroad in the year), at least `floor`. A cluster paid by more is a hub."""
    return F.greatest(F.lit(float(floor)), F.lit(share) * book_senders)


def cluster_table(
    p2p: DataFrame,
    clusters: DataFrame,
    labels: DataFrame,
    as_of: date,
    hub_share: float = HUB_SENDER_SHARE,
    hub_floor: int = HUB_MIN_SENDERS,
) -> DataFrame:
    """One row per cluster_id: members and what its payments and payers looked like before `as_of`.

    `cluster_table_at` for the one date `as_of` (without its `as_of` column); `clusters`: counterparty_id,
    cluster_id.
    """
    confirmed = _at(confirmed_payers(labels, as_of), as_of)
    scoped = cluster_table_at(_at(p2p, as_of), _at(clusters, as_of), confirmed, hub_share, hub_floor)
    return scoped.drop("as_of")


def cluster_table_at(
    p2p: DataFrame,
    clusters: DataFrame,
    confirmed: DataFrame,
    hub_share: float = HUB_SENDER_SHARE,
    hub_floor: int = HUB_MIN_SENDERS,
) -> DataFrame:
    """One row per (as_of, cluster_id): members and what its payments and payers looked like before as_of.

    Every frame carries `as_of` (one scope per date: the payments before it, its clusters, its confirmed
    payers from `confirmed_payers_at`), so the clusters of many dates are described in one pass.

    Columns: cluster_id, n_members, n_senders_90d, n_sender_countries_90d (residence countries),
    n_payments_90d, amount_usd_90d, n_senders_365d, n_payments_365d, share_cash_pickup_365d (null when not
    paid), region (most paid region; null when not paid), n_confirmed_payers_365d, confirmed_risk_365d
    (= n_confirmed_payers_365d / (n_senders_365d + RISK_PSEUDO_SENDERS)), is_hub (n_senders_365d above
    `hub_senders` of that date's senders in the year, with `hub_share` and `hub_floor`). Every cluster of
    `clusters` has a row, plus any paid payee missing from it (as a cluster of one).
    """
    quarter = F.col("in_quarter")

    def n_distinct(column: Column) -> Column:
        # One aggregation pass for all distinct counts (count_distinct of several columns expands every row).
        return F.size(F.collect_set(column))

    payments = _payments(p2p, clusters)
    # Everyone who paid anyone abroad in the year before each date: the book the hub threshold is a share of.
    book = payments.groupBy("as_of").agg(n_distinct(F.col("customer_id")).alias("n_book_senders"))
    paid = (
        payments
        .join(F.broadcast(confirmed), on=["as_of", "customer_id"], how="left")
        .groupBy("as_of", "cluster_id")
        .agg(
            n_distinct(F.when(quarter, F.col("customer_id"))).alias("n_senders_90d"),
            n_distinct(F.when(quarter, F.col("residence_country"))).alias("n_sender_countries_90d"),
            F.count(F.when(quarter, True)).alias("n_payments_90d"),
            F.sum(F.when(quarter, F.col("amount_usd"))).alias("amount_usd_90d"),
            n_distinct(F.col("customer_id")).alias("n_senders_365d"),
            F.count("*").alias("n_payments_365d"),
            F.avg(F.col("cash_pickup").cast("double")).alias("share_cash_pickup_365d"),
            F.mode("region", deterministic=True).alias("region"),
            n_distinct(F.when(F.col("confirmed") == 1, F.col("customer_id"))).alias(
                "n_confirmed_payers_365d"
            ),
        )
    )
    # counterparty_id is unique in `clusters` within a date (one row per payee).
    members = clusters.groupBy("as_of", "cluster_id").agg(F.count("*").alias("n_members"))

    def count(name: str) -> Column:
        return F.coalesce(F.col(name), F.lit(0)).cast("long").alias(name)

    n_confirmed = F.coalesce(F.col("n_confirmed_payers_365d"), F.lit(0))
    senders = F.coalesce(F.col("n_senders_365d"), F.lit(0))
    hub = senders > hub_senders(F.coalesce(F.col("n_book_senders"), F.lit(0)), hub_share, hub_floor)
    return members.join(paid, on=["as_of", "cluster_id"], how="full").join(
        F.broadcast(book), on="as_of", how="left"
    ).select(
        "as_of",
        "cluster_id",
        F.coalesce("n_members", F.lit(1)).cast("long").alias("n_members"),
        count("n_senders_90d"),
        count("n_sender_countries_90d"),
        count("n_payments_90d"),
        F.coalesce("amount_usd_90d", F.lit(0.0)).cast("double").alias("amount_usd_90d"),
        count("n_senders_365d"),
        count("n_payments_365d"),
        F.col("share_cash_pickup_365d").cast("double"),
        "region",
        count("n_confirmed_payers_365d"),
        (n_confirmed / (senders + F.lit(RISK_PSEUDO_SENDERS))).alias("confirmed_risk_365d"),
        hub.alias("is_hub"),
    )


def customer_network_features(
    p2p: DataFrame, clusters: DataFrame, cluster_table: DataFrame, labels: DataFrame, as_of: date
) -> DataFrame:
    """`customer_network_features_at` for the one date `as_of` (without its `as_of` column)."""
    scoped = customer_network_features_at(
        _at(p2p, as_of),
        _at(clusters, as_of),
        _at(cluster_table, as_of),
        _at(confirmed_payers(labels, as_of), as_of),
    )
    return scoped.drop("as_of")


def customer_network_features_at(
    p2p: DataFrame,
    clusters: DataFrame,
    cluster_table: DataFrame,
    confirmed: DataFrame,
    customers: DataFrame | None = None,
) -> DataFrame:
    """`customer_id` + `NETWORK_FEATURES` columns (doubles), for each customer with a p2p payment in the year.

    One row per (as_of, customer_id); every frame carries `as_of` (see `cluster_table_at`). `cluster_table`
    must come from `cluster_table_at(p2p, clusters, confirmed)` with the same arguments: the customer's own
    share of each cluster's counts is taken out here. Payments to hubs (`is_hub`) are left out: they are no
    payee cluster's, so a customer who paid only hubs has no row (its columns are null, as for a customer
    without p2p payments). Counts are 0 and shares null when the customer made no such payment in that
    window. `customers` (`as_of, customer_id`), when given, limits the rows to those.
    """
    quarter = F.col("in_quarter")
    payments = _payments(p2p, clusters)
    if customers is not None:
        wanted = customers.select("as_of", "customer_id").distinct()
        payments = payments.join(wanted, on=["as_of", "customer_id"], how="left_semi")
    per_cluster = (
        payments
        .withColumn("focus_region", F.col("region").isin(*PH_FOCUS_REGIONS))
        .groupBy("as_of", "customer_id", "cluster_id")
        .agg(
            F.count(F.when(quarter, True)).alias("n_90d"),
            F.count("*").alias("n_365d"),
            F.count(F.when(F.col("focus_region"), True)).alias("n_focus_365d"),
        )
        .join(cluster_table, on=["as_of", "cluster_id"], how="left")
        .where(~F.coalesce(F.col("is_hub"), F.lit(False)))
        .join(F.broadcast(confirmed), on=["as_of", "customer_id"], how="left")
    )
    own_confirmed = F.coalesce(F.col("confirmed"), F.lit(0))
    # The customer is one of the cluster's senders in every window where it paid the cluster; take it out.
    other_90d = F.when(F.col("n_90d") > 0, F.greatest(F.col("n_senders_90d") - 1, F.lit(0)))
    other_365d = F.greatest(F.col("n_senders_365d") - 1, F.lit(0))
    other_confirmed = F.greatest(F.col("n_confirmed_payers_365d") - own_confirmed, F.lit(0))
    risk_without_own = other_confirmed / (F.col("n_senders_365d") + F.lit(RISK_PSEUDO_SENDERS))

    n_90d, n_365d = F.sum("n_90d"), F.sum("n_365d")

    def share(part: Column, total: Column) -> Column:
        return F.when(total > 0, part / total)

    features = per_cluster.groupBy("as_of", "customer_id").agg(
        share(F.sum(F.when(other_90d > 0, F.col("n_90d")).otherwise(0)), n_90d)
        .alias("share_pay_shared_cluster_90d"),
        share(F.sum(F.when(other_365d > 0, F.col("n_365d")).otherwise(0)), n_365d)
        .alias("share_pay_shared_cluster_365d"),
        F.coalesce(F.max(other_90d), F.lit(0)).alias("max_other_senders_cluster_90d"),
        F.coalesce(F.sum(other_90d), F.lit(0)).alias("sum_other_senders_cluster_90d"),
        F.coalesce(F.max(F.when(F.col("n_90d") > 0, F.col("n_sender_countries_90d"))), F.lit(0))
        .alias("max_sender_countries_cluster_90d"),
        F.max("n_members").alias("max_members_cluster_365d"),
        share(F.sum(F.when(F.col("n_members") >= 2, F.col("n_365d")).otherwise(0)), n_365d)
        .alias("share_pay_multi_member_cluster_365d"),
        share(F.sum(F.col("n_365d") * F.col("share_cash_pickup_365d")), n_365d)
        .alias("cash_pickup_share_clusters_365d"),
        share(F.sum("n_focus_365d"), n_365d).alias("share_pay_ph_focus_region_365d"),
        F.sum(F.when(other_confirmed > 0, F.col("n_365d")).otherwise(0))
        .alias("n_pay_confirmed_cluster_365d"),
        F.max(risk_without_own).alias("max_confirmed_risk_cluster_365d"),
        share(F.sum(F.col("n_365d") * risk_without_own), n_365d).alias("pay_weighted_confirmed_risk_365d"),
    )
    return features.select(
        "as_of",
        "customer_id",
        *[F.col(spec.name).cast("double").alias(spec.name) for spec in NETWORK_FEATURES],
    )
