"""Input checks: the ledger's files before Spark reads them (`ledger_files`), the row rules that quarantine a
bad row with its reason (`rules`, `quarantine`), and the Great Expectations suites, as code, that the
validated layer must pass (`suites`)."""
