"""Tests of the ``kapproto dose`` command and ``kapproto list routes|formulations``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    assert "78421000" == rows["intramuscular"]["snomed_ct"]
    assert "not established" == rows["subcutaneous"]["bioavailability"]
    assert "20 % to 25 %" == rows["oral"]["bioavailability"]


def test_list_formulations(capsys: pytest.CaptureFixture[str]) -> None:
    """`kapproto list formulations` shows routes, labelled basis and the 28 mg device."""
    _, out, _ = run(capsys, "list", "formulations", "--format", "json")
    rows = {r["formulation"]: r for r in json.loads(out)}
    assert "esketamine 28 mg" == rows["nasal_spray_device"]["per_device"]
    assert "buccal, sublingual" == rows["troche"]["routes"]
    assert "base" == rows["solution_for_injection"]["labelled_as"]


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


# --------------------------------------------------------------------------
# Huge but finite amounts
# --------------------------------------------------------------------------

IM_80 = ("dose", "--route", "intramuscular", "--weight", "80 kg")
ONE_E30 = "1" + "0" * 30


def test_huge_dose_without_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    """1e30 mg is computed and printed like any fixed dose: exit 0."""
    code, out, err = run(capsys, *IM_80, "--dose", "1e30 mg")
    assert (0, "") == (code, err)
    assert out.startswith(f"dose    {ONE_E30} mg  (fixed dose; ketamine, intramuscular)")


def test_huge_dose_above_protocol_limit(capsys: pytest.CaptureFixture[str]) -> None:
    """1e30 mg against im-kap is simply above 0.75 mg/kg (60 mg at 80 kg): exit 1."""
    code, out, err = run(capsys, *IM_80, "--dose", "1e30 mg", "--protocol", "im-kap")
    assert (1, "") == (code, err)
    assert (
        f"  error: dose.above_max: dose {ONE_E30} mg is above per_administration_max "
        "0.75 mg/kg (60 mg at 80 kg)"
    ) in out.splitlines()
    code, out, _ = run(
        capsys, *IM_80, "--dose", "1e308 mg", "--protocol", "im-kap", "--format", "json"
    )
    data = json.loads(out)
    assert (1, {"value": 1e308, "unit": "mg"}) == (code, data["dose"])
    assert ["dose.above_max"] == [f["code"] for f in data["findings"]]


def test_huge_dose_as_a_command(tmp_path: Any) -> None:
    """The real command, run as a module, reports 1e30 mg without a traceback (exit 1)."""
    done = subprocess.run(
        [sys.executable, "-m", "kapproto", *IM_80, "--dose", "1e30 mg", "--protocol", "im-kap"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (1, "") == (done.returncode, done.stderr)
    assert "dose.above_max" in done.stdout


@pytest.mark.parametrize(
    ("args", "option", "text"),
    [
        (("--dose", "1e308 mg/kg"), "--dose", "dose=1e+308 mg/kg x 80 kg is 8.000e+309 mg"),
        (
            ("--dose", "1e308 mg", "--concentration", "0.5 mg/mL"),
            "--concentration",
            "beyond the largest magnitude a quantity can hold",
        ),
        (
            ("--dose", "40 mg", "--duration", "1e-307 min"),
            "--duration",
            "beyond the largest magnitude a quantity can hold",
        ),
        (
            ("--dose", "1e30 mg", "--duration", "1e12 min", "--protocol", "iv-racemic-standard"),
            "--duration",
            "cannot be recorded to check against the protocol",
        ),
        (
            ("--dose", "40 mg", "--duration", "1e-9 min", "--protocol", "iv-racemic-standard"),
            "--duration",
            "at least 1 microsecond",
        ),
    ],
)
def test_results_out_of_range_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], option: str, text: str
) -> None:
    """A dose, volume, rate or infusion too large (or short) to hold exits 2 naming the option."""
    code, out, err = run(capsys, *IV, "--weight", "80 kg", *args)
    assert (2, "") == (code, out)
    assert f"  {option}: " in err
    assert text in err
    assert "Traceback" not in err


def test_long_infusion_without_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --protocol no record is built: 1e30 mg over 1e12 min is 1e18 mg/min, exit 0."""
    code, out, _ = run(capsys, *IV, "--dose", "1e30 mg", "--duration", "1e12 min")
    assert 0 == code
    assert f"rate    1{'0' * 18} mg/min  (over 1000000000000 min)" in out.splitlines()


# --------------------------------------------------------------------------
# First session and medication with --protocol
# --------------------------------------------------------------------------

ESK = ("dose", "--route", "intranasal", "--protocol", "esketamine-trd")


