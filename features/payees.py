"""Payee entity resolution: normalised payee attributes, a payee registry, and payee clusters.

"New payee clusters" (typology F2 + F5) are payees that look unrelated by name but share a phone, a wallet or
account number, an address, or a surname in the same town: a family collecting in turns, or one facilitator
using several beneficiary records. `resolve_clusters` links them with a Spark-native connected-components
algorithm (min-label propagation over a star-shaped edge list), so a large graph never goes to the driver;
an edge list of at most `DRIVER_EDGES_LIMIT` rows is solved on the driver instead (SciPy's
`connected_components`, one Spark job instead of one per propagation round), with the same cluster ids.
`update_clusters` gives the same clusters from an earlier result, re-resolving only what changed since.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from bantay.features.common import is_cross_border_p2p

logger = logging.getLogger(__name__)

# Accented letters by their ASCII base letter, for F.translate (one character to one character). Covers
# Spanish and Filipino (ñ), Romanian (ă â î ș ț and the cedilla forms ş ţ), Nordic, German, French,
# Portuguese, Polish, Czech and Vietnamese letters that show up in beneficiary names. Decomposed accents
# (a letter followed by a combining mark) lose the mark with the rest of the punctuation.
_FOLDS = {
    "a": "àáâãäåāăąǎạảấầẩẫậắằẳẵặ",
    "c": "çćĉċč",
    "d": "ďđ",
    "e": "èéêëēĕėęěẹẻẽếềểễệ",
    "i": "ìíîïĩīĭįıǐịỉ",
    "l": "ł",
    "n": "ñńņň",
    "o": "òóôõöøōŏőǒọỏốồổỗộớờởỡợơ",
    "s": "šśŝşș",
    "t": "ťţț",
    "u": "ùúûüũūŭůűųǔụủứừửữựư",
    "y": "ýÿŷỳỵỷỹ",
    "z": "žźż",
}
_ACCENTED = "".join(_FOLDS.values())
_ASCII = "".join(base * len(letters) for base, letters in _FOLDS.items())

# Letters that fold to two ASCII letters cannot go through translate; they are replaced first.
_LIGATURES = {"ß": "ss", "æ": "ae", "œ": "oe", "þ": "th"}

# Generational suffixes are not surnames: "Juan Dela Cruz Jr." has surname "cruz".
_NAME_SUFFIXES = ("jr", "sr", "ii", "iii", "iv")

# Calling code and national trunk prefix for the contract's countries: the destinations of typology O1
# (PH, TH, CO, DO, MX, GH, RO), the senders' countries (O10: GB, US, AU, CA, SE and the EU), and the common
# diaspora corridors. Trunk prefix None: national numbers are dialled as they are (IT keeps its leading 0).
# Source: ITU-T E.164 assigned country codes and national numbering plans.
CALLING_CODES: dict[str, tuple[str, str | None]] = {
    "PH": ("63", "0"),
    "TH": ("66", "0"),
    "CO": ("57", None),   # 10-digit closed plan since 2021
    "DO": ("1", "1"),     # North American Numbering Plan
    "MX": ("52", None),   # 10-digit closed plan since 2019
    "GH": ("233", "0"),
    "RO": ("40", "0"),
    "GB": ("44", "0"),
    "US": ("1", "1"),
    "CA": ("1", "1"),
    "AU": ("61", "0"),
    "NZ": ("64", "0"),
    "SE": ("46", "0"),
    "NO": ("47", None),
    "DK": ("45", None),
    "FI": ("358", "0"),
    "DE": ("49", "0"),
    "FR": ("33", "0"),
    "NL": ("31", "0"),
    "BE": ("32", "0"),
    "IE": ("353", "0"),
    "ES": ("34", None),
    "IT": ("39", None),
    "PT": ("351", None),
    "CH": ("41", "0"),
    "AT": ("43", "0"),
    "PL": ("48", None),
    "VN": ("84", "0"),
    "ID": ("62", "0"),
    "MY": ("60", "0"),
    "IN": ("91", "0"),
    "KE": ("254", "0"),
    "NG": ("234", "0"),
    "AE": ("971", "0"),
    "SG": ("65", None),
    "HK": ("852", None),
    "JP": ("81", "0"),
}
# Fewer digits than this in all, calling code included, is not a phone number (placeholders such as "0").
_MIN_PHONE_DIGITS = 8
# A number that already starts with its calling code and has at least this many more digits was written in
# international form without the "+" (e.g. "639171234567"); shorter ones are national numbers without a trunk.
_MIN_NSN_AFTER_CODE = 9

# Account or wallet values that mean "unknown": they must not link payees.
_ACCOUNT_PLACEHOLDERS = ("NA", "NONE", "NULL", "UNKNOWN", "CASH", "CASHPICKUP", "0")

# Surname + town is weak evidence: a family runs 2-6 collectors (IJM, AMLC). A surname shared by more payees
# than this in one town is a common name (Santos in Quezon City), not a family, and is not used as a link.
MAX_SURNAME_CITY_GROUP = 8

# The registry columns that `link_edges` reads.
_LINK_COLUMNS = ("counterparty_country", "surname_norm", "phone_e164", "account_norm", "city_norm",
                 "address_norm")

_ITERATIONS_PER_CHECKPOINT = 3
_MAX_ITERATIONS = 60
# Up to this many edges (both directions) the components are found on the driver: a few tens of MB of ids,
# solved in well under a second, where each propagation round costs a few Spark jobs.
DRIVER_EDGES_LIMIT = 1_000_000


def fold_text(column: Column) -> Column:
    """Lower case, diacritics folded, punctuation dropped, hyphens and runs of spaces as one space."""
    text = F.lower(F.trim(column))
    for letter, ascii_letters in _LIGATURES.items():
        text = F.replace(text, F.lit(letter), F.lit(ascii_letters))
    text = F.translate(text, _ACCENTED, _ASCII)
    # Separators split words ("Santos-Reyes" -> "santos reyes"); other punctuation goes ("O'Neil" -> "oneil").
    text = F.regexp_replace(text, r"[-_/,;:|]+", " ")
    text = F.regexp_replace(text, r"[^a-z0-9 ]", "")
    text = F.trim(F.regexp_replace(text, r"\s+", " "))
    return F.when(text != "", text)


def _surname(name_norm: Column) -> Column:
    tokens = F.split(name_norm, " ")
    last = F.element_at(tokens, -1)
    before_last = F.element_at(tokens, -2)
    has_suffix = last.isin(*_NAME_SUFFIXES) & (F.size(tokens) >= 2)
    return F.when(name_norm.isNotNull(), F.when(has_suffix, before_last).otherwise(last))


def _phone_e164(phone: Column, country: Column) -> Column:
    """E.164 ("+" and digits) from international ("+63-917...", "0063 917...") or national ("0917 ...") forms.

    National numbers take the calling code of the payee's country; unknown countries give null (no link).
    """
    raw = F.regexp_replace(F.trim(phone), r"\(0\)", "")  # "+44 (0)20 ..." carries the trunk 0 in brackets
    digits = F.regexp_replace(raw, r"[^0-9]", "")
    codes = F.create_map(*[F.lit(v) for iso, (code, _) in CALLING_CODES.items() for v in (iso, code)])
    trunks = F.create_map(
        *[F.lit(v) for iso, (_, trunk) in CALLING_CODES.items() if trunk for v in (iso, trunk)]
    )
    code = codes[F.upper(country)]
    trunk = trunks[F.upper(country)]
    # Every trunk prefix in the table is one digit.
    has_trunk = trunk.isNotNull() & digits.startswith(trunk)
    without_trunk = F.when(has_trunk, F.substring(digits, 2, 64)).otherwise(digits)
    written_with_code = digits.startswith(code) & (F.length(digits) >= F.length(code) + _MIN_NSN_AFTER_CODE)
    national = F.when(code.isNotNull() & written_with_code, digits).when(
        code.isNotNull(), F.concat(code, without_trunk)
    )
    international = (
        F.when(raw.startswith("+"), digits)
        .when(digits.startswith("00"), F.substring(digits, 3, 64))
        .when(digits.startswith("011") & (code == "1"), F.substring(digits, 4, 64))  # NANP exit code
        .otherwise(national)
    )
    e164 = F.when(F.length(international) >= _MIN_PHONE_DIGITS, F.concat(F.lit("+"), international))
    # Placeholders made of one repeated digit ("0000000", "9999999") are not phone numbers.
    return F.when(~F.regexp_like(F.coalesce(digits, F.lit("")), F.lit(r"^(\d)\1*$")), e164)


def normalise_payees(frame: DataFrame) -> DataFrame:
    """Add `name_norm`, `surname_norm`, `phone_e164`, `account_norm`, `city_norm` (and `address_norm`).

    Reads `counterparty_name`, `counterparty_phone`, `counterparty_account`, `counterparty_city`,
    `counterparty_country` and, when the ledger has it, the optional `counterparty_address`. Values that
    cannot be normalised (empty, placeholders, unknown calling codes) become null: they never link payees.
    """
    name_norm = fold_text(F.col("counterparty_name"))
    account = F.regexp_replace(F.upper(F.col("counterparty_account")), r"[^A-Z0-9]", "")
    account_norm = F.when((account != "") & ~account.isin(*_ACCOUNT_PLACEHOLDERS), account)
    address_norm = (
        fold_text(F.col("counterparty_address")) if "counterparty_address" in frame.columns else F.lit(None)
    ).cast("string")
    return (
        frame.withColumn("name_norm", name_norm)
        .withColumn("surname_norm", _surname(F.col("name_norm")))
        .withColumn("phone_e164", _phone_e164(F.col("counterparty_phone"), F.col("counterparty_country")))
        .withColumn("account_norm", account_norm)
        .withColumn("city_norm", fold_text(F.col("counterparty_city")))
        .withColumn("address_norm", address_norm)
    )


def payee_registry(txns: DataFrame, scope: str | None = None) -> DataFrame:
    """One row per payee (`counterparty_id`) of outbound cross-border person-to-person payments.

    Columns: counterparty_id, counterparty_country, name_norm, surname_norm, phone_e164, account_norm,
    city_norm, address_norm (each the latest non-null value by `booked_at`, ties by `txn_id`), first_seen_date
    and last_seen_date (min and max booking_date). The caller bounds `txns` in time (booking_date < as_of).
    With `scope` (a column of `txns`), one row per payee and scope value, led by that column.
    """
    payments = normalise_payees(txns.where(is_cross_border_p2p()))
    attributes = ("counterparty_country", "name_norm", "surname_norm", "phone_e164", "account_norm",
                  "city_norm", "address_norm")
    order = F.struct("booked_at", "txn_id")
    keys = [scope, "counterparty_id"] if scope else ["counterparty_id"]
    return (
        payments.groupBy(*keys)
        .agg(
            *[F.max_by(name, F.when(F.col(name).isNotNull(), order)).alias(name) for name in attributes],
            F.min("booking_date").alias("first_seen_date"),
            F.max("booking_date").alias("last_seen_date"),
        )
        .select(*keys, *attributes, "first_seen_date", "last_seen_date")
    )


def _link_keys() -> Column:
    """The link keys of a registry row, as an array (null where the attribute is missing)."""
    country = F.coalesce(F.upper(F.col("counterparty_country")), F.lit(""))
    city = F.col("city_norm")
    return F.array(
        F.when(F.col("phone_e164").isNotNull(), F.concat(F.lit("phone|"), F.col("phone_e164"))),
        F.when(F.col("account_norm").isNotNull(),
               F.concat(F.lit("account|"), country, F.lit("|"), F.col("account_norm"))),
        F.when(F.col("address_norm").isNotNull(),
               F.concat(F.lit("address|"), country, F.lit("|"), F.coalesce(city, F.lit("")), F.lit("|"),
                        F.col("address_norm"))),
        F.when(F.col("surname_norm").isNotNull() & city.isNotNull(),
               F.concat(F.lit("surname|"), country, F.lit("|"), city, F.lit("|"), F.col("surname_norm"))),
    )


def active_keys(
    registry: DataFrame, max_surname_city_group: int = MAX_SURNAME_CITY_GROUP, scope: str | None = None
) -> DataFrame:
    """`counterparty_id, key`: the keys that link payees (phone, account, address, surname + town).

    Accounts, addresses and surnames are compared within one country; phones are already global (E.164). A
    surname + town key held by more than `max_surname_city_group` payees is a common name and links nobody.
    With `scope` (a column of `registry`), each key is prefixed by its value: payees link within a scope only.
    """
    key = F.col("key")
    if scope:
        key = F.concat(F.col(scope).cast("string"), F.lit("|"), key)
    holders = (
        registry.select("counterparty_id", *([scope] if scope else []), F.explode(_link_keys()).alias("key"))
        .where(F.col("key").isNotNull())
        .withColumn("is_surname", F.col("key").startswith("surname|"))
        .withColumn("key", key)
        .withColumn("holders", F.count("*").over(Window.partitionBy("key")))
    )
    too_common = F.col("is_surname") & (F.col("holders") > max_surname_city_group)
    return holders.where(~too_common).select("counterparty_id", "key")


def _star_edges(holders: DataFrame) -> DataFrame:
    """`src, dst` both ways: every holder (`node, key`) of a key linked to the key's smallest holder (hub)."""
    hubs = holders.withColumn("hub", F.min("node").over(Window.partitionBy("key")))
    spokes = hubs.where(F.col("node") != F.col("hub")).select(
        F.col("node").alias("src"), F.col("hub").alias("dst")
    )
    return spokes.unionByName(spokes.select(F.col("dst").alias("src"), F.col("src").alias("dst"))).distinct()


