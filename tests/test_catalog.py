"""The catalogue: built-in reference data by id and version, plus a clinic's own files."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from kapproto import Catalog, get_protocol, load_protocol
from kapproto.exceptions import ProtocolError, UnknownReferenceError

CLINIC = Path(__file__).resolve().parent / "fixtures" / "clinic"
PROTOCOLS = Path(__file__).resolve().parent.parent / "src" / "kapproto" / "data" / "protocols"


def write_protocol(path: Path, **changes: Any) -> Path:
    """Write the clinic fixture protocol, with ``changes`` applied, as a JSON protocol file."""
    with (CLINIC / "clinic-im.toml").open("rb") as f:
        data = tomllib.load(f)
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# Built-in lookups
# ---------------------------------------------------------------------------


def test_builtin_lookups() -> None:
    """Protocols, rule sets, templates and instruments are found by id."""
    catalog = Catalog.builtin()
    assert ("im-kap", "1") == (catalog.protocol("im-kap").id, catalog.protocol("im-kap").version)
    assert "ketamine-contraindications" == catalog.ruleset("ketamine-contraindications").id
    assert "kap-weekly-3" == catalog.template("kap-weekly-3").id
    assert "phq9" == catalog.instrument("phq9").id


def test_builtin_is_built_once() -> None:
    """Catalog.builtin() returns the same catalogue each time."""
    assert Catalog.builtin() is Catalog.builtin()


def test_lookup_by_version() -> None:
    """An explicit version is honoured."""
    assert "1" == Catalog.builtin().protocol("esketamine-trd", "1").version


def test_get_protocol_uses_the_builtin_catalogue() -> None:
    """get_protocol(id) is Catalog.builtin().protocol(id)."""
    assert Catalog.builtin().protocol("sl-kap") == get_protocol("sl-kap")


def test_unknown_id_lists_the_known_ones() -> None:
    """An unknown id raises UnknownReferenceError naming it and every known protocol."""
    with pytest.raises(UnknownReferenceError) as info:
        Catalog.builtin().protocol("im-kapp")
    message = str(info.value)
    assert "'im-kapp'" in message
    for known in ("im-kap@1", "esketamine-trd@1", "sl-kap@1", "iv-racemic-standard@1"):
        assert known in message
    assert isinstance(info.value, LookupError)


def test_unknown_version_is_unknown() -> None:
    """A known id at an unknown version raises UnknownReferenceError naming id@version."""
    with pytest.raises(UnknownReferenceError, match="'im-kap@7'"):
        get_protocol("im-kap", "7")


@pytest.mark.parametrize(
    ("method", "wanted", "known"),
    [
        ("ruleset", "clinic-x", "ketamine-contraindications@1"),
        ("template", "kap-weekly-9", "kap-weekly-3@1"),
        ("instrument", "phq10", "phq9@"),
    ],
)
def test_unknown_other_entries(method: str, wanted: str, known: str) -> None:
    """Unknown rule sets, templates and instruments also list what is known."""
    with pytest.raises(UnknownReferenceError) as info:
        getattr(Catalog.builtin(), method)(wanted)
    assert known in str(info.value)


# ---------------------------------------------------------------------------
# A clinic's files
# ---------------------------------------------------------------------------


def test_with_files_adds_a_clinic_folder() -> None:
    """A folder's protocol and rule set join the catalogue; the built-ins stay."""
    catalog = Catalog.builtin().with_files(CLINIC)
    protocol = catalog.protocol("clinic-im")
    assert ("2", False) == (protocol.version, protocol.reference_only)
    assert protocol.ruleset is not None
    assert "clinic-x-screen" == catalog.ruleset(protocol.ruleset.id, protocol.ruleset.version).id
    assert "im-kap" == catalog.protocol("im-kap").id


def test_with_files_leaves_the_builtin_catalogue_alone() -> None:
    """with_files returns a new catalogue; the built-in one does not see the clinic's files."""
    Catalog.builtin().with_files(CLINIC)
    with pytest.raises(UnknownReferenceError):
        Catalog.builtin().protocol("clinic-im")


def test_with_files_accepts_single_files() -> None:
    """Files may be named one by one, in any order."""
    catalog = Catalog.builtin().with_files(
        CLINIC / "clinic-im.toml", CLINIC / "clinic-x-screen.toml"
    )
    assert "clinic-im" == catalog.protocol("clinic-im").id


def test_latest_version_wins(tmp_path: Path) -> None:
    """Without a version the highest is returned, compared as numbers (10 after 9)."""
    catalog = Catalog.builtin().with_files(
        CLINIC / "clinic-x-screen.toml",
        write_protocol(tmp_path / "v9.json", version="9"),
        write_protocol(tmp_path / "v10.json", version="10"),
    )
    assert "10" == catalog.protocol("clinic-im").version
    assert "9" == catalog.protocol("clinic-im", "9").version


