"""Tests for kapproto.tabular."""

from __future__ import annotations

import builtins
import datetime as dt
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import Course, Session, SessionStatus, ValidationError, from_json
from kapproto.synthetic import cohort
from kapproto.tabular import COLUMNS, to_dataframe, to_rows

ROOT = Path(__file__).resolve().parents[1]
PROTOCOLS = ["iv-racemic-standard", "im-kap", "sl-kap", "sc-racemic", "esketamine-trd"]


def _course() -> Course:
    return from_json((ROOT / "examples/sessions/course.json").read_text(), Course)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_rows_have_exactly_the_documented_columns_and_types(seed: int) -> None:
    """Every row has the keys of COLUMNS, in order, each None or of its documented type."""
    for row in to_rows(cohort(3, seed=seed, protocol=PROTOCOLS)):
        assert list(COLUMNS) == list(row)
        for name, value in row.items():
            assert value is None or type(value) is COLUMNS[name], (name, value)


def test_columns_are_documented() -> None:
    """Each column is listed in the module docstring's table."""
    import kapproto.tabular as tabular

    assert tabular.__doc__ is not None
    assert [] == [c for c in COLUMNS if f"``{c}``" not in tabular.__doc__]


def test_one_row_per_record() -> None:
    """A course gives one row per session, administration, vital-signs reading and score."""
    course = _course()
    rows = to_rows([course])
    sessions = course.effective_sessions
    expected = {
        "session": len(sessions),
        "administration": sum(len(s.administrations) for s in sessions),
        "vital_signs": sum(len(s.vitals) for s in sessions),
        "score": sum(len(s.assessments) for s in sessions),
    }
    assert expected == {k: sum(r["record_type"] == k for r in rows) for k in expected}


def test_values_of_the_example_course() -> None:
    """The example course's first dose, reading and score come out in the column units."""
    rows = to_rows([_course()])
    adm = next(r for r in rows if r["record_type"] == "administration")
    assert (40.0, None, 100.0, "intramuscular", "base", 80.0, 1) == (
        adm["amount_mg"],
        adm["volume_mL"],
        adm["concentration_mg_per_mL"],
        adm["route"],
        adm["basis"],
        adm["weight_kg"],
        adm["day"],
    )
    vitals = next(r for r in rows if r["record_type"] == "vital_signs")
    assert (128.0, 82.0, 72.0, None, 98.0) == (
        vitals["systolic_mmHg"],
        vitals["diastolic_mmHg"],
        vitals["heart_rate_per_min"],
        vitals["respiratory_rate_per_min"],
        vitals["spo2_pct"],
    )
    score = next(r for r in rows if r["record_type"] == "score")
    assert ("phq9", 12, "moderate", "2026-02-23T10:05:00-07:00", -6) == (
        score["instrument"],
        score["total"],
        score["band"],
        score["time"],
        score["day"],
    )
    assert "im-kap@1" == score["protocol"]
    assert "c-001" == score["course_id"]


def test_infusion_rate_and_end() -> None:
    """An IV infusion row carries its end and its mean rate in mg/min."""
    course = cohort(1, seed=3, protocol="iv-racemic-standard")[0]
    adm = course.dosing_sessions[0].administrations[0]
    row = next(r for r in to_rows([course]) if r["record_type"] == "administration")
    assert adm.end is not None
    assert adm.end.isoformat() == row["end"]
    assert pytest.approx(adm.amount.magnitude / 40) == row["rate_mg_per_min"]


def test_bare_session_has_no_course_columns() -> None:
    """A bare session gives rows without course id or course day."""
    session = from_json((ROOT / "examples/sessions/im-session.json").read_text(), Session)
    rows = to_rows([session])
    assert {None} == {r["course_id"] for r in rows}
    assert {None} == {r["day"] for r in rows}
    assert {"s-001"} == {r["session_id"] for r in rows}


def test_entered_in_error_sessions_are_left_out() -> None:
    """A session entered in error has no rows."""
    course = _course()
    wrong = attrs.evolve(course.sessions[1], status=SessionStatus.ENTERED_IN_ERROR)
    fixed = attrs.evolve(course, sessions=(course.sessions[0], wrong, *course.sessions[2:]))
    assert wrong.id not in {r["session_id"] for r in to_rows([fixed])}


def test_not_a_record() -> None:
    """Anything but a course or a session is a ValidationError naming its position."""
    with pytest.raises(ValidationError, match=r"\$\[1\]: expected a Course or a Session, got dict"):
        to_rows([_course(), {"id": "x"}])  # type: ignore[list-item]


@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=5),
        st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3)), min_size=1, max_size=3),
    )
)
def test_junk_raises_only_validation_error(records: object) -> None:
    """Anything that is not an iterable of courses and sessions is a ValidationError."""
    with pytest.raises(ValidationError):
        to_rows(records)  # type: ignore[arg-type]


def test_unknown_backend() -> None:
    """An unknown backend is a ValidationError at $.backend."""
    with pytest.raises(ValidationError, match=r"\$\.backend: backend='excel' is not supported"):
        to_dataframe([], backend="excel")


def test_missing_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pandas the error says to install kapproto[tabular]."""
    real = builtins.__import__

    def fake(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in ("pandas", "polars"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"pip install 'kapproto\[tabular\]'"):
        to_dataframe([_course()])
    with pytest.raises(ImportError, match="pip install polars"):
        to_dataframe([_course()], backend="polars")


def test_pandas_dataframe() -> None:
    """The pandas frame has the rows and columns of to_rows, with numeric columns typed."""
    pd = pytest.importorskip("pandas")
    courses = cohort(5, seed=2, protocol=PROTOCOLS)
    frame = to_dataframe(courses)
    rows = to_rows(courses)
    assert list(COLUMNS) == list(frame.columns)
    assert len(rows) == len(frame)
    assert "Int64" == str(frame["total"].dtype)
    assert "float64" == str(frame["amount_mg"].dtype)
    first = pd.to_datetime(frame["time"], utc=True).iloc[0]
    assert dt.datetime.fromisoformat(rows[0]["time"]) == first.to_pydatetime()


def test_polars_dataframe() -> None:
    """The polars frame has the rows and columns of to_rows."""
    pytest.importorskip("polars")
    courses = cohort(3, seed=2, protocol=PROTOCOLS)
    frame = to_dataframe(courses, backend="polars")
    assert list(COLUMNS) == frame.columns
    assert len(to_rows(courses)) == frame.height