def link_edges(registry: DataFrame, max_surname_city_group: int = MAX_SURNAME_CITY_GROUP) -> DataFrame:
    """Undirected links `src, dst` between payees sharing a phone, account, address or surname + town.

    Each key (`active_keys`) links its payees to one hub, the smallest counterparty_id holding it (a star, not
    all pairs): a wallet shared by 500 payees gives 499 edges, not 124,750.
    """
    holders = active_keys(registry, max_surname_city_group)
    return _star_edges(holders.select(F.col("counterparty_id").alias("node"), "key"))


def resolve_clusters(
    registry: DataFrame, checkpoint_dir: str, max_iterations: int = _MAX_ITERATIONS
) -> DataFrame:
    """`counterparty_id, cluster_id`: connected components of `link_edges`; cluster_id = smallest member id.

    Min-label propagation (`_components`). Singletons are their own cluster. The result is kept as a local
    checkpoint and this call's checkpoint files are removed before returning.
    """
    # Read twice below (edges and nodes): computed once.
    payees = registry.select("counterparty_id", *_LINK_COLUMNS).persist()
    try:
        nodes = payees.select(F.col("counterparty_id").alias("node")).distinct()
        labels = _components(nodes, link_edges(payees), checkpoint_dir, max_iterations)
    finally:
        payees.unpersist()
    return labels.select(F.col("node").alias("counterparty_id"), F.col("label").alias("cluster_id"))


