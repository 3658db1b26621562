"""UK NCA SAR reason-for-suspicion text: glossary codes first, then who / what / when / where / why / how.

Structured as the UKFIU's guidance on better-quality SARs asks (shared/formats/nca_sar.md): codes on the first
line (XXV3XX always, XXMSHTXX where trafficking is suspected, XXVAXX for virtual assets), the subject with
UNKNOWN for what is not held, the exact date of each transaction, and the immediate-risk prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from bantay.sar.narrative import environment, narrative
from bantay.sar.text import xml_text


def render(draft: Mapping[str, Any]) -> str:
    """The NCA text for one draft (plain UTF-8, control and bidi-override characters removed)."""
    # The narrative is our own multi-line text (each value in it already flattened): Markup keeps its lines.
    env = environment(False)
    text = env.get_template("nca_sar.txt.j2").render(draft=draft, narrative=Markup(narrative(draft)))
    return xml_text(text)
