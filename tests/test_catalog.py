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


# ---------------------------------------------------------------------------
# An id and version is never replaced
# ---------------------------------------------------------------------------

DATA = PROTOCOLS.parent


def changed_copy(source: Path, target: Path, old: str, new: str) -> Path:
    """``source`` copied to ``target`` with ``old`` replaced by ``new`` (which must occur)."""
    text = source.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new), encoding="utf-8")
    return target


def test_clinic_file_cannot_shadow_a_builtin_protocol(tmp_path: Path) -> None:
    """A clinic im-kap@1 is refused, naming its file and the built-in one; the built-in stays."""
    path = changed_copy(PROTOCOLS / "im-kap.toml", tmp_path / "mine.toml", "0.75 mg/kg", "5 mg/kg")
    with pytest.raises(ProtocolError) as info:
        Catalog.builtin().with_files(path)
    assert [
        (
            f"{path}:$.version",
            "protocol im-kap@1 is already in the catalogue, from "
            "kapproto/data/protocols/im-kap.toml (built in); a changed protocol needs a new "
            "version (or id)",
        )
    ] == [tuple(p) for p in info.value.problems]
    assert Catalog.builtin().protocol("im-kap").reference_only


def test_two_clinic_files_with_one_id_and_version_are_refused(tmp_path: Path) -> None:
    """Two clinic files for clinic-im@2 are refused, the second naming the first."""
    first = write_protocol(tmp_path / "a.json")
    second = write_protocol(tmp_path / "b.json", title="Another title")
    with pytest.raises(ProtocolError) as info:
        Catalog.builtin().with_files(CLINIC / "clinic-x-screen.toml", first, second)
    assert [
        (
            f"{second}:$.version",
            f"protocol clinic-im@2 is already in the catalogue, from {first}; a changed "
            "protocol needs a new version (or id)",
        )
    ] == [tuple(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("source", "kind", "key"),
    [
        (
            DATA / "rulesets" / "ketamine-contraindications.toml",
            "rule set",
            "ketamine-contraindications@1",
        ),
        (DATA / "templates" / "kap-weekly-3.toml", "template", "kap-weekly-3@1"),
        (DATA / "instruments" / "phq9.toml", "instrument", "phq9@1"),
    ],
)
def test_clinic_file_cannot_shadow_other_builtin_kinds(
    tmp_path: Path, source: Path, kind: str, key: str
) -> None:
    """A clinic rule set, template or instrument with a built-in id and version is refused."""
    path = tmp_path / source.name
    path.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ProtocolError) as info:
        Catalog.builtin().with_files(path)
    folder = source.parent.name
    assert [
        (
            f"{path}:$.version",
            f"{kind} {key} is already in the catalogue, from kapproto/data/{folder}/"
            f"{source.name} (built in); a changed {kind} needs a new version (or id)",
        )
    ] == [tuple(p) for p in info.value.problems]


def test_two_clinic_instruments_with_one_id_are_refused(tmp_path: Path) -> None:
    """Two clinic files of one instrument are refused, naming both."""
    docs = Path(__file__).resolve().parent.parent / "docs" / "howto"
    text = (docs / "clinic-wellbeing.toml").read_text(encoding="utf-8")
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as info:
        Catalog.builtin().with_files(tmp_path)
    ((path, message),) = info.value.problems
    assert f"{tmp_path / 'b.toml'}:$.version" == path
    assert f"from {tmp_path / 'a.toml'};" in message


def test_load_protocol_refuses_a_changed_builtin(tmp_path: Path) -> None:
    """load_protocol of a changed im-kap@1 is refused; the unchanged file loads."""
    path = changed_copy(PROTOCOLS / "im-kap.toml", tmp_path / "mine.toml", "0.75 mg/kg", "5 mg/kg")
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert ["$.version"] == [p for p, _ in info.value.problems]
    assert "kapproto/data/protocols/im-kap.toml" in info.value.problems[0].message
    assert get_protocol("im-kap") == load_protocol(PROTOCOLS / "im-kap.toml")


def test_catalogue_file_loaded_again_by_path(tmp_path: Path) -> None:
    """A file of a --catalog folder may also be loaded by path against that catalogue."""
    catalog = Catalog.builtin().with_files(CLINIC)
    assert catalog.protocol("clinic-im") == load_protocol(
        CLINIC / "clinic-im.toml", catalog=catalog
    )


# ---------------------------------------------------------------------------
# References are reported with every other problem
# ---------------------------------------------------------------------------


def test_load_protocol_reports_references_with_structural_problems(tmp_path: Path) -> None:
    """An unknown rule set and template are reported in the same error as a broken file."""
    path = write_protocol(
        tmp_path / "p.json",
        colour="red",
        template={"id": "clinic-x-plan", "version": "1"},
        schedule={"min_interval": "1e30 d"},
    )
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert [
        "$.colour",
        "$.schedule.min_interval",
        "clinic-im@2:$.ruleset",
        "clinic-im@2:$.template",
    ] == [p for p, _ in info.value.problems]


def test_load_protocol_reports_references_without_an_id(tmp_path: Path) -> None:
    """With no usable id and version, a missing reference is reported at its plain path."""
    path = write_protocol(tmp_path / "p.json", id=7)
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    assert ["$.id", "$.ruleset"] == [p for p, _ in info.value.problems]


def test_with_files_reports_references_of_broken_protocols(tmp_path: Path) -> None:
    """A broken clinic protocol's missing rule set is reported with its other problems."""
    path = write_protocol(tmp_path / "p.json", colour="red")
    with pytest.raises(ProtocolError) as info:
        Catalog.builtin().with_files(path)
    found = dict(info.value.problems)
    assert [f"{path}:$.colour", f"{path}:$.ruleset"] == list(found)
    assert "no rule set clinic-x-screen@1 in the catalogue" == found[f"{path}:$.ruleset"]


def test_with_files_json_is_strict(tmp_path: Path) -> None:
    """A duplicate key in a clinic's JSON file is refused at its path, prefixed by the file."""
    path = tmp_path / "p.json"
    path.write_text('{"id": "a", "id": "b", "doses": []}', encoding="utf-8")
    with pytest.raises(ProtocolError) as info:
        Catalog.builtin().with_files(path)
    assert [f"{path}:$.id"] == [p for p, _ in info.value.problems]


# ---------------------------------------------------------------------------
# Where an unknown reference came from
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["protocol", "ruleset", "template", "instrument"])
def test_unknown_reference_names_where_it_came_from(method: str) -> None:
    """A lookup may say where the id came from (a record's $.protocol); by default the path is $."""
    lookup = getattr(Catalog.builtin(), method)
    with pytest.raises(UnknownReferenceError) as info:
        lookup("nope", "1", path="$.protocol")
    assert ["$.protocol"] == [p for p, _ in info.value.problems]
    with pytest.raises(UnknownReferenceError) as info:
        lookup("nope")
    assert ["$"] == [p for p, _ in info.value.problems]
