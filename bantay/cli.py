"""The `bantay` console script: one verb per pipeline step, the same code the Airflow DAGs call.

Errors the user can act on print one line (`bantay: error: ...`) on stderr and exit 2 (usage) or 1 (data);
`--debug` shows the traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bantay import __version__
from bantay.errors import BantayError, ConfigError

app = typer.Typer(
    name="bantay",
    help="Detect customers paying for suspected online child sexual exploitation (OCSE) and draft SARs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state: dict[str, Any] = {"debug": False}

LedgerOpt = Annotated[
    Path, typer.Option("--ledger", help="Ledger root (transactions/, customers/, fx_rates/, labels/).")
]
OutOpt = Annotated[
    Path, typer.Option("--out", help="Output root (features/, scores/, cases/, quarantine/, ...).")
]
AsOfOpt = Annotated[
    datetime,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="As-of date D: only data booked before D is used."),
]
MasterOpt = Annotated[str | None, typer.Option("--master", help="Spark master URL (default local[*]).")]
DemoOpt = Annotated[
    bool,
    typer.Option("--demo", help="Allow regulator files with the demo institution (also BANTAY_DEMO=1)."),
]


def _settings(ledger: Path | None, out: Path | None, master: str | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    from bantay import settings

    return settings.load(ledger_root=ledger, output_root=out, spark_master=master, **extra)


def _writer(settings: Any) -> contextlib.AbstractContextManager[Any]:
    """The output root's lock: a second writer stops at once with one line naming the holder."""
    from bantay.io.lock import output_lock

    return output_lock(settings.output_root)


def _echo(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str, sort_keys=True))


@app.callback()
def _main(
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML settings file (also BANTAY_CONFIG).")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING.")] = "INFO",
) -> None:
    """Bantay command line. Settings: defaults, then --config / BANTAY_CONFIG, then BANTAY_* variables."""
    from bantay import log

    _state["debug"] = debug
    if config is not None:
        os.environ["BANTAY_CONFIG"] = str(config)
    log.configure(log_level)


@app.command()
def version() -> None:
    """Print Bantay's version."""
    typer.echo(__version__)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Ledger root to write.")],
    customers: Annotated[int, typer.Option(help="Number of customers.", min=50)] = 20_000,
    days: Annotated[int, typer.Option(help="Days of history.", min=7)] = 180,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same ledger).")] = 7,
    end_date: Annotated[
        datetime | None,
        typer.Option("--end-date", formats=["%Y-%m-%d"], help="Last booking date (default: yesterday)."),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="Folder for the ground truth, never in the ledger: customers' kinds, "
                      "the oracle, the planted bad rows, each transaction's role, the world."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    world_seed: Annotated[
        int | None,
        typer.Option(
            "--world-seed",
            help="Draw a world (label regime, look-alikes, amounts, corridors...) "
            "from the documented ranges; --seed then draws the customers inside it.",
        ),
    ] = None,
    world: Annotated[
        Path | None,
        typer.Option("--world", help="A world profile file (keys of synth/data/worlds/default.yaml)."),
    ] = None,
) -> None:
    """Write a synthetic ledger to the contract's layout (and its truth to --truth)."""
    from bantay.errors import ConfigError
    from bantay.io.lock import folder_lock
    from bantay.synth import generate as gen
    from bantay.synth import profile

    if world_seed is not None and world is not None:
        raise ConfigError("--world-seed and --world: give one or the other")
    world_profile = (
        profile.draw(world_seed) if world_seed is not None else profile.load(world) if world else None
    )

    with folder_lock(out):  # one generator per ledger folder: a second stops at once with one line
        summary = gen.run(
            out=out,
            customers=customers,
            days=days,
            seed=seed,
            end_date=end_date.date() if end_date else None,
            truth=truth,
            fmt=fmt,
            world_profile=world_profile,
        )
    _echo(summary)


@app.command()
def validate(
    ledger: LedgerOpt,
    out: OutOpt,
    as_of: AsOfOpt,
    full: Annotated[bool, typer.Option("--full", help="Re-validate every booking day before D.")] = False,
    master: MasterOpt = None,
) -> None:
    """Check every input table with GX; quarantine bad rows with their rule; pass the rest on."""
    from bantay.jobs import validate_ledger

    settings = _settings(ledger, out, master)
    with _writer(settings):
        _echo(validate_ledger.run(settings, as_of.date(), full=full))