@pytest.mark.parametrize(
    ("dose", "flags", "expected"),
    [
        ("84 mg", (), 3),
        ("84 mg", ("--first-session",), 1),
        ("84 mg", ("--not-first-session",), 0),
        ("56 mg", (), 0),
        ("56 mg", ("--first-session",), 0),
        ("112 mg", (), 1),
        ("112 mg", ("--not-first-session",), 1),
    ],
)
def test_first_session_exit_codes(
    capsys: pytest.CaptureFixture[str], dose: str, flags: tuple[str, ...], expected: int
) -> None:
    """Above 56 mg without either flag is not evaluable (3); each flag settles it (1 or 0)."""
    code, out, _ = run(capsys, *ESK, "--medication", "esketamine", "--dose", dose, *flags)
    assert expected == code
    assert (expected == 0) == ("  within every limit the protocol sets" in out.splitlines())


def test_first_session_unknown_says_which_flag(capsys: pytest.CaptureFixture[str]) -> None:
    """84 mg without a flag: the first-session limit is not evaluable, and the flags are named."""
    code, out, _ = run(capsys, *ESK, "--medication", "esketamine", "--dose", "84 mg")
    assert 3 == code
    assert (
        "  not evaluable: dose.first_session_max: session total 84 mg is above "
        "first_session_max 56 mg; it is unknown whether this is the course's first dosing "
        "session: pass --first-session or --not-first-session"
    ) in out.splitlines()
    assert "within every limit" not in out
    code, out, _ = run(
        capsys, *ESK, "--medication", "esketamine", "--dose", "84 mg", "--format", "json"
    )
    data = json.loads(out)
    assert (3, []) == (code, data["findings"])
    assert [("dose.first_session_max", "$.administrations")] == [
        (n["check"], n["path"]) for n in data["not_evaluable"]
    ]


def test_first_session_flags_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    """--first-session and --not-first-session together are refused by the parser (exit 2)."""
    with pytest.raises(SystemExit) as info:
        main([*ESK, "--dose", "84 mg", "--first-session", "--not-first-session"])
    assert 2 == info.value.code
    assert "not allowed with argument --first-session" in capsys.readouterr().err


def test_medication_named_when_the_protocol_has_only_another(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --medication, esketamine-trd's intranasal route asks for --medication esketamine."""
    code, out, err = run(capsys, *ESK, "--dose", "56 mg")
    assert (2, "") == (code, out)
    assert (
        "  --medication: not given, and protocol esketamine-trd has the intranasal route only "
        "for esketamine, not for the default ketamine: pass --medication esketamine"
    ) in err.splitlines()


@pytest.mark.parametrize(
    ("args", "expected", "text"),
    [
        # the route is not in the protocol for any medication: the default stands
        (("--route", "oral", "--dose", "100 mg", "--protocol", "esketamine-trd"), 1, "oral"),
        # ketamine asked for explicitly: its route is not in the protocol
        (
            (
                *("--medication", "ketamine", "--route", "intranasal", "--dose", "56 mg"),
                *("--protocol", "esketamine-trd"),
            ),
            1,
            "ketamine by the intranasal route is not in the protocol",
        ),
        # a ketamine protocol: the default is ketamine, as documented
        (
            (
                *("--route", "intramuscular", "--weight", "80 kg", "--dose", "0.5 mg/kg"),
                *("--protocol", "im-kap"),
            ),
            0,
            "ketamine, intramuscular",
        ),
    ],
)
def test_medication_default_kept(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: int, text: str
) -> None:
    """Ketamine stays the default where the protocol does not offer the route only for another."""
    code, out, err = run(capsys, "dose", *args)
    assert (expected, "") == (code, err)
    assert text in out


def test_per_kg_first_session_limit_without_weight_is_not_evaluable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A per-kg first-session limit with no --weight is never 'within every limit'."""
    protocol = tmp_path / "fs.toml"
    protocol.write_text(
        'id = "clinic-fs"\nversion = "1"\ntitle = "t"\n[[doses]]\nroute = "intramuscular"\n'
        'session_max = "100 mg"\nfirst_session_max = "0.25 mg/kg"\n',
        encoding="utf-8",
    )
    argv = ("dose", "--route", "intramuscular", "--dose", "40 mg", "--protocol", str(protocol))
    code, out, _ = run(capsys, *argv)
    assert 3 == code
    assert "within every limit" not in out
    assert "not evaluable: dose.first_session_max: first_session_max is per body mass" in out
    assert 0 == run(capsys, *argv, "--weight", "200 kg", "--first-session")[0]
