"""O10 sender profile from the KYC snapshot: age, male flag, tenure, all at each row's own as-of date."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def kyc_profile(spine: DataFrame, customers: DataFrame) -> DataFrame:
    """O10 (no window). `spine`: customer_id, as_of (and any other columns, kept); adds age_years, is_male,
    tenure_days.

    Age in whole years at as_of; is_male 1 for M, 0 for F or X, null when unknown; tenure in days since
    onboarding (UTC date).
    """
    kyc = customers.select("customer_id", "birth_date", "gender", "onboarded_at")
    gender = F.upper(F.col("gender"))
    return spine.join(kyc, on="customer_id", how="left").select(
        *[F.col(name) for name in spine.columns],
        F.floor(F.months_between(F.col("as_of"), F.col("birth_date")) / 12).cast("double").alias("age_years"),
        F.when(gender == "M", 1.0).when(gender.isin("F", "X"), 0.0).alias("is_male"),
        F.datediff(F.col("as_of"), F.to_date(F.col("onboarded_at"))).cast("double").alias("tenure_days"),
    )
