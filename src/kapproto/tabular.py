"""Flat rows and DataFrames of sessions, administrations, vital signs and scores, for analysis.

:func:`to_rows` turns courses (or bare sessions) into one row per record: a
``dict`` of JSON primitives with exactly the columns of :data:`COLUMNS`, in
that order, ``None`` where a column does not apply to the record. Quantities
are plain numbers in the unit the column name states (``amount_mg``,
``systolic_mmHg``); times are ISO 8601 strings with the offset as recorded.
:func:`to_dataframe` builds a pandas or polars DataFrame from the same rows and
needs the ``kapproto[tabular]`` extra (pandas) or polars.

Only the sessions that count are included: a record entered in error, or one
superseded by a correction, is left out (see :attr:`kapproto.Course.effective_sessions`).

Columns (``record_type`` says which columns a row fills):

=============================  =========  ============================================
column                         type       meaning
=============================  =========  ============================================
``record_type``                str        ``session``, ``administration``,
                                          ``vital_signs`` or ``score``
``course_id``                  str        the course's id (``None`` for a bare session)
``patient``                    str        opaque patient id
``protocol``                   str        ``id@version`` the session ran under
``session_id``                 str        the session's id
``session_kind``               str        ``preparation``, ``dosing``, ``integration``,
                                          ``follow_up``
``session_status``             str        ``final`` or ``amended``
``day``                        int        course day of ``time`` (day 1 is the first
                                          dosing day, in the course's timezone)
``time``                       str        session start, administration start, reading
                                          or assessment time (ISO 8601)
``end``                        str        session end or infusion end (ISO 8601)
``discharged_at``              str        discharge time (session rows)
``withheld_reason``            str        why a dose was withheld (session rows)
``weight_kg``                  float      the session's recorded weight, on each of its rows
``administration_id``          str        the administration's id
``medication``                 str        ``ketamine`` or ``esketamine``
``route``                      str        route value, e.g. ``intramuscular``
``formulation``                str        formulation value, e.g. ``troche``
``basis``                      str        ``base`` or ``hydrochloride``
``amount_mg``                  float      amount given, mg
``concentration_mg_per_mL``    float      solution strength, mg/mL
``volume_mL``                  float      volume given, mL
``rate_mg_per_min``            float      mean infusion rate, mg/min
``systolic_mmHg``              float      systolic blood pressure, mm[Hg]
``diastolic_mmHg``             float      diastolic blood pressure, mm[Hg]
``heart_rate_per_min``         float      heart rate, /min
``respiratory_rate_per_min``   float      respiratory rate, /min
``spo2_pct``                   float      SpO2, %
``instrument``                 str        instrument id, e.g. ``phq9``
``total``                      int        the score's total (``None`` for scales
                                          without one, such as the C-SSRS screener)
``band``                       str        severity band id, e.g. ``moderate``
``flags``                      str        the score's flags, sorted, comma-separated
=============================  =========  ============================================

Example:
    >>> from kapproto import synthetic, tabular
    >>> rows = tabular.to_rows(synthetic.cohort(2, seed=1))
    >>> sorted({r["record_type"] for r in rows})
    ['administration', 'score', 'session', 'vital_signs']
    >>> list(rows[0]) == list(tabular.COLUMNS)
    True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from kapproto._courses import Course
from kapproto._sessions import Session
from kapproto.exceptions import ValidationError

__all__ = ["COLUMNS", "to_dataframe", "to_rows"]

COLUMNS: Final[Mapping[str, type]] = {
    "record_type": str,
    "course_id": str,
    "patient": str,
    "protocol": str,
    "session_id": str,
    "session_kind": str,
    "session_status": str,
    "day": int,
    "time": str,
    "end": str,
    "discharged_at": str,
    "withheld_reason": str,
    "weight_kg": float,
    "administration_id": str,
    "medication": str,
    "route": str,
    "formulation": str,
    "basis": str,
    "amount_mg": float,
    "concentration_mg_per_mL": float,
    "volume_mL": float,
    "rate_mg_per_min": float,
    "systolic_mmHg": float,
    "diastolic_mmHg": float,
    "heart_rate_per_min": float,
    "respiratory_rate_per_min": float,
    "spo2_pct": float,
    "instrument": str,
    "total": int,
    "band": str,
    "flags": str,
}
"""Every column of a row, in order, with the Python type of its non-``None`` values."""

_VITALS: Final = (
    ("systolic", "systolic_mmHg"),
    ("diastolic", "diastolic_mmHg"),
    ("heart_rate", "heart_rate_per_min"),
    ("respiratory_rate", "respiratory_rate_per_min"),
    ("spo2", "spo2_pct"),
)


def to_rows(records: Iterable[Course | Session]) -> list[dict[str, Any]]:
    """One row per session, administration, vital-signs reading and score.

    Args:
        records: :class:`~kapproto.Course` records (their effective sessions are
            used) or bare :class:`~kapproto.Session` records, in any mix.

    Returns:
        The rows in record order (each session's row, then its
        administrations, vital signs and scores), each with exactly the keys
        of :data:`COLUMNS`, in order.

    Raises:
        ValidationError: ``records`` is not an iterable, or an item is
            neither a course nor a session.

    Example:
        >>> from kapproto import Session, from_json
        >>> text = open("examples/sessions/im-session.json").read()
        >>> rows = to_rows([from_json(text, Session)])
        >>> [(r["record_type"], r["amount_mg"], r["systolic_mmHg"]) for r in rows][:3]
        [('session', None, None), ('administration', 40.0, None), ('vital_signs', None, 128.0)]
    """
    return list(_rows(records))


def _rows(records: Iterable[Course | Session]) -> Iterator[dict[str, Any]]:
    if isinstance(records, Course | Session | str | bytes) or not isinstance(records, Iterable):
        raise ValidationError(
            f"expected an iterable of courses or sessions, got {type(records).__name__}", path="$"
        )
    for i, record in enumerate(records):
        if isinstance(record, Course):
            for session in record.effective_sessions:
                yield from _session_rows(session, record)
        elif isinstance(record, Session):
            yield from _session_rows(record, None)
        else:
            raise ValidationError(
                f"expected a Course or a Session, got {type(record).__name__}", path=f"$[{i}]"
            )


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _number(q: Any) -> float | None:
    return None if q is None else float(q.magnitude)


def _session_rows(session: Session, course: Course | None) -> Iterator[dict[str, Any]]:
    # Course.day_of, with day 1 found once per session rather than once per row.
    zone = None if course is None else course.timezone
    day_one = None if course is None else course.day_of(session.start) - 1

    def day(moment: dt.datetime) -> int | None:
        if course is None or day_one is None:
            return None
        delta = moment.astimezone(zone).date() - session.start.astimezone(zone).date()
        return day_one + delta.days + 1

    def row(record_type: str, time: dt.datetime, **values: Any) -> dict[str, Any]:
        out = dict.fromkeys(COLUMNS)
        out.update(
            record_type=record_type,
            course_id=None if course is None else course.id,
            patient=session.patient,
            protocol=None if session.protocol is None else str(session.protocol),
            session_id=session.id,
            session_kind=session.kind.value,
            session_status=session.status.value,
            day=day(time),
            time=time.isoformat(),
            weight_kg=_number(session.weight),
        )
        out.update(values)
        return out

    yield row(
        "session",
        session.start,
        end=_iso(session.end),
        discharged_at=_iso(session.discharged_at),
        withheld_reason=session.withheld_reason,
    )
    for adm in session.administrations:
        yield row(
            "administration",
            adm.start,
            end=_iso(adm.end),
            administration_id=adm.id,
            medication=adm.medication.value,
            route=adm.route.value,
            formulation=adm.formulation.value,
            basis=adm.basis.value,
            amount_mg=_number(adm.amount),
            concentration_mg_per_mL=_number(adm.concentration),
            volume_mL=_number(adm.volume),
            rate_mg_per_min=_number(adm.rate),
        )
    for reading in session.vitals:
        yield row(
            "vital_signs",
            reading.time,
            **{column: _number(getattr(reading, field)) for field, column in _VITALS},
        )
    for response, score in session.scores():
        yield row(
            "score",
            response.time,
            instrument=response.instrument,
            total=score.total,
            band=score.band,
            flags=",".join(sorted(score.flags)) or None,
        )


def to_dataframe(records: Iterable[Course | Session], *, backend: str = "pandas") -> Any:
    """The rows of :func:`to_rows` as a DataFrame, with the columns of :data:`COLUMNS`.

    Times stay ISO 8601 strings (offsets may differ between rows); convert
    them with ``pandas.to_datetime(df["time"], utc=True)`` or polars'
    ``str.to_datetime``.

    Args:
        records: Courses and/or sessions, as for :func:`to_rows`.
        backend: ``"pandas"`` (the ``kapproto[tabular]`` extra) or ``"polars"``.

    Returns:
        A ``pandas.DataFrame`` or ``polars.DataFrame``.

    Raises:
        ValidationError: An unknown backend.
        ImportError: The backend's package is not installed; the message
            names the extra to install.

    Example:
        >>> from kapproto import synthetic
        >>> frame = to_dataframe(synthetic.cohort(2, seed=1))  # doctest: +SKIP
        >>> frame.groupby("record_type").size()["score"]  # doctest: +SKIP
        8
    """
    if backend not in ("pandas", "polars"):
        raise ValidationError(
            f"backend={backend!r} is not supported; expected 'pandas' or 'polars'",
            path="$.backend",
        )
    rows = to_rows(records)
    try:
        module = __import__(backend)
    except ImportError:
        hint = "pip install 'kapproto[tabular]'" if backend == "pandas" else "pip install polars"
        raise ImportError(
            f"kapproto.tabular.to_dataframe(backend={backend!r}) needs {backend}, which is not "
            f"installed: {hint}"
        ) from None
    if backend == "pandas":
        frame = module.DataFrame(rows, columns=list(COLUMNS))
        ints = {name: "Int64" for name, tp in COLUMNS.items() if tp is int}
        floats = {name: "float64" for name, tp in COLUMNS.items() if tp is float}
        return frame.astype({**ints, **floats})
    types = {str: module.Utf8, int: module.Int64, float: module.Float64}
    schema = {name: types[tp] for name, tp in COLUMNS.items()}
    return module.DataFrame(rows, schema=schema, orient="row")
