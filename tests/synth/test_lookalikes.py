"""The look-alike table covers every kind the population draws; each kind writes its customer's payments."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from bantay.synth import population, world
from bantay.synth.activity import Activity
from bantay.synth.codes import BANK, CARD, NO_REF, REF, REF_VOCAB
from bantay.synth.lookalikes import LOOKALIKES

DAYS = 90


def test_lookalikes_cover_every_kind_the_population_draws() -> None:
    drawn = {kind for kind, share in population.KINDS if share > 0}
    assert set(LOOKALIKES) == drawn - {"ocse_payer"}
    assert set(LOOKALIKES) | {"retail", "ocse_payer"} == set(population.KIND_NAMES)


@pytest.fixture(scope="module")
def book() -> dict[str, Any]:
    """2,000 customers: at least two of every kind (stochastic rounding keeps the floor of each share)."""
    shared = world.build(5, date(2025, 1, 1), DAYS, 2_000)
    chunk = population.build(shared, np.random.default_rng(5), 0, 0, 2_000)
    return {"world": shared, "chunk": chunk}


def _payments_of(book: dict[str, Any], kind: str) -> tuple[int, dict[str, np.ndarray]]:
    """Run one look-alike on the earliest-onboarded customer of that kind, alone in a fresh activity."""
    chunk = book["chunk"]
    of_kind = np.flatnonzero(chunk.kind == population.KIND[kind])
    i = int(of_kind[np.argmin(chunk.onboard_day[of_kind])])
    act = Activity(book["world"], chunk, np.random.default_rng(17))
    LOOKALIKES[kind](act, i)
    return i, act.events.concat()


@pytest.mark.parametrize("kind", sorted(LOOKALIKES))
def test_each_lookalike_writes_outbound_payments_of_its_customer(book: dict[str, Any], kind: str) -> None:
    i, events = _payments_of(book, kind)
    assert len(events["cust"]) > 0
    assert set(events["cust"].tolist()) == {i}
    assert events["out"].all() and (events["usd"] > 0).all()
    assert not events["ocse"].any()  # look-alikes never carry the OCSE flag
    start, end = book["world"].start_us, book["world"].start_us + DAYS * world.DAY_US
    assert ((events["ts"] >= start) & (events["ts"] < end)).all()


def test_child_sponsor_pays_one_fixed_amount_by_bank(book: dict[str, Any]) -> None:
    _, events = _payments_of(book, "child_sponsor")
    assert (events["channel"] == BANK).all()
    assert len(set(events["usd"].tolist())) == 1 and 25 <= events["usd"][0] <= 43
    assert len(set(events["cp"].tolist())) == 1  # one charity


def test_webcam_customer_only_spends_by_card(book: dict[str, Any]) -> None:
    _, events = _payments_of(book, "webcam_customer")
    assert (events["channel"] == CARD).all() and events["online"].all()


def test_sextortion_victim_pays_at_most_four_times_within_ten_days(book: dict[str, Any]) -> None:
    _, events = _payments_of(book, "sextortion_victim")
    assert 1 <= len(events["ts"]) <= 4 and (events["usd"] <= 1600).all()
    assert events["ts"].max() - events["ts"].min() < 11 * world.DAY_US


def test_contractors_write_invoice_references(book: dict[str, Any]) -> None:
    for kind in ("freelancer_payer", "small_business_va"):
        _, events = _payments_of(book, kind)
        # Their own "INV-nnnn" words come after the shared vocabulary; else "invoice", "services rendered".
        words = {REF["invoice"], REF["services rendered"], NO_REF}
        assert all(r in words or r >= len(REF_VOCAB) for r in events["ref"].tolist()), kind
        assert (events["ref"] != NO_REF).any(), kind
