"""Shared pieces of the FHIR R4 mapping: codes, quantities, extensions, checks.

The codes and required value sets come from ``data/fhir.toml`` (each with its
source); the UCUM codes from :data:`kapproto.units.UCUM_CODES`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, Final

from kapproto._codes import LOINC, UCUM, Coding
from kapproto._data import load_data
from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.units import UCUM_CODES, Kind, Quantity, parse_unit, quantity, to_ucum

__all__ = [
    "EXTENSION_BASE",
    "VITAL_SIGNS_CATEGORY",
    "extension",
    "fhir_datetime",
    "from_quantity",
    "get",
    "loinc",
    "parse_datetime",
    "read_extensions",
    "to_quantity",
    "validate",
]

EXTENSION_BASE: Final = "http://kapproto.org/fhir/StructureDefinition/"
"""Prefix of every kapproto extension URL; the extension's name follows."""

VITAL_SIGNS_CATEGORY: Final[dict[str, Any]] = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
            "display": "Vital Signs",
        }
    ],
    "text": "Vital Signs",
}


@cache
def loinc(name: str) -> tuple[Coding, ...]:
    """The LOINC codings of vital sign ``name`` (``data/fhir.toml`` ``[vitals]``)."""
    entry = load_data("fhir.toml")["vitals"][name]
    codes = entry.get("codes", [entry])
    return tuple(Coding(LOINC, c["code"], c["display"]) for c in codes)


def loinc_text(name: str) -> str:
    """The ``code.text`` of vital sign ``name``."""
    entry = load_data("fhir.toml")["vitals"][name]
    return str(entry.get("text", entry.get("display", name)))


def codeable(codings: tuple[Coding, ...], text: str) -> dict[str, Any]:
    """A CodeableConcept of ``codings`` (may be empty) and ``text``."""
    out: dict[str, Any] = {}
    if codings:
        out["coding"] = [c.to_fhir() for c in codings]
    out["text"] = text
    return out


def to_quantity(q: Quantity) -> dict[str, Any]:
    """A FHIR ``Quantity`` in the canonical UCUM unit of ``q``'s kind."""
    value, code = to_ucum(q)
    return {"value": value, "unit": parse_unit(code).display, "system": UCUM, "code": code}


def fhir_datetime(moment: dt.datetime) -> str:
    """A FHIR ``dateTime`` (ISO 8601 with seconds and the UTC offset)."""
    return moment.isoformat()


def get(resource: Mapping[str, Any], path: str, key: str, tp: type | tuple[type, ...]) -> Any:
    """``resource[key]`` checked to be a ``tp``; ValidationError at ``path.key`` otherwise."""
    where = f"{path}.{key}"
    if not isinstance(resource, Mapping):
        raise ValidationError(f"expected a JSON object, got {resource!r}", path=path)
    if key not in resource:
        raise ValidationError(f"{key} is missing", path=where)
    value = resource[key]
    if not isinstance(value, tp) or (isinstance(value, bool) and bool not in _types(tp)):
        raise ValidationError(f"{key}={value!r} has the wrong type", path=where)
    return value


def _types(tp: type | tuple[type, ...]) -> tuple[type, ...]:
    return tp if isinstance(tp, tuple) else (tp,)


def from_quantity(data: object, path: str, kind: Kind) -> Quantity:
    """A kapproto quantity of ``kind`` from a FHIR ``Quantity`` with a UCUM code.

    Raises:
        ValidationError: Not UCUM (``system``), an unknown code, a missing
            value or a unit of another kind; the path names the element.
    """
    value = get(data, path, "value", (int, float))  # type: ignore[arg-type]
    assert isinstance(data, Mapping)
    if data.get("system") != UCUM:
        raise ValidationError(
            f"system={data.get('system')!r} is not UCUM; expected {UCUM!r}", path=f"{path}.system"
        )
    code = data.get("code")
    if code not in UCUM_CODES:
        raise ValidationError(
            f"code={code!r} is not a UCUM code kapproto knows; expected one of "
            f"{', '.join(UCUM_CODES)}",
            path=f"{path}.code",
        )
    try:
        return quantity(value, code, kind=kind)
    except KapprotoError as exc:
        raise ValidationError(str(exc), path=f"{path}.code") from exc


def parse_datetime(text: object, path: str) -> dt.datetime:
    """A timezone-aware datetime from a FHIR ``dateTime``; ValidationError otherwise."""
    try:
        if not isinstance(text, str):
            raise ValueError
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a FHIR dateTime", path=path) from None
    if moment.utcoffset() is None:
        raise ValidationError(f"{text!r} has no UTC offset", path=path)
    return moment


def extension(name: str, value_type: str, value: Any) -> dict[str, Any]:
    """A kapproto extension ``{url, value<type>}``."""
    return {"url": EXTENSION_BASE + name, f"value{value_type}": value}


