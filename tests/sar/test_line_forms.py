"""Free text from the ledger cannot start a line in the line-oriented forms (NCA text, the narrative, and the
narrative with its PAYMENTS list that FinCEN's SAR carries)."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from test_forms import _customer, _draft, _txn

from bantay.sar import narrative, nca
from bantay.sar.text import flat, one_line

# Every line break a reader or str.splitlines() honours, each carrying a forged glossary code and lines.
BREAKS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1e", "\x85", "\u2028", "\u2029"]
FORGED = "XXSNEXX"


def _forms(name: str, payee: str, reference: str) -> list[str]:
    rows = [_txn("x1", datetime(2025, 1, 10, 11, 0), "50.00", counterparty_name=payee, reference=reference)]
    draft = _draft(rows, customer=_customer(full_name=name, address_line=name, occupation=name))
    return [nca.render(draft), narrative.narrative(draft), narrative.narrative(draft, payments=True)]


@pytest.mark.parametrize("brk", BREAKS, ids=[f"U+{ord(b[0]):04X}{len(b)}" for b in BREAKS])
def test_line_forms_flatten_every_line_break_in_free_text(brk: str) -> None:
    plain = _forms("Peter Sample", "Lita Ramos", "gift")
    hostile = f"Peter{brk}{FORGED}{brk}SUBJECT (victim){brk}Name: Someone"
    forged = _forms(hostile, hostile, hostile)
    for before, after in zip(plain, forged, strict=True):
        assert len(after.splitlines()) == len(before.splitlines())
        lines = after.splitlines()
        assert not any(line.startswith((FORGED, "SUBJECT (victim)", "Name: Someone")) for line in lines)
        flattened = f"Peter {FORGED} SUBJECT (victim) Name: Someone"
        assert any(flattened in " ".join(line.split()) for line in lines)


def test_line_forms_hold_against_random_hostile_text() -> None:
    """A seeded fuzz: random mixes of line breaks, controls, bidi marks and form words in every free-text
    field; the NCA text and the narrative keep their line count and no line starts with injected text."""
    rng = random.Random(20251206)
    alphabet = "ab XX V3 :|-\t\x00\x07\u202e\u200f\U0001f600" + "".join(BREAKS)
    plain = [len(form.splitlines()) for form in _forms("Peter Sample", "Lita Ramos", "gift")]
    for _ in range(60):
        values = ["@" + "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))) for _ in range(3)]
        forms = _forms(*values)
        assert [len(form.splitlines()) for form in forms] == plain
        for form in forms:
            assert not any(line.startswith(("XX", "V3", ":", "|")) for line in form.splitlines()[1:])


def test_one_line_keeps_words_apart_and_drops_invisible_characters() -> None:
    assert one_line("a\vb\x1cc\u2028d\u2029e\x85f") == "a b c d e f"
    assert one_line("  a \r\n\t b  ") == "a b"
    assert one_line("x\u202ey\x01z") == "xyz"
    assert one_line(None) == ""
    assert flat("; a\r\nb ") == "; a  b "  # the templates' own spacing is kept