def rows_at_dates(rows: DataFrame, dates: Sequence[date], lookback_days: int) -> DataFrame:
    """`rows` (with `booking_date`) once for every date of `dates` whose look-back holds them, with that
    date as `as_of`: `as_of - lookback_days <= booking_date < as_of`. One pass serves every date."""
    grid = F.array(*[F.lit(day) for day in sorted(set(dates))])
    booked = F.col("booking_date")
    return rows.withColumn(
        "as_of",
        F.explode(F.filter(grid, lambda day: (booked < day) & (booked >= F.date_sub(day, lookback_days)))),
    )


def resolve_clusters_at(
    p2p: DataFrame,
    dates: Sequence[date],
    lookback_days: int,
    checkpoint_dir: str,
    max_iterations: int = _MAX_ITERATIONS,
) -> DataFrame:
    """`as_of, counterparty_id, cluster_id`: for each of `dates`, `resolve_clusters` of the payees paid in
    the `lookback_days` before it, all in one propagation.

    Training needs the clusters as of many dates (`features_for_points`); resolving them one date at a time
    repeats the propagation's rounds, each a few Spark jobs, for every date. Here every payee and every link
    key is scoped by its date (node "D|payee", key "D|phone|..."), so no link crosses dates, and the graph of
    all dates converges in the rounds of the slowest. Within a date the smallest node is the date prefix plus
    the smallest member id: the cluster ids are exactly those of `resolve_clusters`.
    """
    if not dates:
        schema = "as_of date, counterparty_id string, cluster_id string"
        return p2p.sparkSession.createDataFrame([], schema)
    scoped = rows_at_dates(p2p, dates, lookback_days)
    node = F.concat(F.col("as_of").cast("string"), F.lit("|"), F.col("counterparty_id"))
    registry = payee_registry(scoped, scope="as_of").select(
        node.alias("counterparty_id"), "as_of", *_LINK_COLUMNS
    ).persist()
    try:
        nodes = registry.select(F.col("counterparty_id").alias("node")).distinct()
        holders = active_keys(registry, scope="as_of").select(F.col("counterparty_id").alias("node"), "key")
        labels = _components(nodes, _star_edges(holders), checkpoint_dir, max_iterations)
    finally:
        registry.unpersist()
    # Node and label share the date prefix ("YYYY-MM-DD|"); what follows it is the payee id.
    return labels.select(
        F.to_date(F.split(F.col("node"), r"\|", 2)[0]).alias("as_of"),
        F.split(F.col("node"), r"\|", 2)[1].alias("counterparty_id"),
        F.split(F.col("label"), r"\|", 2)[1].alias("cluster_id"),
    )