def read_extensions(resource: Mapping[str, Any], path: str) -> dict[str, tuple[str, Any]]:
    """The kapproto extensions of ``resource``: ``name -> (json path, value)``; others ignored."""
    found: dict[str, tuple[str, Any]] = {}
    raw = resource.get("extension", [])
    if not isinstance(raw, list):
        raise ValidationError("extension must be a list", path=f"{path}.extension")
    for i, ext in enumerate(raw):
        url = ext.get("url") if isinstance(ext, Mapping) else None
        if not isinstance(url, str) or not url.startswith(EXTENSION_BASE):
            continue
        keys = [k for k in ext if k.startswith("value")]
        if len(keys) != 1:
            raise ValidationError("an extension needs one value[x]", path=f"{path}.extension[{i}]")
        found[url[len(EXTENSION_BASE) :]] = (f"{path}.extension[{i}].{keys[0]}", ext[keys[0]])
    return found


# --------------------------------------------------------------------------
# kapproto's own checks (what the FHIR libraries do not validate)
# --------------------------------------------------------------------------


def validate(resource: Mapping[str, Any]) -> None:
    """Check what FHIR model libraries miss; raise every problem at once.

    * every ``Quantity`` (an object with ``value`` and a ``code`` or ``unit``)
      has ``system`` ``http://unitsofmeasure.org`` and a UCUM code from
      kapproto's table (:data:`kapproto.units.UCUM_CODES`);
    * invariant mad-1: a ``MedicationAdministration.dosage`` has ``dose`` or ``rate[x]``;
    * status (and ``Bundle.type``, ``CarePlan.intent``, ``AdverseEvent.actuality``)
      codes come from the R4 required value sets (``data/fhir.toml``).

    Bundles are checked entry by entry.

    Raises:
        ValidationError: One problem per offending element, with its path.
    """
    problems = list(_problems(resource, "$"))
    if problems:
        raise ValidationError(problems=problems)


def _problems(resource: Any, path: str) -> Iterator[tuple[str, str]]:
    if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
        yield path, "not a FHIR resource (no resourceType)"
        return
    rtype = resource["resourceType"]
    yield from _coded(resource, rtype, path)
    if rtype == "MedicationAdministration":
        dosage = resource.get("dosage")
        if isinstance(dosage, Mapping) and not (
            "dose" in dosage or "rateQuantity" in dosage or "rateRatio" in dosage
        ):
            yield f"{path}.dosage", "mad-1: dosage needs a dose or a rate[x]"
    yield from _quantities(resource, path)
    if rtype == "Bundle":
        for i, entry in enumerate(resource.get("entry", [])):
            yield from _problems(entry.get("resource"), f"{path}.entry[{i}].resource")


def _coded(resource: Mapping[str, Any], rtype: str, path: str) -> Iterator[tuple[str, str]]:
    data = load_data("fhir.toml")
    checks = [("status", data["status"].get(rtype))]
    for element, allowed in data["status_like"].items():
        owner, _, name = element.partition(".")
        if owner == rtype:
            checks.append((name, allowed))
    for name, allowed in checks:
        if allowed is None:
            continue
        *parents, leaf = name.split(".")
        for where, node in _descend(resource, path, parents):
            if not parents or leaf in node:  # nested elements: checked when present
                value = node.get(leaf)
                if value not in allowed:
                    yield (
                        f"{where}.{leaf}",
                        f"{leaf}={value!r} is not in the R4 value set; "
                        f"expected one of {', '.join(allowed)}",
                    )


def _descend(node: Any, path: str, keys: list[str]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every object reached from ``node`` by ``keys`` (lists are walked item by item)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _descend(item, f"{path}[{i}]", keys)
    elif isinstance(node, Mapping):
        if not keys:
            yield path, node
        elif keys[0] in node:
            yield from _descend(node[keys[0]], f"{path}.{keys[0]}", keys[1:])


def _quantities(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _quantities(item, f"{path}[{i}]")
        return
    if not isinstance(node, Mapping):
        return
    if "resourceType" in node and path.endswith("].resource"):
        return  # a Bundle entry: checked on its own
    if _is_quantity(node):
        if node.get("system") != UCUM:
            yield f"{path}.system", f"system={node.get('system')!r} must be {UCUM!r}"
        if node.get("code") not in UCUM_CODES:
            yield (
                f"{path}.code",
                f"code={node.get('code')!r} is not a UCUM code in kapproto's table",
            )
        return
    for key in sorted(node):
        yield from _quantities(node[key], f"{path}.{key}")


def _is_quantity(node: Mapping[str, Any]) -> bool:
    value = node.get("value")
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return numeric and ("code" in node or "unit" in node)
