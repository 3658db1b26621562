"""Text hygiene for the SAR forms: strip what XML 1.0 forbids, meet the schemas' patterns, clip to limits.

Every clip is recorded as a `Truncation` so that draft.json can say which form field lost how many characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# XML 1.0 Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# C1 controls and Unicode bidi overrides/isolates: legal in XML, but they reorder or hide text in a viewer.
_INVISIBLE = re.compile("[\u0080-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Everything a reader, an editor or Python's str.splitlines() may take as the end of a line: CR, LF, VT, FF,
# the file/group/record separators, NEL, and Unicode's line and paragraph separators.
_LINE_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Truncation:
    """One value clipped to fit a form field."""

    form: str
    field: str
    original_length: int
    kept_length: int

    def as_dict(self) -> dict[str, object]:
        return {
            "form": self.form,
            "field": self.field,
            "original_length": self.original_length,
            "kept_length": self.kept_length,
        }


@dataclass
class Clipper:
    """Clips values for one form and remembers what it clipped."""

    form: str
    notes: list[Truncation] = field(default_factory=list)

    def text(self, value: object, limit: int, where: str) -> str:
        """Multi-line free text: XML-safe, at most `limit` characters."""
        cleaned = xml_text(value)
        return self._clip(cleaned, limit, where)

    def line(self, value: object, limit: int, where: str) -> str:
        """One-line value for a schema string with `\\S+( +\\S+)*|`: single spaces, no ends, <= `limit`."""
        cleaned = one_line(value)
        clipped = self._clip(cleaned, limit, where)
        return clipped.rstrip(" ")

    def _clip(self, value: str, limit: int, where: str) -> str:
        if len(value) <= limit:
            return value
        self.notes.append(Truncation(self.form, where, len(value), limit))
        return value[:limit]


def xml_text(value: object) -> str:
    """`value` as text XML 1.0 can carry and a reader sees as written (no controls, no bidi overrides)."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _XML_FORBIDDEN.sub("", text)
    return _INVISIBLE.sub("", text)


def flat(value: object) -> str:
    """`value` as XML-safe text on one line: every line break becomes a space (before `xml_text` could delete
    the ones XML forbids and join two words); other spacing is kept as written.

    The one place free text is made safe for a line-oriented form: a value from the ledger (a name, a payee,
    a payment reference) can never start a line of its own there.
    """
    if value is None:
        return ""
    return xml_text(_LINE_BREAKS.sub(" ", str(value)))


def one_line(value: object) -> str:
    """`flat`, with whitespace runs collapsed to one space and no leading or trailing space."""
    return _SPACES.sub(" ", flat(value)).strip(" ")


def display(value: object, limit: int = 200) -> str:
    """A short one-line form for HTML tables and indexes (the full value stays in draft.json)."""
    text = one_line(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def upper_first(value: str) -> str:
    """`value` with its first character in upper case and the rest as written ('(OCSE)' stays)."""
    return value[:1].upper() + value[1:]