def update_clusters(
    registry: DataFrame,
    previous: DataFrame | None,
    checkpoint_dir: str,
    max_iterations: int = _MAX_ITERATIONS,
) -> DataFrame:
    """`counterparty_id, cluster_id, link_keys`: the clusters `resolve_clusters(registry)` gives, made faster
    by reusing `previous`.

    `link_keys` is each payee's sorted array of `active_keys`. `previous` is an earlier result of this
    function (for any date's registry, or None). A previous cluster whose payees are all still in the registry
    with the same link keys is still connected, so it enters the propagation as one node (its cluster_id, its
    smallest member); the payees of every other previous cluster and the new payees enter one by one. Every
    key then links the nodes of its holders, as in `link_edges`. The components, and so the cluster ids (the
    smallest member of each), are exactly those of `resolve_clusters`; a day that adds a few payees
    propagates over a few edges instead of the whole graph.
    """
    # The registry (normalised payments) is read for the keys and the key sets; the keys for the key sets
    # and the edges: each computed once.
    registry = registry.select("counterparty_id", *_LINK_COLUMNS).persist()
    keys = active_keys(registry).persist()
    key_sets = (
        registry.select("counterparty_id")
        .join(
            keys.groupBy("counterparty_id").agg(F.array_sort(F.collect_set("key")).alias("link_keys")),
            on="counterparty_id",
            how="left",
        )
        .select(
            "counterparty_id", F.coalesce("link_keys", F.array().cast("array<string>")).alias("link_keys")
        )
    )
    if previous is None:
        units = key_sets.select("counterparty_id", F.col("counterparty_id").alias("unit"))
    else:
        old = previous.select(
            "counterparty_id", F.col("cluster_id").alias("old_cluster"), F.col("link_keys").alias("old_keys")
        )
        compared = key_sets.join(old, on="counterparty_id", how="full")
        # A previous cluster breaks up when one of its payees left the registry or its link keys changed.
        broken = (
            compared.where(
                F.col("old_cluster").isNotNull() & ~F.col("link_keys").eqNullSafe(F.col("old_keys"))
            )
            .select("old_cluster", F.lit(True).alias("broken"))
            .distinct()
        )
        whole = F.col("old_cluster").isNotNull() & F.col("broken").isNull()
        units = (
            compared.where(F.col("link_keys").isNotNull())
            .join(broken, on="old_cluster", how="left")
            .select("counterparty_id", F.when(whole, F.col("old_cluster")).otherwise(F.col("counterparty_id"))
                    .alias("unit"))
        )
    units = units.persist()  # read for the nodes, the edges and the result
    try:
        holders = (
            keys.join(units, on="counterparty_id", how="inner")
            .select(F.col("unit").alias("node"), "key")
            .distinct()
        )
        nodes = units.select(F.col("unit").alias("node")).distinct()
        # The result below is materialised before `units` is released: the labels need not be on their own.
        labels = _components(nodes, _star_edges(holders), checkpoint_dir, max_iterations, keep=False)
        return (
            units.join(labels, units["unit"] == labels["node"], how="inner")
            .select("counterparty_id", F.col("label").alias("cluster_id"))
            .join(key_sets, on="counterparty_id", how="inner")
            .localCheckpoint(eager=True)
        )
    finally:
        units.unpersist()
        keys.unpersist()
        registry.unpersist()