@app.command()
def features(
    ledger: LedgerOpt,
    out: OutOpt,
    as_of: AsOfOpt,
    until: Annotated[
        datetime | None,
        typer.Option("--until", formats=["%Y-%m-%d"], help="Backfill every as-of date up to this one."),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Rebuild the state from scratch.")] = False,
    master: MasterOpt = None,
) -> None:
    """Build the point-in-time feature table OUT/features/as_of=D/ (incremental from the saved state)."""
    from bantay.jobs import build_features

    settings = _settings(ledger, out, master)
    with _writer(settings):
        if until is not None:
            paths = build_features.backfill(settings, as_of.date(), until.date(), full=full)
            _echo({"written": [str(p) for p in paths]})
        else:
            _echo({"written": str(build_features.run(settings, as_of.date(), full=full))})


@app.command()
def train(
    ledger: LedgerOpt,
    out: OutOpt,
    as_of: AsOfOpt,
    promote: Annotated[
        bool, typer.Option("--promote", help="Run the promotion gate after training.")
    ] = False,
    master: MasterOpt = None,
    engine: Annotated[
        str,
        typer.Option(help="Where the trees grow: driver (pandas), spark (xgboost.spark), or auto (by rows)."),
    ] = "auto",
) -> None:
    """Fit XGBoost on labels decided before D, evaluate against the rules baseline, log and register."""
    from bantay.models import train as training

    settings = _settings(ledger, out, master)
    with _writer(settings):
        _echo(training.run(settings, as_of.date(), promote=promote, engine=engine))


@app.command()
def promote(
    out: OutOpt,
    version: Annotated[
        str | None, typer.Option(help="Model version to consider (default: the challenger).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote without the gate (recorded as forced).")
    ] = False,
    ledger: Annotated[Path | None, typer.Option("--ledger")] = None,
) -> None:
    """Promotion gate: move alias `champion` to the challenger only if it beats the champion by the margin."""
    from bantay.models import registry

    settings = _settings(ledger, out)
    with _writer(settings):
        _echo(registry.promote(settings, version=version, force=force))


@app.command("model-card")
def model_card(
    out: OutOpt,
    version: Annotated[
        str | None, typer.Option(help="Registered model version (default: the champion).")
    ] = None,
) -> None:
    """Write a version's model card and validation pack: OUT/model_cards/version=V/ and its MLflow run."""
    from bantay.models import card

    settings = _settings(None, out)
    with _writer(settings):
        _echo(card.write(settings, version))


@app.command()
def monitor(
    out: OutOpt,
    as_of: AsOfOpt,
    ledger: Annotated[Path | None, typer.Option("--ledger")] = None,
    master: MasterOpt = None,
) -> None:
    """Drift, null rates, alert volume and coverage of the day's scoring: OUT/monitoring/, an MLflow run.

    Exits 1 when a check named in `monitor_fail_on` crossed its threshold (warnings only print)."""
    from bantay.errors import MonitoringError
    from bantay.jobs import monitor_model

    settings = _settings(ledger, out, master)
    with _writer(settings):
        summary = monitor_model.run(settings, as_of.date())
    _echo(summary)
    if summary["status"] == "failure":
        raise MonitoringError(f"monitoring of {as_of.date()}: {summary['reason']}")


@app.command()
def score(
    ledger: LedgerOpt,
    out: OutOpt,
    as_of: AsOfOpt,
    model: Annotated[
        str | None, typer.Option(
            "--model", help="Model URI, or `rules` (default: the champion; the rules while there is none)."
        )
    ] = None,
    master: MasterOpt = None,
) -> None:
    """Score every customer in OUT/features/as_of=D/ and pick the alerts within the budget, with reasons."""
    from bantay.jobs import score_customers

    settings = _settings(ledger, out, master)
    with _writer(settings):
        _echo({"written": str(score_customers.run(settings, as_of.date(), model_uri=model))})


@app.command()
def draft(
    ledger: LedgerOpt,
    out: OutOpt,
    as_of: AsOfOpt,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write draft.pdf for each case.")] = False,
    master: MasterOpt = None,
    demo: DemoOpt = False,
) -> None:
    """Write a case folder of SAR drafts (JSON, HTML, FinCEN XML, goAML XML, NCA text) for each alert."""
    from bantay.jobs import draft_cases

    settings = _settings(ledger, out, master, demo=demo or None)
    with _writer(settings):
        _echo({"written": str(draft_cases.run(settings, as_of.date(), pdf=pdf))})


@app.command()
def run(
    ledger: LedgerOpt,
    out: OutOpt,
    as_of: AsOfOpt,
    model: Annotated[
        str | None, typer.Option(
            "--model", help="Model URI, or `rules` (default: the champion; the rules while there is none)."
        )
    ] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write draft.pdf for each case.")] = False,
    master: MasterOpt = None,
    demo: DemoOpt = False,
) -> None:
    """Validate, build features, score and draft for one as-of date (training first if no champion exists)."""
    from bantay.jobs import pipeline

    settings = _settings(ledger, out, master, demo=demo or None)
    with _writer(settings):
        _echo(pipeline.run(settings, as_of.date(), model_uri=model, pdf=pdf))


@app.command()
def backtest(
    ledger: LedgerOpt,
    out: OutOpt,
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day replayed.")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day replayed.")],
    oracle: Annotated[
        Path,
        typer.Option("--oracle", help="True outcomes: customer_id, label, typology (TRUTH/oracle.parquet)."),
    ],
    capacity_per_week: Annotated[
        float, typer.Option(help="Cases reviewed a week, as a share of the customers scored.")
    ] = 0.01,
    review_delay_days: Annotated[int, typer.Option(help="Days from a case's opening to its decision.")] = 7,
    oracle_error_rate: Annotated[float, typer.Option(help="Share of decisions that are wrong.")] = 0.05,
    below_line_share: Annotated[
        float, typer.Option(help="Share of the capacity given to a random sample just below the alert line.")
    ] = 0.1,
    retrain_every_days: Annotated[int, typer.Option(help="Days between retrainings (0: never).")] = 7,
    seed: Annotated[int, typer.Option(help="Seed of the decision errors and the below-the-line sample.")] = 0,
    master: MasterOpt = None,
    demo: DemoOpt = False,
) -> None:
    """Replay the investigators' loop from --from to --to: score, queue, decide from the oracle, retrain."""
    from bantay.jobs import replay_backtest

    settings = _settings(ledger, out, master, demo=demo or None)
    knobs = replay_backtest.Knobs(
        start=start.date(), end=end.date(), oracle=oracle, capacity_per_week=capacity_per_week,
        review_delay_days=review_delay_days, oracle_error_rate=oracle_error_rate,
        below_line_share=below_line_share, retrain_every_days=retrain_every_days, seed=seed,
    )
    with _writer(settings):
        _echo(replay_backtest.run(settings, knobs))


