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
    from kapproto import _unit_registry

    return ("Spelling", "UCUM code"), [
        (f"``{s}``", f"``{c}``") for s, c in sorted(_unit_registry._SPELLINGS.items())
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


def _protocol_value(param: Any, name: str) -> str:
    """One protocol parameter as a table cell: value, anchor, ``[confidence]``."""
    from kapproto.units import format_quantity

    if param is None:
        return "not configured"
    value = param.value
    if name in {"recheck", "min_observation"}:
        amount = value.at if name == "recheck" else value.duration
        text = f"{format_quantity(amount)}"
        if name == "recheck":
            text += f" ± {format_quantity(value.tolerance)}"
        text += f" after {value.anchor.value.replace('_', ' ')}"
    elif isinstance(value, bool):
        text = "required" if value else "not required"
    elif hasattr(value, "to_data"):
        data = value.to_data()
        text = " or ".join(data) if isinstance(data, list) else data
    elif isinstance(value, int):
        text = str(value)
    elif hasattr(value, "magnitude"):
        text = format_quantity(value)
    else:
        text = str(value)
    return text + (f" [{param.confidence.value}]" if param.confidence else "")


_DOSE_KEYS = (
    "min",
    "per_administration_max",
    "session_max",
    "first_session_max",
    "max_rate",
    "device_amount",
    "max_devices",
    "device_spacing",
)
_MONITORING_KEYS = ("predose_bp", "bp_threshold", "recheck", "min_observation", "pulse_oximetry")


def _protocols() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto import Catalog

    protocols = [p for _, p in sorted(Catalog.builtin().protocols.entries.items())]

    def per_entry(protocol: Any, cell: Callable[[Any], str]) -> str:
        cells = [cell(e) for e in protocol.doses]
        if len(set(cells)) == 1:
            return cells[0]
        return "; ".join(
            f"{e.route.value}: {c}" for e, c in zip(protocol.doses, cells, strict=True)
        )

    rows: list[Sequence[str]] = [
        ("version", *(p.version for p in protocols)),
        (
            "medication, route",
            *(
                "; ".join(f"{e.medication.value}, {e.route.value}" for e in p.doses)
                for p in protocols
            ),
        ),
        (
            "formulations",
            *(
                per_entry(p, lambda e: ", ".join(sorted(f.value for f in e.formulations)) or "any")
                for p in protocols
            ),
        ),
    ]
    for key in _DOSE_KEYS:
        rows.append(
            (
                f"``{key}``",
                *(
                    per_entry(p, lambda e, k=key: _protocol_value(getattr(e, k), k))
                    for p in protocols
                ),
            )
        )
    for key in _MONITORING_KEYS:
        rows.append(
            (
                f"``monitoring.{key}``",
                *(_protocol_value(getattr(p.monitoring, key), key) for p in protocols),
            )
        )
    rows.append(
        (
            "``schedule.min_interval``",
            *(_protocol_value(p.schedule.min_interval, "min_interval") for p in protocols),
        )
    )
    for key in ("ruleset", "template"):
        rows.append((f"``{key}``", *(str(getattr(p, key) or "not configured") for p in protocols)))
    return ("Parameter", *(f"``{p.id}``" for p in protocols)), rows


def _sourced_range(bio: Any) -> str:
    from kapproto import format_quantity

    confidence = bio.confidence.value if bio.confidence else ""
    return f"{format_quantity(bio.low)}-{format_quantity(bio.high)} [{confidence}] {bio.source}"


def _routes() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto import Route

    rows: list[Sequence[str]] = []
    for route in Route:
        info = route.info
        bio = info.bioavailability
        shown = "not established (no estimate)" if bio is None else _sourced_range(bio)
        for medication, other in info.by_medication.items():
            shown += f"; {medication.value}: {_sourced_range(other)}"
        rows.append(
            (
                f"``{route.value}``",
                f"{route.snomed.code} {route.snomed.display}",
                shown,
                f"{info.onset.value} ({info.onset.source})",
                f"{'yes' if route.weight_based else 'no'} ({info.weight_based.source})",
            )
        )
    return ("Route", "SNOMED CT", "Bioavailability", "Onset", "Weight-based"), rows


def _formulations() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto import Formulation, Medication, format_quantity

    rows: list[Sequence[str]] = []
    for formulation in Formulation:
        info = formulation.info
        devices = "; ".join(
            f"{m.value}: {format_quantity(d.value)} ({d.source})"
            for m in Medication
            if (d := formulation.device_amount(m)) is not None
        )
        rows.append(
            (
                f"``{formulation.value}``",
                f"{', '.join(sorted(r.value for r in formulation.routes))} ({info.routes_source})",
                f"{info.basis.value.value} ({info.basis.source})",
                devices or "-",
            )
        )
    return ("Formulation", "Routes", "Strength labelled as", "Amount per device"), rows


def _medications() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto import Medication

    return ("Medication", "Display", "Confirmed codes", "HCl per base"), [
        (
            f"``{m.value}``",
            m.display,
            ", ".join(f"{c.code} ({c.display})" for c in m.codings) or "none confirmed",
            f"{m.info.hydrochloride_per_base.value} ({m.info.hydrochloride_per_base.source})",
        )
        for m in Medication
    ]


def _rst_text(value: object, limit: int = 0) -> str:
    """Plain text for a list-table cell: rST markup characters escaped, optionally shortened."""
    text = " ".join(str(value).split())
    if limit and len(text) > limit:
        text = text[: limit - 3] + "..."
    for ch in "\\*`|_":
        text = text.replace(ch, "\\" + ch)
    return text or " "


def _entry_value(node: dict[str, Any]) -> str:
    if "value" in node:
        value = node["value"]
        return " / ".join(map(str, value)) if isinstance(value, list) else str(value)
    if "low" in node and "high" in node:
        return f"{node['low']} to {node['high']}"
    if "code" in node:
        return f"{node['code']} {node.get('display', '')}".strip()
    if "min" in node and "max" in node:
        return f"{node['min']} to {node['max']}"
    if "at" in node:
        return f"{node['at']} ± {node.get('tolerance', '0 min')}"
    return str(node.get("title") or node.get("name") or "")


def _sources() -> tuple[Sequence[str], list[Sequence[str]]]:
    """Every sourced entry of every TOML file under ``kapproto/data/``, with its confidence."""
    import tomllib
    from importlib import resources

    root = resources.files("kapproto").joinpath("data")
    rows: list[Sequence[str]] = []

    def walk(node: object, path: str, file: str) -> None:
        if isinstance(node, dict):
            cited = [
                "; ".join(v) if isinstance(v, list) else str(v)
                for k, v in node.items()
                if k in ("source", "sources") or k.endswith("_source")
            ]
            if cited:
                rows.append(
                    (
                        f"``{file}``",
                        _rst_text(path or "(file)"),
                        _rst_text(_entry_value(node), 60),
                        _rst_text(" | ".join(cited)),
                        _rst_text(node.get("confidence", "not stated")),
                    )
                )
            for key, value in node.items():
                if isinstance(value, dict | list):
                    walk(value, f"{path}.{key}" if path else key, file)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                label = (item.get("id") or item.get("path")) if isinstance(item, dict) else None
                walk(item, f"{path}[{label or i}]", file)

    def files(folder: Any, prefix: str) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.is_dir():
                out.extend(files(entry, f"{prefix}{entry.name}/"))
            elif entry.name.endswith(".toml"):
                out.append((f"{prefix}{entry.name}", entry))
        return out

    for name, entry in files(root, ""):
        walk(tomllib.loads(entry.read_text(encoding="utf-8")), "", name)
    return ("File", "Entry", "Value", "Source", "Confidence"), rows


def _facts() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto.screening import fact_catalogue

    rows: list[Sequence[str]] = []
    for spec in fact_catalogue().values():
        if spec.kind is not None:
            kind = f"quantity: {spec.kind.name} (``{spec.kind.canonical}``)"
        elif spec.values:
            kind = "enum: " + ", ".join(f"``{v}``" for v in spec.values)
        else:
            kind = spec.type.value
        filled = f"{spec.instrument} {spec.from_score}" if spec.instrument else ""
        rows.append(
            (
                f"``{spec.path}``",
                kind,
                _rst_text(spec.description),
                _rst_text(spec.source),
                filled or " ",
            )
        )
    return ("Path", "Type", "Meaning", "Source", "Filled from a score"), rows


_SYMBOLS = {"eq": "=", "ne": "≠", "gt": ">", "ge": "≥", "lt": "<", "le": "≤"}


def _condition_text(cond: dict[str, Any]) -> str:
    """A rule's condition as a short formula, e.g. ``vitals.systolic > 140 mm[Hg] or ...``."""

    def part(c: dict[str, Any]) -> str:
        text = _condition_text(c)
        return f"({text})" if "all" in c or "any" in c else text

    if "all" in cond or "any" in cond:
        word = " and " if "all" in cond else " or "
        return word.join(part(c) for c in cond.get("all", cond.get("any", [])))
    if "not" in cond:
        return f"not {part(cond['not'])}"
    fact = cond["fact"]
    if "present" in cond:
        return f"{fact} {'known' if cond['present'] else 'unknown'}"
    if "in" in cond:
        return f"{fact} in {{{', '.join(str(v) for v in cond['in'])}}}"
    op = next(k for k in cond if k != "fact")
    value = cond[op]
    value = str(value).lower() if isinstance(value, bool) else value
    return f"{fact} {_SYMBOLS[op]} {value}"


def _builtin_rules() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto.screening import get_ruleset

    data = get_ruleset("ketamine-contraindications").to_dict()
    rows: list[Sequence[str]] = [
        (
            f"``{r['id']}``",
            r["severity"],
            _rst_text(r["title"]),
            _rst_text(_condition_text(r["when"])),
            _rst_text(r["source"]),
            r.get("confidence", "not stated"),
        )
        for r in data["rules"]
    ]
    return ("Rule", "Severity", "Title", "Matches when", "Source", "Confidence"), rows


def _templates() -> tuple[Sequence[str], list[Sequence[str]]]:
    """Every step of every built-in integration-plan template, with its window's source."""
    from kapproto import builtin_templates

    rows: list[Sequence[str]] = []
    for (tid, version), template in sorted(builtin_templates().items()):
        for step in template.steps:
            anchor = step.anchor.value
            if step.every is not None:
                anchor += f", every {step.every}"
            if step.doses:
                anchor += f", doses {', '.join(map(str, step.doses))}"
            window = f"{step.window.side.value} {step.window.start} .. {step.window.end}"
            rows.append(
                (
                    f"``{tid}@{version}``",
                    f"``{step.id}``",
                    step.kind.value,
                    _rst_text(anchor),
                    window,
                    "yes" if step.required else "no",
                    _rst_text(", ".join(step.instruments)),
                    step.confidence.value if step.confidence else "not stated",
                    _rst_text(step.source),
                )
            )
    header = ("Template", "Step", "Kind", "Anchor", "Window", "Required", "Instruments")
    return (*header, "Confidence", "Source"), rows


TABLES: dict[str, Callable[[], tuple[Sequence[str], list[Sequence[str]]]]] = {
    "kapproto-templates": _templates,
    "kapproto-sources": _sources,
    "kapproto-routes": _routes,
    "kapproto-formulations": _formulations,
    "kapproto-medications": _medications,
    "kapproto-protocols": _protocols,
    "kapproto-instruments": _instruments,
    "kapproto-instrument-notes": _instrument_notes,
    "kapproto-findings": _findings,
    "kapproto-facts": _facts,
    "kapproto-builtin-rules": _builtin_rules,
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