def _components(
    nodes: DataFrame, edges: DataFrame, checkpoint_dir: str, max_iterations: int, keep: bool = True
) -> DataFrame:
    """`node, label`: connected components of `edges` (`src, dst`, both ways) over `nodes`; label = min node.

    Min-label propagation: every node starts with its own id as label and repeatedly takes the smallest
    label among itself and its neighbours, then the label of its label (pointer jumping, so that long chains
    converge in a logarithmic number of rounds). It stops when a round changes no label. Labels are
    checkpointed under `checkpoint_dir` every few rounds so that the plan does not grow with the rounds; the
    result is kept as a local checkpoint (unless `keep` is False and the edges are few: the caller then
    materialises what it builds on the labels) and this call's checkpoint files are removed before returning.
    Edge lists of at most `DRIVER_EDGES_LIMIT` rows are solved on the driver (`_components_on_driver`).
    Measured (`benchmarks/features.py`, 20k customers, 180 days, local[2]): the network step took 12.0 s
    instead of 16.4 s in a full build (5,393 linked payees) and 9.9 s instead of 15.1 s on an incremental day.
    """
    spark = nodes.sparkSession
    context = spark.sparkContext
    context.setCheckpointDir(checkpoint_dir)
    run_dir = context.getCheckpointDir()  # checkpoint_dir/<uuid>: this call's own folder
    persisted: list[DataFrame] = []
    try:
        # A local checkpoint computes the edges once and cuts their lineage for the rounds below; a reliable
        # checkpoint would compute them twice (once to count, once to write the files).
        edges = edges.localCheckpoint(eager=True)
        if edges.count() <= DRIVER_EDGES_LIMIT:
            return _components_on_driver(nodes, edges, keep)
        labels = nodes.withColumn("label", F.col("node")).checkpoint(eager=True)
        for iteration in range(1, max_iterations + 1):
            checkpoint = iteration % _ITERATIONS_PER_CHECKPOINT == 0
            stored, changed = _propagate(edges, labels, checkpoint)
            for frame in persisted:  # the round before is materialised in `stored` now
                frame.unpersist()
            persisted = [stored]
            labels = stored.select("node", "label")
            if changed == 0:
                logger.info("payee clusters converged after %d rounds", iteration)
                return labels.localCheckpoint(eager=True)
        raise RuntimeError(f"payee clustering did not converge in {max_iterations} rounds")
    finally:
        for frame in persisted:
            frame.unpersist()
        if run_dir:
            _delete_folder(spark, run_dir)