def test_a_clinic_version_of_a_builtin_id(tmp_path: Path) -> None:
    """A clinic's im-kap version 2 becomes the latest im-kap; version 1 is still there."""
    catalog = Catalog.builtin().with_files(
        CLINIC / "clinic-x-screen.toml", write_protocol(tmp_path / "p.json", id="im-kap")
    )
    assert "2" == catalog.protocol("im-kap").version
    assert catalog.protocol("im-kap", "1").reference_only


def test_missing_ruleset_reference_is_a_protocol_error() -> None:
    """A clinic protocol naming a rule set no file provides is refused, naming the protocol."""
    with pytest.raises(ProtocolError) as info:
        Catalog.builtin().with_files(CLINIC / "clinic-im.toml")
    assert {"clinic-im@2:$.ruleset"} == {p for p, _ in info.value.problems}
    assert "clinic-x-screen@1" in info.value.problems[0].message


def test_missing_template_reference_is_a_protocol_error(tmp_path: Path) -> None:
    """A protocol naming an unknown template is refused too."""
    path = write_protocol(
        tmp_path / "p.json",
        ruleset={"id": "ketamine-contraindications", "version": "1"},
        template={"id": "clinic-x-plan", "version": "1"},
    )
    with pytest.raises(ProtocolError) as info:
        Catalog.builtin().with_files(path)
    assert ["clinic-im@2:$.template"] == [p for p, _ in info.value.problems]


def test_bad_files_are_all_reported_with_their_names(tmp_path: Path) -> None:
    """Every problem in every file is reported, each path prefixed by its file."""
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\nversion = "1"\ntitle = "x"\ncolour = 1\n[[doses]]\nroute = "ear"\n')
    odd = tmp_path / "odd.toml"
    odd.write_text('id = "x"\n')
    with pytest.raises(ProtocolError) as info:
        Catalog.builtin().with_files(tmp_path)
    paths = [p for p, _ in info.value.problems]
    assert f"{bad}:$.colour" in paths
    assert any(p.startswith(f"{bad}:$.doses[0]") for p in paths)
    assert f"{odd}:$" in paths


def test_missing_file_is_a_protocol_error(tmp_path: Path) -> None:
    """A file that does not exist is reported as a ProtocolError, not an OSError."""
    with pytest.raises(ProtocolError, match="cannot read"):
        Catalog.builtin().with_files(tmp_path / "absent.toml")


# ---------------------------------------------------------------------------
# load_protocol
# ---------------------------------------------------------------------------


def test_load_protocol_reads_a_builtin_file() -> None:
    """load_protocol on a built-in file gives the catalogue's protocol."""
    assert get_protocol("im-kap") == load_protocol(PROTOCOLS / "im-kap.toml")


def test_load_protocol_resolves_through_a_catalogue() -> None:
    """A clinic protocol loads against a catalogue holding its rule set."""
    catalog = Catalog.builtin().with_files(CLINIC / "clinic-x-screen.toml")
    protocol = load_protocol(CLINIC / "clinic-im.toml", catalog=catalog)
    assert ("clinic-im", "2") == (protocol.id, protocol.version)


def test_load_protocol_missing_ruleset() -> None:
    """Against the built-ins alone, the clinic protocol's rule set is missing."""
    with pytest.raises(ProtocolError) as info:
        load_protocol(CLINIC / "clinic-im.toml")
    assert ["clinic-im@2:$.ruleset"] == [p for p, _ in info.value.problems]


def test_load_protocol_reports_file_problems(tmp_path: Path) -> None:
    """An inconsistent file raises ProtocolError with every path."""
    path = write_protocol(tmp_path / "p.json", colour="red", doses=[])
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert {"$.colour", "$.doses"} <= {p for p, _ in info.value.problems}


def test_clinic_template_may_name_the_clinics_own_scale(tmp_path: Path) -> None:
    """Instruments load first, so a clinic's template can ask for a clinic's scale."""
    import shutil

    docs = Path(__file__).resolve().parent.parent / "docs" / "howto"
    shutil.copy(docs / "clinic-wellbeing.toml", tmp_path / "a-scale.toml")
    (tmp_path / "0-template.toml").write_text(
        'id = "clinic-plan"\nversion = "1"\ntitle = "Clinic plan"\nsource = "Clinic SOP"\n\n'
        '[[steps]]\nid = "check-in"\ntitle = "Check-in"\nkind = "assessment"\n'
        'anchor = "each_dosing"\nafter = ["1 d", "3 d"]\ninstruments = ["clinic_wellbeing"]\n',
        encoding="utf-8",
    )
    catalog = Catalog.builtin().with_files(tmp_path)
    assert ["clinic_wellbeing"] == list(catalog.template("clinic-plan").steps[0].instruments)


def test_with_files_json_is_strict(tmp_path: Path) -> None:
    """A duplicate key in a clinic's JSON file is refused at its path, prefixed by the file."""
    path = tmp_path / "p.json"
    path.write_text('{"id": "a", "id": "b", "doses": []}', encoding="utf-8")
    with pytest.raises(ProtocolError) as info:
        Catalog.builtin().with_files(path)
    assert [f"{path}:$.id"] == [p for p, _ in info.value.problems]
