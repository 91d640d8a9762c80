"""Tests of the ``kapproto dose`` command and ``kapproto list routes|formulations``."""

from __future__ import annotations

import json

import pytest

from kapproto.cli import main
from kapproto.cli._common import DISCLAIMER

IV = ("dose", "--route", "intravenous")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_dose_volume_rate_text(capsys: pytest.CaptureFixture[str]) -> None:
    """0.5 mg/kg at 80 kg, 100 mg/mL over 40 min: 40 mg, 0.4 mL, 1 mg/min, with the disclaimer."""
    code, out, err = run(
        capsys,
        *IV,
        "--weight",
        "80 kg",
        "--dose",
        "0.5 mg/kg",
        "--concentration",
        "100 mg/mL",
        "--duration",
        "40 min",
    )
    assert (0, "") == (code, err)
    lines = out.splitlines()
    assert lines[0].startswith("dose    40 mg  (0.5 mg/kg x 80 kg")
    assert lines[1] == "volume  0.4 mL  (at 100 mg/mL)"
    assert lines[2] == "rate    1 mg/min  (over 40 min)"
    assert DISCLAIMER == lines[-1]


def test_dose_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints canonical quantities, in UCUM units, leaving out what was not asked."""
    code, out, _ = run(
        capsys, *IV, "--weight", "176 lb", "--dose", "500 mcg/kg", "--format", "json"
    )
    data = json.loads(out)
    weight = data.pop("weight")
    assert 0 == code
    assert {
        "medication": "ketamine",
        "route": "intravenous",
        "prescribed": {"value": 0.5, "unit": "mg/kg"},
        "dose": {"value": 39.9, "unit": "mg"},
    } == data
    assert "kg" == weight["unit"]
    assert 79.83 == pytest.approx(weight["value"], abs=0.01)


def test_fixed_dose_needs_no_weight(capsys: pytest.CaptureFixture[str]) -> None:
    """A fixed sublingual dose prints without a weight."""
    code, out, _ = run(capsys, "dose", "--route", "sublingual", "--dose", "200 mg")
    assert 0 == code
    assert out.startswith("dose    200 mg  (fixed dose; ketamine, sublingual)")


def test_exposure_estimate_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """The IV-equivalent exposure estimate is never printed as a dose."""
    _, out, _ = run(capsys, "dose", "--route", "oral", "--dose", "200 mg", "--format", "json")
    assert {"medication", "route", "prescribed", "dose"} == set(json.loads(out))
    _, text, _ = run(capsys, "dose", "--route", "oral", "--dose", "200 mg")
    assert "equivalent" not in text.lower()


@pytest.mark.parametrize(
    ("args", "option", "text"),
    [
        (("--dose", "0.5 mg/kg"), "--weight", "needs --weight"),
        (("--dose", "0.5", "--weight", "80 kg"), "--dose", "bare number"),
        (("--dose", "0.5 mg/kg", "--weight", "80"), "--weight", "bare number"),
        (("--dose", "0.5 mg/kg", "--weight", "800 kg"), "--weight", "physically possible"),
        (("--dose", "0.5 mg/kg", "--weight", "0.5 kg"), "--weight", "physically possible"),
        (("--dose", "-5 mg"), "--dose", "greater than zero"),
        (("--dose", "40 mL"), "--dose", "a dose is a MASS"),
        (("--dose", "40 mg", "--concentration", "100 mg"), "--concentration", "CONCENTRATION"),
        (("--dose", "40 mg", "--duration", "0 min"), "--duration", "greater than zero"),
        (("--dose", "40 mg", "--duration", "40"), "--duration", "no unit"),
    ],
)
def test_bad_input_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], option: str, text: str
) -> None:
    """Bad input exits 2 with the option and the problem on stderr, no traceback."""
    code, out, err = run(capsys, *IV, *args)
    assert 2 == code
    assert "" == out
    assert f"  {option}: " in err
    assert text in err
    assert "Traceback" not in err


def test_unknown_route_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown route is refused by the argument parser."""
    with pytest.raises(SystemExit) as info:
        main(["dose", "--route", "iv", "--dose", "40 mg"])
    assert 2 == info.value.code
    assert "invalid choice" in capsys.readouterr().err


