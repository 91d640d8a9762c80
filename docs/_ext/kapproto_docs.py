"""Sphinx directives that render kapproto's reference data into the docs.

Each table is generated from the shipped data files at build time, so the docs
cannot drift from the data. Add a table: write a function returning
``(header, rows)`` and list it in ``TABLES``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from docutils import nodes
from docutils.statemachine import StringList
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


TABLES: dict[str, Callable[[], tuple[Sequence[str], list[Sequence[str]]]]] = {
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
            container = nodes.container()
            self.state.nested_parse(StringList(lines), self.content_offset, container)
            return list(container.children)

    return TableDirective


def setup(app: Sphinx) -> dict[str, object]:
    for name, make in TABLES.items():
        app.add_directive(name, _make_directive(make))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
