"""UK NCA SAR reason-for-suspicion text: glossary codes first, then who / what / when / where / why / how.

Structured as the UKFIU's guidance on better-quality SARs asks (shared/formats/nca_sar.md): codes on the first
line (XXV3XX always, XXMSHTXX where trafficking is suspected, XXVAXX for virtual assets), the subject with
UNKNOWN for a subject field not held (the glossary's convention), "(no reference)" for a payment the ledger
holds no reference for, the exact date of each transaction, and the immediate-risk prompt with the UK
emergency number (999). The narrative is NCA's: its glossary code cited, payee networks in words, no other
cases named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from bantay.sar.narrative import EMERGENCY, environment, money, narrative
from bantay.sar.text import xml_text

# The parts every NCA text holds, in this order (the narrative's five Ws and how, between the risk prompt
# and the transaction list).
SECTIONS = (
    "IMMEDIATE RISK CHECK: ",
    "SUBJECT (suspected offender; payer)",
    "WHO: ",
    "WHAT: ",
    "WHEN: ",
    "WHERE: ",
    "WHY: ",
    "HOW: ",
    "TRANSACTIONS (",
    "SUSPECTED CRIMINAL PROPERTY: ",
)
_GLOSSARY_CODE = re.compile(r"XX[A-Z0-9]+XX")


def render(draft: Mapping[str, Any]) -> str:
    """The NCA text for one draft (plain UTF-8, control and bidi-override characters removed)."""
    # The narrative is our own multi-line text (each value in it already flattened): Markup keeps its lines.
    env = environment(False)
    text = env.get_template("nca_sar.txt.j2").render(
        draft=draft, narrative=Markup(narrative(draft, form="nca")), emergency=EMERGENCY["nca"]
    )
    return xml_text(text)


def problems(text: str, draft: Mapping[str, Any]) -> list[str]:
    """What an NCA text lacks against its draft: the glossary codes on the first line (XXV3XX always, the
    draft's codes exactly), every section in order, one line per listed transaction (date, amount sent,
    reporting amount), and the total. Empty when the text is complete; entries name parts, never values."""
    lines = text.splitlines()
    found = []
    codes = lines[0].split() if lines else []
    if (
        "XXV3XX" not in codes
        or not all(_GLOSSARY_CODE.fullmatch(code) for code in codes)
        or codes != list(draft["filing"]["nca"]["glossary_codes"])
    ):
        found.append("glossary codes on the first line")
    at = 0
    for section in SECTIONS:
        where = next((k for k in range(at, len(lines)) if lines[k].startswith(section)), None)
        if where is None:
            found.append(f"section {section.strip()} (missing or out of order)")
        else:
            at = where + 1
    rep = draft["totals"]["reporting"]
    listed = set(lines)
    for txn in draft["transactions"]:
        start = (
            f"{txn['booked_at']} | {money(txn['amount'])} {txn['currency']} | "
            f"{money(txn['amount_reporting'])} {rep['currency']} | "
        )
        if not any(line.startswith(start) for line in listed):
            found.append(f"transaction line of {txn['txn_id']}")
    total = f"the funds sent in the payments above, {money(rep['amount'])} {rep['currency']} in total."
    if not any(line.startswith("SUSPECTED CRIMINAL PROPERTY: ") and line.endswith(total) for line in lines):
        found.append("total of the suspected criminal property")
    return found
