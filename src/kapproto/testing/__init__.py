"""Hypothesis strategies for property-testing code that uses kapproto.

Install the extra: ``pip install kapproto[testing]``. Every strategy produces
valid kapproto values (records that build without error), so your own tests
can assert invariants of your code over them.

Example:
    >>> from hypothesis import given
    >>> from kapproto.testing import quantities
    >>> from kapproto.units import MASS
    >>> @given(quantities(MASS, max_value=100))
    ... def test_mass(q):
    ...     assert q.units == MASS.unit
    >>> test_mass()
"""

from __future__ import annotations

from kapproto.testing._basics import (
    aware_datetimes,
    json_values,
    quantities,
    timezones,
    unit_spellings,
)
from kapproto.testing._course_violations import (
    course_violation_codes,
    course_violations,
    courses_missing_a_record,
)
from kapproto.testing._courses import courses
from kapproto.testing._dosing import administrations, dose_limits, dose_specs
from kapproto.testing._instruments import instrument_answers, instrument_responses
from kapproto.testing._missing import sessions_missing_a_record
from kapproto.testing._plans import plan_templates, step_windows
from kapproto.testing._screening import facts, rulesets
from kapproto.testing._sessions import sessions
from kapproto.testing._violations import violation_codes, violations

__all__ = [
    # foundation
    "aware_datetimes",
    "json_values",
    "quantities",
    "timezones",
    "unit_spellings",
    # instruments
    "instrument_answers",
    "instrument_responses",
    # routes and dosing
    "administrations",
    "dose_limits",
    "dose_specs",
    # sessions and courses
    "sessions",
    "courses",
    # violations
    "sessions_missing_a_record",
    "violation_codes",
    "violations",
    "course_violation_codes",
    "course_violations",
    "courses_missing_a_record",
    # screening
    "facts",
    "rulesets",
    # integration plans
    "plan_templates",
    "step_windows",
]

# Strategies are documented, and show in tracebacks, as kapproto.testing.<name>.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
