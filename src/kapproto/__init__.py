"""kapproto: a typed vocabulary for Ketamine-Assisted Psychotherapy (KAP) protocols.

Sessions and courses, routes, unit-checked doses, vital-sign monitoring,
screening questionnaires and eligibility rules, integration-plan templates,
and a check of a real session record against the protocol it ran under.

Built-in clinical numbers are reference defaults with citations, not medical
advice; every limit is a protocol parameter a clinic sets in its own file.

The namespace is flat and lazy: ``import kapproto`` is cheap, and each name
loads its module on first access.

Example:
    >>> import kapproto
    >>> kapproto.format_quantity(kapproto.quantity("0.5 mg"))
    '0.5 mg'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. Grouped by domain, as __all__ is.
_NAMES: dict[str, str] = {
    # errors
    "KapprotoError": "kapproto.exceptions",
    "ValidationError": "kapproto.exceptions",
    "UnitError": "kapproto.exceptions",
    "RuleError": "kapproto.exceptions",
    "ProtocolError": "kapproto.exceptions",
    "UnknownReferenceError": "kapproto.exceptions",
    # units
    "quantity": "kapproto.units",
    "format_quantity": "kapproto.units",
    "to_ucum": "kapproto.units",
    "use_registry": "kapproto.units",
    # codes and findings
    "Coding": "kapproto._codes",
    "Finding": "kapproto._findings",
    "Severity": "kapproto._findings",
    "finding_catalogue": "kapproto._findings",
    # routes and dosing
    "Route": "kapproto._routes",
    "Formulation": "kapproto._routes",
    "Medication": "kapproto._routes",
    "Basis": "kapproto._routes",
    "Bioavailability": "kapproto._routes",
    "Administration": "kapproto._administration",
    "DoseSpec": "kapproto._dosing",
    "ExposureEstimate": "kapproto._dosing",
    "volume_for": "kapproto._dosing",
    "infusion_rate": "kapproto._dosing",
    "iv_equivalent": "kapproto._dosing",
    "DoseBound": "kapproto._bounds",
    "DoseLimits": "kapproto._limits",
    "DoseCheck": "kapproto._dose_checks",
    "check_doses": "kapproto._dose_checks",
    "check_dose_limits": "kapproto._dose_checks",
    # instruments
    "Instrument": "kapproto.instruments",
    "InstrumentResponse": "kapproto.instruments",
    "Score": "kapproto.instruments",
    "change": "kapproto.instruments",
    "get_instrument": "kapproto.instruments",
    "is_remission": "kapproto.instruments",
    "is_response": "kapproto.instruments",
    "score": "kapproto.instruments",
    # screening
    "Decision": "kapproto.screening",
    "Facts": "kapproto.screening",
    "Rule": "kapproto.screening",
    "RuleSet": "kapproto.screening",
    "RuleSeverity": "kapproto.screening",
    "ScreeningFinding": "kapproto.screening",
    "ScreeningReport": "kapproto.screening",
    "get_ruleset": "kapproto.screening",
    "load_ruleset": "kapproto.screening",
    "screen": "kapproto.screening",
    "screen_many": "kapproto.screening",
    # sessions, protocols and the compliance check
    "VitalSigns": "kapproto._vitals",
    "Acknowledgement": "kapproto._sessions",
    "AdverseEvent": "kapproto._sessions",
    "AdverseEventOutcome": "kapproto._sessions",
    "AdverseEventSeverity": "kapproto._sessions",
    "Course": "kapproto._courses",
    "Reference": "kapproto._sessions",
    "Seriousness": "kapproto._sessions",
    "Session": "kapproto._sessions",
    "SessionKind": "kapproto._sessions",
    "SessionStatus": "kapproto._sessions",
    "facts_from_session": "kapproto._sessions",
    "CourseOutcome": "kapproto._courses",
    "Anchor": "kapproto._protocols",
    "BpThreshold": "kapproto._protocols",
    "Monitoring": "kapproto._protocols",
    "Observation": "kapproto._protocols",
    "Protocol": "kapproto._protocols",
    "Recheck": "kapproto._protocols",
    "Schedule": "kapproto._protocols",
    "Confidence": "kapproto._params",
    "Parameter": "kapproto._params",
    "Catalog": "kapproto._catalog",
    "get_protocol": "kapproto._catalog",
    "load_protocol": "kapproto._catalog",
    "ComplianceReport": "kapproto._compliance",
    "NotEvaluable": "kapproto._compliance",
    "Status": "kapproto._compliance",
    "check_course": "kapproto._compliance",
    "check_session": "kapproto._compliance",
    # integration plans
    "IntegrationPlan": "kapproto._plans",
    "PlanAnchor": "kapproto._plan_steps",
    "PlanConflict": "kapproto._activities",
    "PlanStep": "kapproto._plan_steps",
    "PlanTemplate": "kapproto._integration",
    "PlannedActivity": "kapproto._activities",
    "StepKind": "kapproto._activities",
    "StepWindow": "kapproto._plan_steps",
    "WindowSide": "kapproto._plan_steps",
    "builtin_templates": "kapproto._integration",
    "get_template": "kapproto._integration",
    "load_template": "kapproto._integration",
    # serialization
    "to_json": "kapproto.serialization",
    "from_json": "kapproto.serialization",
    "to_dict": "kapproto.serialization",
    "from_dict": "kapproto.serialization",
}

# Public submodules, imported on first attribute access.
_SUBMODULES = frozenset(
    {
        "exceptions",
        "units",
        "serialization",
        "instruments",
        "screening",
        "fhir",
        "testing",
        "synthetic",
        "tabular",
        "cli",
    }
)

__all__ = [
    # errors
    "KapprotoError",
    "ProtocolError",
    "RuleError",
    "UnitError",
    "UnknownReferenceError",
    "ValidationError",
    # units
    "format_quantity",
    "quantity",
    "to_ucum",
    "use_registry",
    # codes and findings
    "Coding",
    "Finding",
    "Severity",
    "finding_catalogue",
    # routes and dosing
    "Administration",
    "Basis",
    "Bioavailability",
    "DoseBound",
    "DoseCheck",
    "DoseLimits",
    "DoseSpec",
    "ExposureEstimate",
    "Formulation",
    "Medication",
    "Route",
    "check_dose_limits",
    "check_doses",
    "infusion_rate",
    "iv_equivalent",
    "volume_for",
    # instruments
    "Instrument",
    "InstrumentResponse",
    "Score",
    "change",
    "get_instrument",
    "is_remission",
    "is_response",
    "score",
    # screening
    "Decision",
    "Facts",
    "Rule",
    "RuleSet",
    "RuleSeverity",
    "ScreeningFinding",
    "ScreeningReport",
    "get_ruleset",
    "load_ruleset",
    "screen",
    "screen_many",
    # sessions, protocols and the compliance check
    "Acknowledgement",
    "AdverseEvent",
    "AdverseEventOutcome",
    "AdverseEventSeverity",
    "Anchor",
    "BpThreshold",
    "Catalog",
    "ComplianceReport",
    "Confidence",
    "Course",
    "Monitoring",
    "NotEvaluable",
    "Observation",
    "Parameter",
    "Protocol",
    "Recheck",
    "Reference",
    "Schedule",
    "Seriousness",
    "Session",
    "SessionKind",
    "SessionStatus",
    "Status",
    "VitalSigns",
    "check_course",
    "check_session",
    "facts_from_session",
    "CourseOutcome",
    "get_protocol",
    "load_protocol",
    # integration plans
    "IntegrationPlan",
    "PlanAnchor",
    "PlanConflict",
    "PlanStep",
    "PlanTemplate",
    "PlannedActivity",
    "StepKind",
    "StepWindow",
    "WindowSide",
    "builtin_templates",
    "get_template",
    "load_template",
    # serialization
    "from_dict",
    "from_json",
    "to_dict",
    "to_json",
]

if TYPE_CHECKING:
    from kapproto._activities import PlanConflict, PlannedActivity, StepKind
    from kapproto._administration import Administration
    from kapproto._bounds import DoseBound
    from kapproto._catalog import Catalog, get_protocol, load_protocol
    from kapproto._codes import Coding
    from kapproto._compliance import (
        ComplianceReport,
        NotEvaluable,
        Status,
        check_course,
        check_session,
    )
    from kapproto._courses import Course, CourseOutcome
    from kapproto._dose_checks import DoseCheck, check_dose_limits, check_doses
    from kapproto._dosing import (
        DoseSpec,
        ExposureEstimate,
        infusion_rate,
        iv_equivalent,
        volume_for,
    )
    from kapproto._findings import Finding, Severity, finding_catalogue
    from kapproto._integration import (
        PlanTemplate,
        builtin_templates,
        get_template,
        load_template,
    )
    from kapproto._limits import DoseLimits
    from kapproto._params import Confidence, Parameter
    from kapproto._plan_steps import PlanAnchor, PlanStep, StepWindow, WindowSide
    from kapproto._plans import IntegrationPlan
    from kapproto._protocols import (
        Anchor,
        BpThreshold,
        Monitoring,
        Observation,
        Protocol,
        Recheck,
        Schedule,
    )
    from kapproto._routes import Basis, Bioavailability, Formulation, Medication, Route
    from kapproto._sessions import (
        Acknowledgement,
        AdverseEvent,
        AdverseEventOutcome,
        AdverseEventSeverity,
        Reference,
        Seriousness,
        Session,
        SessionKind,
        SessionStatus,
        facts_from_session,
    )
    from kapproto._vitals import VitalSigns
    from kapproto.exceptions import (
        KapprotoError,
        ProtocolError,
        RuleError,
        UnitError,
        UnknownReferenceError,
        ValidationError,
    )
    from kapproto.instruments import (
        Instrument,
        InstrumentResponse,
        Score,
        change,
        get_instrument,
        is_remission,
        is_response,
        score,
    )
    from kapproto.screening import (
        Decision,
        Facts,
        Rule,
        RuleSet,
        RuleSeverity,
        ScreeningFinding,
        ScreeningReport,
        get_ruleset,
        load_ruleset,
        screen,
        screen_many,
    )
    from kapproto.serialization import from_dict, from_json, to_dict, to_json
    from kapproto.units import format_quantity, quantity, to_ucum, use_registry


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        value: Any = version("kapproto")
    elif name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"kapproto.{name}")
    else:
        raise AttributeError(f"module 'kapproto' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES, "__version__"})
