"""ScreeningReport -> CDS Hooks cards (plain dicts), a second output for decision support.

The first card states the decision; one card follows per rule that matched
or could not be decided. A card's ``indicator`` is ``critical`` for a matched
absolute contraindication, ``warning`` for a matched relative one or an
absolute/relative rule that could not be decided, ``info`` otherwise.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Final

from kapproto._fhir_session import NAMESPACE
from kapproto.screening import (
    Decision,
    Outcome,
    RuleSeverity,
    ScreeningFinding,
    ScreeningReport,
)
from kapproto.units import format_quantity

__all__ = ["SUMMARY_LIMIT", "report_to_cards"]

SUMMARY_LIMIT: Final = 140
"""A card's ``summary`` is shorter than this many characters (CDS Hooks)."""

_HEADLINE: Final = {
    Decision.ELIGIBLE: "Eligible: no contraindication matched",
    Decision.INELIGIBLE: "Not eligible: absolute contraindication",
    Decision.REVIEW: "Clinician review: relative contraindication",
    Decision.INCOMPLETE: "Screening incomplete: facts missing",
}
_MARKDOWN: Final = re.compile(r"([\\`*_\[\]<>|])")


def report_to_cards(report: ScreeningReport) -> list[dict[str, Any]]:
    """The decision card, then one card per finding, in the rule set's order."""
    source = {"label": f"kapproto screening rule set {report.ruleset.id} {report.ruleset.version}"}
    cards = [
        _card(
            _uuid(report, "decision"),
            _summary(_HEADLINE[report.decision], _decisive_titles(report)),
            _report_indicator(report),
            _report_detail(report),
            source,
        )
    ]
    for f in report.findings:
        status = "matched" if f.outcome is Outcome.MATCHED else "undecided"
        cards.append(
            _card(
                _uuid(report, f"rule/{f.rule_id}"),
                _summary(f"{f.severity.value.capitalize()} rule {status}", [f.title]),
                _indicator(f),
                _finding_detail(f),
                source,
            )
        )
    return cards


def _card(
    card_uuid: str, summary: str, indicator: str, detail: str, source: dict[str, str]
) -> dict[str, Any]:
    return {
        "uuid": card_uuid,
        "summary": summary,
        "indicator": indicator,
        "detail": detail,
        "source": dict(source),
    }


def _uuid(report: ScreeningReport, part: str) -> str:
    when = report.time.isoformat() if report.time is not None else "undated"
    return str(uuid.uuid5(NAMESPACE, f"screening/{report.ruleset}/{when}/{part}"))


def _indicator(f: ScreeningFinding) -> str:
    if f.outcome is Outcome.MATCHED:
        if f.severity is RuleSeverity.ABSOLUTE:
            return "critical"
        if f.severity is RuleSeverity.RELATIVE:
            return "warning"
        return "info"
    return "warning" if f.severity.decides else "info"


def _report_indicator(report: ScreeningReport) -> str:
    found = {_indicator(f) for f in report.findings}
    return next((i for i in ("critical", "warning") if i in found), "info")


def _decisive_titles(report: ScreeningReport) -> list[str]:
    """The titles of the rules that made the decision (none for an eligible candidate)."""

    def decisive(f: ScreeningFinding) -> bool:
        if report.decision is Decision.INCOMPLETE:
            return f.severity.decides and f.outcome is Outcome.UNKNOWN
        severity = {
            Decision.INELIGIBLE: RuleSeverity.ABSOLUTE,
            Decision.REVIEW: RuleSeverity.RELATIVE,
        }
        return f.severity is severity.get(report.decision) and f.outcome is Outcome.MATCHED

    return [f.title for f in report.findings if decisive(f)]


def _summary(headline: str, titles: list[str]) -> str:
    """``headline: title, title`` cut to fewer than :data:`SUMMARY_LIMIT` characters."""
    text = headline if not titles else f"{headline}: {', '.join(titles)}"
    if len(text) < SUMMARY_LIMIT:
        return text
    return text[: SUMMARY_LIMIT - 2].rstrip() + "…"


def _md(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def _rule_line(f: ScreeningFinding) -> str:
    return f"- **{_md(f.title)}** (`{f.rule_id}`, {f.severity.value}; source: {_md(f.source)})"


def _report_detail(report: ScreeningReport) -> str:
    lines = [f"**Decision:** {report.decision.value}", ""]
    matched = [f for f in report.findings if f.outcome is Outcome.MATCHED]
    undecided = [f for f in report.findings if f.outcome is Outcome.UNKNOWN]
    lines += ["**Matched rules:**", *(_rule_line(f) for f in matched or [])]
    if not matched:
        lines.append("- none")
    lines += ["", "**Undecided rules:**", *(_rule_line(f) for f in undecided)]
    if not undecided:
        lines.append("- none")
    lines += ["", "**Missing facts:**", *(f"- `{path}`" for path in report.missing)]
    if not report.missing:
        lines.append("- none")
    if report.time is not None:
        lines += ["", f"Screened {report.time.isoformat()}."]
    return "\n".join(lines)


def _finding_detail(f: ScreeningFinding) -> str:
    lines = [_rule_line(f).removeprefix("- "), ""]
    if f.outcome is Outcome.MATCHED:
        lines.append("Matched on:")
        lines += [f"- `{path}` = {_md(_fact(value))}" for path, value in sorted(f.values.items())]
        if not f.values:
            lines.append("- (no fact values recorded)")
    else:
        lines.append("Could not be decided; missing facts:")
        lines += [f"- `{path}`" for path in f.missing]
    return "\n".join(lines)


def _fact(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "magnitude"):
        return format_quantity(value)
    return str(value)
