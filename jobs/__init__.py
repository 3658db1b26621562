"""The pipeline's steps as `spark-submit`-able jobs (`bantay.jobs`): validate the ledger, build features,
score customers, draft cases, and `pipeline`, which runs them in order for one day."""
