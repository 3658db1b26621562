"""Customer features as of a day (`bantay.features`), built in Spark from the validated ledger: the typology's
indicators by family (payments, payees, spending, profile, network), the incremental state they read
(`state`, `store`), their catalogue with typology sources (`catalogue`), and the reasons they give
(`reasons`)."""
