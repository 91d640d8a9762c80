"""Sphinx directives that render kapproto's reference data into the docs.

Each table is generated from the shipped data files at build time, so the docs
cannot drift from the data. Add a table: write a function returning
``(header, rows)`` and list it in ``TABLES``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from docutils import nodes
from docutils.core import publish_doctree
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _findings() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto import finding_catalogue

    return ("Code", "Severity", "Owner", "Meaning", "Source"), [
        (f"``{s.code}``", s.severity.value, s.owner, s.description, s.source)
        for s in finding_catalogue().values()
    ]


def _units() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto import units

    rows: list[Sequence[str]] = []
    for kind in units.KINDS:
        rows.append(
            (
                f"``{kind.name}``",
                kind.description,
                f"``{kind.canonical}``",
                ", ".join(f"``{c}``" for c in kind.accepted),
                kind.resolution,
            )
        )
    return ("Kind", "For", "Canonical unit", "Accepted UCUM codes", "Resolution"), rows


def _spellings() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto import units

    return ("Spelling", "UCUM code"), [
        (f"``{s}``", f"``{c}``") for s, c in sorted(units._SPELLINGS.items())
    ]


def _instruments() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto.instruments import INSTRUMENTS

    def cited(p: Any, unit: str = "") -> str:
        return f"{p.value}{unit} ({p.source}) [{p.confidence.value}]"

    rows: list[Sequence[str]] = []
    for inst in INSTRUMENTS.values():
        kinds = sorted(
            {f"{i.min}-{i.max}" if i.kind.value == "integer" else i.kind.value for i in inst.items}
        )
        total = (
            "no numeric total"
            if inst.total_min is None
            else f"{inst.total_min}-{inst.total_max} ({inst.total_source})"
        )
        bands = "; ".join(f"{b.min}-{b.max} ``{b.id}``" for b in inst.bands)
        bands = (
            f"{bands} ({inst.bands[0].source}) [{inst.bands[0].confidence}]" if bands else "none"
        )
        flags = "; ".join(
            f"``{f.id}``: {f.description} ({f.source}) [{f.confidence}]" for f in inst.flags
        )
        remission = (
            f"{inst.remission.describe()} {cited(inst.remission.threshold).split(' ', 1)[1]}"
            if inst.remission
            else "none"
        )
        loinc = ", ".join(
            f"{what} {c.code}"
            for what, c in (("panel", inst.loinc_panel), ("total", inst.loinc_total))
            if c is not None
        )
        rows.append(
            (
                f"``{inst.id}``",
                inst.abbreviation,
                f"{len(inst.items)} x {', '.join(kinds)}",
                total,
                bands,
                flags or "none",
                "cut-point " + cited(inst.positive) if inst.positive else "none",
                "fall >= " + cited(inst.response, " %") if inst.response else "none",
                remission,
                loinc or "none confirmed",
                inst.source,
            )
        )
    header = (
        "Id",
        "Scale",
        "Items x answers",
        "Total",
        "Bands",
        "Flags",
        "Positive screen",
        "Response",
        "Remission",
        "LOINC",
        "Source",
    )
    return header, rows


def _instrument_notes() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto.instruments import INSTRUMENTS

    return ("Id", "Notes and limitations"), [
        (f"``{i.id}``", i.notes or "none") for i in INSTRUMENTS.values()
    ]


TABLES: dict[str, Callable[[], tuple[Sequence[str], list[Sequence[str]]]]] = {
    "kapproto-instruments": _instruments,
    "kapproto-instrument-notes": _instrument_notes,
    "kapproto-findings": _findings,
    "kapproto-units": _units,
    "kapproto-unit-spellings": _spellings,
}


def _make_directive(make: Callable[[], tuple[Sequence[str], list[Sequence[str]]]]) -> type:
    class TableDirective(SphinxDirective):
        has_content = False

        def run(self) -> list[nodes.Node]:
            header, rows = make()
            lines = [".. list-table::", "   :header-rows: 1", ""]
            for row in [header, *rows]:
                cells = [str(c).replace("\n", " ") or " " for c in row]
                lines.append(f"   * - {cells[0]}")
                lines.extend(f"     - {c}" for c in cells[1:])
            # Parsed as reStructuredText whatever the page's own parser: a nested
            # parse from a MyST page would read the list-table as Markdown.
            doctree = publish_doctree(
                "\n".join(lines), settings_overrides={"report_level": 2, "halt_level": 2}
            )
            return [child.deepcopy() for child in doctree.children]

    return TableDirective


def setup(app: Sphinx) -> dict[str, object]:
    for name, make in TABLES.items():
        app.add_directive(name, _make_directive(make))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
