"""The FinCEN SAR file of an approved case: the latest draft with the approved narrative, XSD-validated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from bantay.sar import fincen
from bantay.sar.text import xml_text


def narrative_room(draft: Mapping[str, Any]) -> int:
    """Characters an approved narrative may hold: FinCEN's five blocks less the key term that leads them."""
    return sum(fincen.NARRATIVE_LIMITS) - len(f"{draft['filing']['fincen']['key_term']}. ")


def fincen_xml(draft: Mapping[str, Any], narrative_text: str) -> bytes:
    """FinCEN BSA E-Filing XML of `draft` whose narrative blocks hold `narrative_text` (the approved text).

    The draft's own narrative is replaced block by block (key term first, 4 x 4,000 + 1,000 characters);
    the result is validated against the shipped XSD (FincenSchemaError names the line if not)."""
    tcc = draft["institution"].get("fincen_tcc") or fincen.DEFAULT_TCC
    xml, _ = fincen.build(draft, tcc=tcc)
    document = etree.fromstring(xml)
    ns = {"fc2": fincen.NS}
    infos = document.findall(".//fc2:ActivityNarrativeInformation", ns)
    if not infos:
        return xml
    parent = infos[0].getparent()
    assert parent is not None
    at = parent.index(infos[0])
    key = draft["filing"]["fincen"]["key_term"]
    text = f"{key}. {xml_text(narrative_text).strip()}"[: sum(fincen.NARRATIVE_LIMITS)]
    blocks, start = [], 0
    for limit in fincen.NARRATIVE_LIMITS:
        if start >= len(text):
            break
        blocks.append(text[start : start + limit])
        start += limit
    # SeqNum is unique in the batch: reuse the draft's numbers, then continue after the highest.
    next_seq = max(int(e.get("SeqNum", "0")) for e in document.iter() if e.get("SeqNum")) + 1
    for info in infos[len(blocks) :]:
        parent.remove(info)
    for number, block in enumerate(blocks, start=1):
        if number <= len(infos):
            info = infos[number - 1]
        else:
            info = etree.Element(f"{{{fincen.NS}}}ActivityNarrativeInformation", SeqNum=str(next_seq))
            etree.SubElement(info, f"{{{fincen.NS}}}ActivityNarrativeSequenceNumber")
            etree.SubElement(info, f"{{{fincen.NS}}}ActivityNarrativeText")
            parent.insert(at + number - 1, info)
            next_seq += 1
        info.find("fc2:ActivityNarrativeSequenceNumber", ns).text = str(number)
        info.find("fc2:ActivityNarrativeText", ns).text = block
    if not fincen.schema().validate(document):
        first = fincen.schema().error_log.filter_from_errors()[0]
        raise fincen.FincenSchemaError(
            f"case {draft['case_id']}: approved FinCEN XML invalid at line {first.line}: {first.message}"
        )
    approved: bytes = etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return approved
