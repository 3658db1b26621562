"""The FinCEN file of an approved case: the approved narrative in FinCEN's blocks, valid against the XSD."""

from __future__ import annotations

from datetime import date

from cases_support import draft
from lxml import etree

from bantay.cases import filing
from bantay.sar import fincen


def test_long_approved_narrative_fills_blocks_with_unique_seqnums():
    text = "A" * 4000 + "B" * 4000 + "C" * 980  # with the key term: blocks of 4,000, 4,000 and 1,000
    document = etree.fromstring(filing.fincen_xml(draft("c1", date(2025, 3, 1)), text))
    assert fincen.schema().validate(document)
    ns = {"fc2": fincen.NS}
    infos = document.findall(".//fc2:ActivityNarrativeInformation", ns)
    numbers = [i.findtext("fc2:ActivityNarrativeSequenceNumber", namespaces=ns) for i in infos]
    blocks = [i.findtext("fc2:ActivityNarrativeText", namespaces=ns) for i in infos]
    assert numbers == ["1", "2", "3"]
    assert [len(b) for b in blocks] == [4000, 4000, 1000]
    assert "".join(blocks) == "OCSE-FIN-2021-NTC3. " + text
    seqnums = [e.get("SeqNum") for e in document.iter() if e.get("SeqNum")]
    assert len(seqnums) == len(set(seqnums))


def test_control_characters_in_the_narrative_are_dropped():
    document = etree.fromstring(filing.fincen_xml(draft("c1", date(2025, 3, 1)), "ok\x00\x07 text"))
    text = document.findtext(f".//{{{fincen.NS}}}ActivityNarrativeText")
    assert fincen.schema().validate(document)
    assert text == "OCSE-FIN-2021-NTC3. ok text"
