"""Observation and recheck measured from the end of the last administration (``last_administration_end``).

An infusion's end is a fact of its own: without it the anchor is unknown and
the check is not evaluable at ``$.administrations[i].end``, unless the
observation is too short even from the infusion's start. A bolus (IM, SC, SL,
intranasal) has no end in the record model: it ends when it starts.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from kapproto import DoseLimits, Protocol, Session, Status, check_session, from_dict
from kapproto._compliance_report import ComplianceReport

Data = dict[str, Any]

START = dt.datetime.fromisoformat("2026-03-02T09:00:00-07:00")


def at(minutes: int) -> str:
    """The ISO time ``minutes`` after the session start (09:00 MST)."""
    return (START + dt.timedelta(minutes=minutes)).isoformat()


def clinic_protocol(route: str = "intravenous", **monitoring: Any) -> Protocol:
    """A clinic protocol: 2 h observation from the end of the last administration, no recheck."""
    entry: Data = {"medication": "ketamine", "route": route, "per_administration_max": "0.5 mg/kg"}
    return Protocol.from_dict(
        {
            "id": "clinic-iv",
            "version": "1",
            "title": "Clinic IV protocol",
            "sources": ["Clinic SOP"],
            "doses": [entry],
            "monitoring": {
                "predose_bp": True,
                "min_observation": {"value": "2 h", "anchor": "last_administration_end"},
                **monitoring,
            },
        }
    )


def session(
    *infusions: tuple[int, int | None], route: str = "intravenous", discharge: int = 160
) -> Data:
    """A dosing session of 40 mg administrations, each ``(start, end)`` in minutes after 09:00."""
    return {
        "schema": "kapproto.session/1",
        "id": "s-iv",
        "patient": "p-001",
        "kind": "dosing",
        "protocol": {"id": "clinic-iv", "version": "1"},
        "start": at(0),
        "end": at(300),
        "weight": {"value": 80, "unit": "kg"},
        "administrations": [
            {
                "id": f"a{i + 1}",
                "medication": "ketamine",
                "route": route,
                "formulation": "solution_for_injection",
                "amount": {"value": 40, "unit": "mg"},
                "start": at(start),
                **({} if end is None else {"end": at(end)}),
            }
            for i, (start, end) in enumerate(infusions)
        ],
        "vitals": [
            {
                "time": at(2),
                "systolic": {"value": 124, "unit": "mm[Hg]"},
                "diastolic": {"value": 78, "unit": "mm[Hg]"},
            }
        ],
        "discharged_at": at(discharge),
    }


def run(data: Data, protocol: Protocol | None = None) -> ComplianceReport:
    """Check the session document under ``protocol`` (the clinic IV protocol by default)."""
    return check_session(from_dict(data, Session), protocol or clinic_protocol())


def outcome(report: ComplianceReport) -> tuple[Status, list[str], list[tuple[str, str]]]:
    """Status, finding codes and (check, path) of each not-evaluable check."""
    return report.status, report.codes(), [(n.check, n.path) for n in report.not_evaluable]


def without_ends(data: Data) -> Data:
    """The session with no administration ``end``."""
    out = copy.deepcopy(data)
    for adm in out["administrations"]:
        adm.pop("end", None)
    return out


# A 40 min infusion, 09:10-09:50, discharged at 11:20: 90 min after its end.
SHORT = session((10, 50), discharge=140)


def test_discharge_90_min_after_a_40_min_infusion_is_too_short() -> None:
    """Measured from the infusion's end, 90 min is short of the 2 h the protocol asks."""
    report = run(SHORT)
    assert (Status.NONCOMPLIANT, ["monitoring.observation_too_short"], []) == outcome(report)
    assert "discharged 90 min after the last administration end" in report.findings[0].message


def test_the_same_infusion_without_an_end_is_not_evaluable() -> None:
    """Without the end the anchor is unknown: not evaluable at the infusion's end, never compliant."""
    report = run(without_ends(SHORT))
    assert (
        Status.INCOMPLETE,
        [],
        [("monitoring.min_observation", "$.administrations[0].end")],
    ) == outcome(report)
    assert "infusion 0 has no end time" in report.not_evaluable[0].reason


def test_two_hours_after_the_infusion_end_complies() -> None:
    """Discharged at 11:50, 2 h after an infusion that ended at 09:50."""
    assert (Status.COMPLIANT, [], []) == outcome(run(session((10, 50), discharge=170)))


