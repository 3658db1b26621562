"""Typed errors. Only `bantay.cli.main` catches them and turns them into one line on stderr."""

from __future__ import annotations


class BantayError(Exception):
    """Base of every error the user can act on (bad input, bad configuration, missing artefact)."""


class ConfigError(BantayError):
    """The settings or a configuration file are unusable."""


class LedgerLayoutError(BantayError):
    """A ledger root or one of its tables is missing or unreadable."""


class TableUnusableError(BantayError):
    """A whole input table cannot be used (missing, unreadable, lacking a required column)."""

    def __init__(self, table: str, column: str, rule: str, count: int, example: str) -> None:
        self.table, self.column, self.rule, self.count, self.example = table, column, rule, count, example
        super().__init__(
            f"table {table}: column {column}: rule {rule} failed for {count} row(s) or file(s), "
            f"e.g. {example}"
        )


class LedgerFileError(BantayError):
    """A ledger file Spark cannot read although the checks before Spark found it usable."""


class MissingArtefactError(BantayError):
    """An earlier step's output (features, scores, model) that this step needs does not exist."""


class ModelError(BantayError):
    """Training, registry or promotion cannot proceed (too few labels, no champion, ...)."""


class TooFewLabelsError(ModelError):
    """Too few decided labels before the cut-off to train and evaluate a model (a new bank's cold start:
    the documented rules score until there are enough)."""


class RegistryError(BantayError):
    """The MLflow tracking store or model registry cannot be reached or read."""


class OutputLockedError(BantayError):
    """Another run is writing to the same output root."""


class MonitoringError(BantayError):
    """A day's monitoring crossed a threshold configured to fail (`monitor_fail_on`)."""