def test_esketamine(capsys: pytest.CaptureFixture[str]) -> None:
    """--medication esketamine is shown in the output."""
    _, out, _ = run(
        capsys, "dose", "--route", "intranasal", "--dose", "56 mg", "--medication", "esketamine"
    )
    assert "esketamine, intranasal" in out


def test_list_routes(capsys: pytest.CaptureFixture[str]) -> None:
    """`kapproto list routes` shows each route's SNOMED code and bioavailability."""
    code, out, _ = run(capsys, "list", "routes", "--format", "json")
    rows = {r["route"]: r for r in json.loads(out)}
    assert 0 == code
    assert "78421000" == rows["intramuscular"]["SNOMED CT"]
    assert "not established" == rows["subcutaneous"]["bioavailability"]
    assert "20 % to 25 %" == rows["oral"]["bioavailability"]


def test_list_formulations(capsys: pytest.CaptureFixture[str]) -> None:
    """`kapproto list formulations` shows routes, labelled basis and the 28 mg device."""
    _, out, _ = run(capsys, "list", "formulations", "--format", "json")
    rows = {r["formulation"]: r for r in json.loads(out)}
    assert "esketamine 28 mg" == rows["nasal_spray_device"]["per device"]
    assert "buccal, sublingual" == rows["troche"]["routes"]
    assert "base" == rows["solution_for_injection"]["labelled as"]


def test_protocol_within_limits_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """A dose inside every im-kap limit exits 0 and says so."""
    code, out, _ = run(
        capsys,
        "dose",
        "--route",
        "intramuscular",
        "--weight",
        "80 kg",
        "--dose",
        "0.5 mg/kg",
        "--protocol",
        "im-kap",
    )
    assert 0 == code
    assert "protocol im-kap version 1:" in out
    assert "within every limit" in out


def test_protocol_above_limit_exits_1_with_the_finding(capsys: pytest.CaptureFixture[str]) -> None:
    """0.9 mg/kg IM at 80 kg is above im-kap's 0.75 mg/kg (60 mg): dose.above_max, exit 1."""
    code, out, _ = run(
        capsys,
        "dose",
        "--route",
        "intramuscular",
        "--weight",
        "80 kg",
        "--dose",
        "0.9 mg/kg",
        "--protocol",
        "im-kap",
        "--format",
        "json",
    )
    assert 1 == code
    data = json.loads(out)
    assert ["dose.above_max"] == [f["code"] for f in data["findings"]]
    assert {"id": "im-kap", "version": "1"} == data["protocol"]


def test_protocol_first_session_and_rate(capsys: pytest.CaptureFixture[str]) -> None:
    """84 mg esketamine on day 1 and a 20-minute IV infusion each break their limit."""
    code, out, _ = run(
        capsys,
        "dose",
        "--route",
        "intranasal",
        "--medication",
        "esketamine",
        "--dose",
        "84 mg",
        "--protocol",
        "esketamine-trd",
        "--first-session",
    )
    assert 1 == code
    assert "dose.above_first_session_max" in out
    code, out, _ = run(
        capsys,
        "dose",
        "--route",
        "intravenous",
        "--weight",
        "70 kg",
        "--dose",
        "0.5 mg/kg",
        "--duration",
        "20 min",
        "--protocol",
        "iv-racemic-standard",
    )
    assert 1 == code
    assert "dose.rate_above_max" in out


def test_protocol_route_not_allowed_and_unknown_protocol(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A route the protocol does not allow is a finding; an unknown protocol is bad input."""
    code, out, _ = run(
        capsys,
        "dose",
        "--route",
        "oral",
        "--dose",
        "100 mg",
        "--protocol",
        "im-kap",
    )
    assert 1 == code
    assert "dose.route_not_allowed" in out
    code, _, err = run(capsys, "dose", "--route", "oral", "--dose", "100 mg", "--protocol", "nope")
    assert 2 == code
    assert "im-kap" in err
    assert "Traceback" not in err