users_app = typer.Typer(help="Workbench users (investigator, approver, admin).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    out: OutOpt,
    username: Annotated[str, typer.Option("--username", help="Lower-case user name.")],
    role: Annotated[str, typer.Option("--role", help="investigator, approver or admin.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (else prompt).")
    ] = False,
) -> None:
    """Create a workbench user in the case store (the password is stored as an argon2 hash)."""
    from bantay.cases import accounts

    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    _echo(accounts.add(_settings(None, out), username, role, password))


@app.command()
def review(
    out: OutOpt,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (keep 127.0.0.1 unless behind a proxy).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies",
            envvar="BANTAY_REVIEW_SECURE_COOKIES",
            help="Mark the sign-in cookies Secure: always when users reach the workbench over HTTPS.",
        ),
    ] = False,
) -> None:
    """Serve the investigators' workbench on the case store (queue, cases, four-eyes approval, filing)."""
    from bantay.review import app as web

    settings = _settings(None, out)
    web.serve(settings.output_root, settings.case_store_url, host, port, secure_cookies=secure_cookies)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: every error the user can cause is one line on stderr and an exit code.

    2: usage (a bad option or value, an unknown command, unusable settings); 1: data (a `BantayError` about
    the ledger, an artefact or the model) or a file the system refuses. `--debug` shows the traceback instead.
    """
    args = sys.argv[1:] if argv is None else argv
    _state["debug"] = False
    config = os.environ.get("BANTAY_CONFIG")
    try:
        app(args, standalone_mode=False)
    except typer.TyperException as error:
        # The pinned Typer raises its own bundled copies of click's exceptions (UsageError, BadParameter,
        # NoSuchOption, ...): they derive from TyperException, not from click.ClickException.
        if not args:  # `bantay` alone: the help, as usage
            error.show()  # type: ignore[attr-defined]
            return 2
        if _state["debug"] or "--debug" in args:
            raise
        return _fail(error.format_message(), getattr(error, "exit_code", 2) or 2, " (see --help)")
    except BantayError as error:
        if _state["debug"] or "--debug" in args:
            raise
        return _fail(str(error), 2 if isinstance(error, ConfigError) else 1)
    except OSError as error:  # a path the user gave that the system refuses (permissions, a full disk, ...)
        if _state["debug"] or "--debug" in args:
            raise
        where = f"{error.filename}: " if error.filename else ""
        return _fail(f"{where}{error.strerror or error}", 1)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("bantay: aborted", err=True)
        return 1
    finally:  # --config sets BANTAY_CONFIG for this call only (main may be called again in one process)
        if config is None:
            os.environ.pop("BANTAY_CONFIG", None)
        else:
            os.environ["BANTAY_CONFIG"] = config
    return 0


def _fail(message: str, code: int, hint: str = "") -> int:
    typer.echo(f"bantay: error: {' '.join(message.split())}{hint}", err=True)
    return code


def as_date(value: str | date) -> date:
    """Parse an ISO date given by Airflow or a user."""
    return value if isinstance(value, date) else date.fromisoformat(value)


if __name__ == "__main__":
    raise SystemExit(main())