def test_too_short_even_from_the_start_is_a_finding_without_the_end() -> None:
    """Discharged 100 min after the infusion started: too short whatever its end was."""
    report = run(without_ends(session((10, 50), discharge=110)))
    assert (Status.NONCOMPLIANT, ["monitoring.observation_too_short"], []) == outcome(report)
    assert (
        "discharged at most 100 min after the last administration end" in report.findings[0].message
    )


def test_each_infusion_without_an_end_is_named() -> None:
    """A second infusion without an end is named by its own index; a known end is not."""
    report = run(session((10, 50), (60, None), discharge=300))
    assert [("monitoring.min_observation", "$.administrations[1].end")] == [
        (n.check, n.path) for n in report.not_evaluable
    ]


def test_recheck_from_the_infusion_end_is_not_evaluable_without_it() -> None:
    """A recheck window anchored at the end cannot be placed without the end."""
    protocol = clinic_protocol(
        recheck={"at": "40 min", "tolerance": "10 min", "anchor": "last_administration_end"}
    )
    data = session((10, 50), discharge=170)
    data["vitals"].append(
        {
            "time": at(90),
            "systolic": {"value": 130, "unit": "mm[Hg]"},
            "diastolic": {"value": 82, "unit": "mm[Hg]"},
        }
    )
    assert (Status.COMPLIANT, [], []) == outcome(run(data, protocol))
    assert (
        Status.INCOMPLETE,
        [],
        [
            ("monitoring.recheck", "$.administrations[0].end"),
            ("monitoring.min_observation", "$.administrations[0].end"),
        ],
    ) == outcome(run(without_ends(data), protocol))


def test_a_route_the_protocol_gives_a_max_rate_is_an_infusion() -> None:
    """A subcutaneous infusion (a protocol built in Python with max_rate for SC) needs its end too."""
    plain = clinic_protocol("subcutaneous")
    entry = DoseLimits.from_dict(
        {"route": "subcutaneous", "per_administration_max": "0.5 mg/kg", "max_rate": "2 mg/min"}
    )
    protocol = attrs.evolve(plain, doses=(entry,))
    assert (Status.COMPLIANT, [], []) == outcome(
        run(session((10, None), route="subcutaneous", discharge=130), plain)
    )
    data = without_ends(session((10, None), route="subcutaneous", discharge=140))
    assert (
        Status.INCOMPLETE,
        [],
        [
            ("dose.rate_above_max", "$.administrations[0].end"),
            ("monitoring.min_observation", "$.administrations[0].end"),
        ],
    ) == outcome(run(data, protocol))


def test_a_bolus_ends_when_it_starts() -> None:
    """An IM injection has no end in the record model: the observation counts from its start."""
    protocol = clinic_protocol("intramuscular")
    assert (Status.COMPLIANT, [], []) == outcome(
        run(session((10, None), route="intramuscular", discharge=130), protocol)
    )
    report = run(session((10, None), route="intramuscular", discharge=125), protocol)
    assert (Status.NONCOMPLIANT, ["monitoring.observation_too_short"], []) == outcome(report)
    assert "discharged 115 min after" in report.findings[0].message


def test_a_recorded_bolus_end_is_used() -> None:
    """An end recorded for a non-infusion (a troche held 20 min, say) is the anchor."""
    protocol = clinic_protocol("intramuscular")
    report = run(session((10, 30), route="intramuscular", discharge=130), protocol)
    assert (Status.NONCOMPLIANT, ["monitoring.observation_too_short"], []) == outcome(report)


@given(
    duration=st.integers(1, 90),
    discharge_after_start=st.integers(30, 260),
)
def test_removing_an_infusion_end_is_never_compliant_nor_a_new_verdict(
    duration: int, discharge_after_start: int
) -> None:
    """Without the end: never compliant; a finding only if every possible end gives it."""
    data = session((10, 10 + duration), discharge=10 + discharge_after_start)
    data["administrations"][0]["end"] = at(10 + min(duration, discharge_after_start))
    full, partial = run(data), run(without_ends(data))
    assert Status.COMPLIANT is not partial.status
    if partial.status is Status.NONCOMPLIANT:
        assert ["monitoring.observation_too_short"] == partial.codes() == full.codes()
        assert discharge_after_start < 120
    else:
        assert [("monitoring.min_observation", "$.administrations[0].end")] == [
            (n.check, n.path) for n in partial.not_evaluable
        ]
        assert discharge_after_start >= 120
