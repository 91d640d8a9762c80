"""Reading ``data/routes.toml``, ``data/formulations.toml`` and ``data/medications.toml``.

Every entry must carry its source and confidence; codes must be confirmed
(``C``). Every problem in the three files is reported at once, with its path.
The enums in :mod:`kapproto._routes` read the result through their ``info``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from kapproto._codes import LOINC, RXNORM, SNOMED, UCUM, Coding
from kapproto._data import load_data
from kapproto._params import Confidence, Parameter
from kapproto._routes import (
    Basis,
    Bioavailability,
    Formulation,
    FormulationInfo,
    Medication,
    MedicationInfo,
    Route,
    RouteInfo,
)
from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.units import FRACTION, MASS, Quantity

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

_SYSTEMS: Mapping[str, str] = {"snomed": SNOMED, "rxnorm": RXNORM, "loinc": LOINC, "ucum": UCUM}


@attrs.frozen
class _Tables:
    routes: Mapping[Route, RouteInfo]
    formulations: Mapping[Formulation, FormulationInfo]
    medications: Mapping[Medication, MedicationInfo]


class _Reader:
    """Reads one data file, collecting every problem with its path."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, f"{self.name}: {message}"))

    def table(self, raw: object, path: str) -> Mapping[str, Any]:
        if isinstance(raw, Mapping):
            return raw
        self.fail(path, f"expected a table, got {raw!r}")
        return {}

    def sourced(self, raw: object, path: str, parse: Callable[[Any], T]) -> Parameter[T] | None:
        """A ``{value, source, confidence, ...}`` table; source and confidence are required."""
        entry = self.table(raw, path)
        try:
            value = parse(entry["value"])
            source = entry["source"]
            if not isinstance(source, str) or not source:
                raise ValueError(f"source must be a non-empty string, got {source!r}")
            return Parameter(value, source, Confidence(entry["confidence"]))
        except KeyError as exc:
            self.fail(path, f"missing key {exc.args[0]!r}")
        except (KapprotoError, ValueError, TypeError) as exc:
            self.fail(path, str(exc))
        return None

    def coding(self, raw: object, path: str, system: str) -> Coding | None:
        """A ``{code, display, source, confidence}`` table as a confirmed :class:`Coding`."""
        entry = self.table(raw, path)
        checked = self.sourced({**entry, "value": entry.get("code")}, path, str)
        if checked is None:
            return None
        if checked.confidence is not Confidence.C:
            self.fail(path, "only confirmed (C) codes are listed; never a guessed code")
            return None
        return Coding(system, checked.value, str(entry.get("display", "")))

    def members(self, tp: type[E], raw: object, path: str) -> dict[E, Mapping[str, Any]]:
        entries = self.table(raw, path)
        found: dict[E, Mapping[str, Any]] = {}
        for member in tp:
            if member.value not in entries:
                self.fail(f"{path}.{member.value}", f"no entry for {tp.__name__}.{member.name}")
            else:
                found[member] = self.table(entries[member.value], f"{path}.{member.value}")
        for key in sorted(set(entries) - {m.value for m in tp}):
            self.fail(f"{path}.{key}", f"{key!r} is not a {tp.__name__}")
        return found


def _bioavailability(raw: Mapping[str, Any]) -> Bioavailability:
    low, high = FRACTION.check(raw["low"]), FRACTION.check(raw["high"])
    if not 0 < low.magnitude <= high.magnitude <= 100:
        raise ValueError(f"need 0 % < low <= high <= 100 %, got {raw['low']!r}, {raw['high']!r}")
    return Bioavailability(low, high, raw["source"], Confidence(raw["confidence"]))


def _read_route(r: _Reader, route: Route, raw: Mapping[str, Any], path: str) -> RouteInfo | None:
    snomed = r.coding(raw.get("snomed"), f"{path}.snomed", SNOMED)
    bio = None
    by_med: dict[Medication, Bioavailability] = {}
    try:
        if "bioavailability" in raw:
            bio = _bioavailability(raw["bioavailability"])
        for name, entry in raw.get("bioavailability_by_medication", {}).items():
            by_med[Medication(name)] = _bioavailability(entry)
    except (KeyError, ValueError, TypeError, KapprotoError) as exc:
        r.fail(f"{path}.bioavailability", str(exc))
    onset = r.sourced(raw.get("onset"), f"{path}.onset", str)
    weight_based = r.sourced(raw.get("weight_based"), f"{path}.weight_based", _boolean)
    infusion = r.sourced(raw.get("infusion"), f"{path}.infusion", _boolean)
    if snomed is None or onset is None or weight_based is None or infusion is None:
        return None
    return RouteInfo(route, snomed, bio, by_med, onset, weight_based, infusion)


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _read_formulation(
    r: _Reader, formulation: Formulation, raw: Mapping[str, Any], path: str
) -> FormulationInfo | None:
    routes: set[Route] = set()
    for i, name in enumerate(raw.get("routes", [])):
        try:
            routes.add(Route(name))
        except ValueError:
            r.fail(f"{path}.routes[{i}]", f"{name!r} is not a Route")
    if not routes:
        r.fail(f"{path}.routes", "a formulation needs at least one route")
    basis = r.sourced(raw.get("basis"), f"{path}.basis", Basis)
    devices: dict[Medication, Parameter[Quantity]] = {}
    for name, entry in r.table(raw.get("device_amount", {}), f"{path}.device_amount").items():
        try:
            medication = Medication(name)
        except ValueError:
            r.fail(f"{path}.device_amount.{name}", f"{name!r} is not a Medication")
            continue
        amount = r.sourced(entry, f"{path}.device_amount.{name}", MASS.check)
        if amount is not None:
            devices[medication] = amount
    if basis is None or not routes:
        return None
    return FormulationInfo(
        formulation, frozenset(routes), str(raw.get("routes_source", "")), basis, devices
    )


def _read_medication(
    r: _Reader, medication: Medication, raw: Mapping[str, Any], path: str
) -> MedicationInfo | None:
    codings: list[Coding] = []
    for i, entry in enumerate(raw.get("codes", [])):
        where = f"{path}.codes[{i}]"
        system = _SYSTEMS.get(r.table(entry, where).get("system", ""))
        if system is None:
            r.fail(f"{where}.system", f"expected one of {', '.join(_SYSTEMS)}")
            continue
        coding = r.coding(entry, where, system)
        if coding is not None:
            codings.append(coding)
    ratio = r.sourced(raw.get("hydrochloride_per_base"), f"{path}.hydrochloride_per_base", float)
    if ratio is None:
        return None
    return MedicationInfo(medication, str(raw.get("display", "")), tuple(codings), ratio)


def read_tables() -> _Tables:
    """Read and check the three data files; every problem at once as ValidationError."""
    problems: list[tuple[str, str]] = []

    def read(name: str, key: str, tp: type[E], fn: Callable[..., T | None]) -> dict[E, T]:
        r = _Reader(f"{name}.toml")
        out = {}
        for member, raw in r.members(tp, load_data(f"{name}.toml").get(key), f"$.{key}").items():
            info = fn(r, member, raw, f"$.{key}.{member.value}")
            if info is not None:
                out[member] = info
        problems.extend(r.problems)
        return out

    medications = read("medications", "medications", Medication, _read_medication)
    routes = read("routes", "routes", Route, _read_route)
    formulations = read("formulations", "formulations", Formulation, _read_formulation)
    if problems:
        raise ValidationError(problems=problems)
    return _Tables(routes, formulations, medications)