def _components_on_driver(nodes: DataFrame, edges: DataFrame, keep: bool = True) -> DataFrame:
    """`_components` for a small edge list: the edges come to the driver, SciPy finds the components, and
    each linked node's label (the smallest node of its component) goes back as a small table; a node without
    an edge is its own label. The same labels as the propagation. `keep`: local-checkpoint the result."""
    # The edges hold each link both ways; one way is enough for an undirected graph.
    frame: pd.DataFrame = edges.where(F.col("src") < F.col("dst")).select("src", "dst").toPandas()
    codes, names = pd.factorize(pd.concat([frame["src"], frame["dst"]], ignore_index=True))
    count, size = len(frame), len(names)
    graph = coo_matrix((np.ones(count, dtype=np.int32), (codes[:count], codes[count:])), shape=(size, size))
    _, component = connected_components(graph, directed=False)
    names = pd.Series(names, dtype=object)
    linked = pd.DataFrame({"node": names, "linked_label": names.groupby(component).transform("min")})
    logger.info("payee clusters: %d linked payees in %d clusters, solved on the driver", size,
                linked["linked_label"].nunique())
    labels = nodes.sparkSession.createDataFrame(linked, "node string, linked_label string")
    result = nodes.join(labels, on="node", how="left").select(
        "node", F.coalesce("linked_label", "node").alias("label")
    )
    return result.localCheckpoint(eager=True) if keep else result


def _propagate(edges: DataFrame, labels: DataFrame, checkpoint: bool) -> tuple[DataFrame, int]:
    """One round: smallest label over self and neighbours, then the label's own label.

    Returns the new `node, label, changed` (checkpointed or persisted) and how many nodes took a smaller
    label from a neighbour in this round.
    """
    messages = edges.join(labels, edges["dst"] == labels["node"], how="inner").select(
        F.col("src").alias("node"), "label", F.lit(False).alias("own")
    )
    proposed = (
        labels.select("node", "label", F.lit(True).alias("own"))
        .unionByName(messages)
        .groupBy("node")
        .agg(F.min("label").alias("label"), F.min(F.when(F.col("own"), F.col("label"))).alias("previous"))
    )
    parent = proposed.select(F.col("node").alias("parent"), F.col("label").alias("parent_label"))
    # Labels only ever fall, so the label of a node's label is never larger than the node's own label.
    jumped = proposed.join(parent, F.col("label") == F.col("parent"), how="left").select(
        "node",
        F.least("label", F.coalesce("parent_label", "label")).alias("label"),
        (F.col("label") < F.col("previous")).alias("changed"),
    )
    stored = jumped.checkpoint(eager=True) if checkpoint else jumped.persist()
    return stored, stored.where(F.col("changed")).count()


def _delete_folder(spark: SparkSession, folder: str) -> None:
    """Remove a checkpoint folder on whatever file system holds it (local, HDFS, object store)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None  # a classic (not Connect) session always has its JVM
    path = jvm.org.apache.hadoop.fs.Path(folder)
    path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(path, True)
