"""Reading instrument definitions from TOML data files.

The same format serves the built-in scales (``kapproto/data/instruments/``)
and a clinic's own (:func:`load_instrument`). Every problem in a file is
reported at once, each with its path, as one
:class:`~kapproto.exceptions.ValidationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any

from kapproto._codes import LOINC, Coding
from kapproto._data import read_document
from kapproto._params import Confidence, Parameter
from kapproto.exceptions import ValidationError
from kapproto.instruments._model import (
    AnswerKind,
    Band,
    Domain,
    FlagRule,
    Instrument,
    Item,
    Prorate,
    Remission,
    Subscale,
)
from kapproto.instruments._rules import FLAG_RULES, TOTAL_RULES, total_range

__all__ = ["instrument_from_dict", "load_instrument"]

_CONFIDENCES = tuple(c.value for c in Confidence)
_TOP = frozenset(
    {
        "id",
        "name",
        "abbreviation",
        "version",
        "source",
        "scoring",
        "notes",
        "answers",
        "total",
        "items",
        "bands",
        "domains",
        "subscales",
        "flags",
        "positive",
        "response",
        "remission",
        "prorate",
        "loinc_panel",
        "loinc_total",
    }
)


class _Reader:
    """Reads typed values from TOML tables, collecting every problem."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def table(self, raw: object, path: str, allowed: frozenset[str]) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            self.problems.append((path, f"expected a table, got {raw!r}"))
            return {}
        self.problems.extend(
            (f"{path}.{k}", f"unknown key {k!r}; expected one of {', '.join(sorted(allowed))}")
            for k in sorted(set(raw) - allowed)
        )
        return raw

    def str_(self, t: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
        value = t.get(key, default)
        if not isinstance(value, str) or (default is None and not value):
            self.problems.append((f"{path}.{key}", f"expected a non-empty string, got {value!r}"))
            return ""
        return value

    def int_(self, t: Mapping[str, Any], key: str, path: str, default: int | None = None) -> int:
        value = t.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append((f"{path}.{key}", f"expected an integer, got {value!r}"))
            return 0
        return value

    def confidence(self, t: Mapping[str, Any], path: str) -> str:
        value = t.get("confidence")
        if not isinstance(value, str) or value not in _CONFIDENCES:
            self.problems.append(
                (
                    f"{path}.confidence",
                    f"{value!r} is not one of {', '.join(map(repr, _CONFIDENCES))}",
                )
            )
            return ""
        return str(value)

    def sourced_int(
        self, raw: object, path: str, extra: frozenset[str] = frozenset()
    ) -> Parameter[int]:
        """A ``{ value, source, confidence }`` table holding an integer."""
        t = self.table(raw, path, frozenset({"value", "source", "confidence"}) | extra)
        return Parameter(
            self.int_(t, "value", path),
            self.str_(t, "source", path),
            Confidence(self.confidence(t, path) or "design"),
        )

    def loinc(self, raw: object, path: str) -> Coding | None:
        if raw is None:
            return None
        t = self.table(raw, path, frozenset({"code", "display", "source", "confidence"}))
        self.str_(t, "source", path)
        self.confidence(t, path)
        return Coding(LOINC, self.str_(t, "code", path), self.str_(t, "display", path))


def _items(r: _Reader, data: Mapping[str, Any]) -> tuple[Item, ...]:
    answer_keys = frozenset({"kind", "min", "max", "options", "source", "confidence"})
    default = r.table(data.get("answers", {}), "$.answers", answer_keys)
    if default:
        r.str_(default, "source", "$.answers")
        r.confidence(default, "$.answers")
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        r.problems.append(("$.items", f"expected a non-empty array of tables, got {raw_items!r}"))
        return ()
    item_keys = answer_keys | {"id", "label", "asked_if", "loinc"}
    items: list[Item] = []
    for n, raw in enumerate(raw_items):
        path = f"$.items[{n}]"
        t = r.table(raw, path, item_keys)
        spec = {**default, **{k: v for k, v in t.items() if k in answer_keys}}
        kind_name = spec.get("kind", "integer")
        try:
            kind = AnswerKind(kind_name if isinstance(kind_name, str) else "")
        except ValueError:
            r.problems.append((f"{path}.kind", f"{kind_name!r} is not integer, boolean or options"))
            kind = AnswerKind.INTEGER
        options: dict[str, int] | None = None
        if kind is AnswerKind.OPTIONS:
            raw_opts = spec.get("options")
            raw_opts = r.table(
                raw_opts,
                f"{path}.options",
                frozenset(raw_opts) if isinstance(raw_opts, Mapping) else frozenset(),
            )
            options = {str(k): r.int_(raw_opts, k, f"{path}.options") for k in raw_opts}
            low, high = (min(options.values()), max(options.values())) if options else (0, 0)
        elif kind is AnswerKind.BOOLEAN:
            low, high = 0, 1
        else:
            low, high = r.int_(spec, "min", path), r.int_(spec, "max", path)
            if low > high:
                r.problems.append((f"{path}.max", f"max {high} is below min {low}"))
        asked_if: tuple[str, bool] | None = None
        if "asked_if" in t:
            cond = r.table(t["asked_if"], f"{path}.asked_if", frozenset({"item", "answer"}))
            if not isinstance(cond.get("answer"), bool):
                r.problems.append((f"{path}.asked_if.answer", "expected true or false"))
            asked_if = (r.str_(cond, "item", f"{path}.asked_if"), bool(cond.get("answer")))
        items.append(
            Item(
                id=r.str_(t, "id", path),
                label=r.str_(t, "label", path),
                kind=kind,
                min=low,
                max=high,
                options=options,
                asked_if=asked_if,
                loinc=r.loinc(t.get("loinc"), f"{path}.loinc"),
            )
        )
    ids = [i.id for i in items]
    r.problems.extend(
        (f"$.items[{n}].id", f"duplicate item id {i!r}") for n, i in enumerate(ids) if i in ids[:n]
    )
    known = frozenset(ids)
    r.problems.extend(
        (f"$.items[{n}].asked_if.item", f"unknown item id {i.asked_if[0]!r}")
        for n, i in enumerate(items)
        if i.asked_if is not None and i.asked_if[0] not in known
    )
    return tuple(items)


def _groups(
    r: _Reader, data: Mapping[str, Any], key: str, known: frozenset[str]
) -> list[tuple[str, str, tuple[str, ...], str]]:
    """Read ``[[domains]]`` or ``[[subscales]]``: (id, label, items, source)."""
    raw = data.get(key, [])
    if not isinstance(raw, list):
        r.problems.append((f"$.{key}", f"expected an array of tables, got {raw!r}"))
        return []
    out = []
    for n, entry in enumerate(raw):
        path = f"$.{key}[{n}]"
        t = r.table(entry, path, frozenset({"id", "label", "items", "source"}))
        members = t.get("items")
        if (
            not isinstance(members, list)
            or not members
            or not all(isinstance(m, str) for m in members)
        ):
            r.problems.append(
                (f"{path}.items", f"expected a non-empty list of item ids, got {members!r}")
            )
            members = []
        r.problems.extend(
            (f"{path}.items", f"unknown item id {m!r}") for m in members if m not in known
        )
        source = (
            r.str_(t, "source", path, default="") if key == "domains" else r.str_(t, "source", path)
        )
        out.append((r.str_(t, "id", path), r.str_(t, "label", path), tuple(members), source))
    return out


def _bands(
    r: _Reader, data: Mapping[str, Any], low: int | None, high: int | None
) -> tuple[Band, ...]:
    raw = data.get("bands", [])
    if not isinstance(raw, list):
        r.problems.append(("$.bands", f"expected an array of tables, got {raw!r}"))
        return ()
    keys = frozenset({"id", "label", "min", "max", "source", "confidence"})
    bands = []
    for n, entry in enumerate(raw):
        path = f"$.bands[{n}]"
        t = r.table(entry, path, keys)
        bands.append(
            Band(
                r.str_(t, "id", path),
                r.str_(t, "label", path),
                r.int_(t, "min", path),
                r.int_(t, "max", path),
                r.str_(t, "source", path),
                r.confidence(t, path),
            )
        )
    if bands and (low is None or high is None):
        r.problems.append(("$.bands", "bands need a numeric total"))
    elif bands:
        expected = low
        for n, band in enumerate(bands):
            if band.min != expected or band.max < band.min:
                r.problems.append(
                    (
                        f"$.bands[{n}]",
                        f"band {band.id!r} is {band.min}..{band.max}; bands must partition "
                        f"{low}..{high} in order, so this one must start at {expected}",
                    )
                )
            expected = band.max + 1
        if bands[-1].max != high:
            r.problems.append(
                (
                    "$.bands",
                    f"the last band ends at {bands[-1].max}, not at the maximum total {high}",
                )
            )
    return tuple(bands)


def _flags(r: _Reader, data: Mapping[str, Any], known: frozenset[str]) -> tuple[FlagRule, ...]:
    raw = data.get("flags", [])
    if not isinstance(raw, list):
        r.problems.append(("$.flags", f"expected an array of tables, got {raw!r}"))
        return ()
    base = frozenset({"id", "rule", "description", "source", "confidence"})
    flags = []
    for n, entry in enumerate(raw):
        path = f"$.flags[{n}]"
        if not isinstance(entry, Mapping):
            r.problems.append((path, f"expected a table, got {entry!r}"))
            continue
        rule = entry.get("rule")
        if not isinstance(rule, str) or rule not in FLAG_RULES:
            r.problems.append(
                (
                    f"{path}.rule",
                    f"unknown rule {rule!r}; expected one of {', '.join(sorted(FLAG_RULES))}",
                )
            )
            continue
        params = {k: v for k, v in entry.items() if k not in base}
        r.problems.extend(FLAG_RULES[rule][1](params, known, path))
        flags.append(
            FlagRule(
                id=r.str_(entry, "id", path),
                rule=rule,
                params=params,
                description=r.str_(entry, "description", path),
                source=r.str_(entry, "source", path),
                confidence=r.confidence(entry, path),
            )
        )
    return tuple(flags)


def instrument_from_dict(data: Mapping[str, Any]) -> Instrument:
    """Build an :class:`Instrument` from a parsed data file.

    Raises:
        ValidationError: Every problem in the definition, each with its path.
    """
    r = _Reader()
    data = r.table(data, "$", _TOP)
    items = _items(r, data)
    known = frozenset(i.id for i in items)
    scoring = data.get("scoring", "sum")
    if not isinstance(scoring, str) or scoring not in TOTAL_RULES:
        r.problems.append(
            (
                "$.scoring",
                f"unknown scoring rule {scoring!r}; expected one of {', '.join(sorted(TOTAL_RULES))}",
            )
        )
        scoring = "sum"
    domains = tuple(Domain(i, label, m) for i, label, m, _ in _groups(r, data, "domains", known))
    if scoring == "domain_max":
        covered = sorted(x for d in domains for x in d.items)
        if covered != sorted(known):
            r.problems.append(("$.domains", "domains must cover every item exactly once"))
    subscales = tuple(Subscale(*g) for g in _groups(r, data, "subscales", known))
    low: int | None = None
    high: int | None = None
    total_source = ""
    if "total" in data:
        t = r.table(data["total"], "$.total", frozenset({"min", "max", "source", "confidence"}))
        low, high = r.int_(t, "min", "$.total"), r.int_(t, "max", "$.total")
        total_source = f"{r.str_(t, 'source', '$.total')} [{r.confidence(t, '$.total')}]"
    draft = Instrument(
        id="",
        name="",
        abbreviation="",
        version="",
        source="",
        items=items,
        scoring=scoring,
        total_min=low,
        total_max=high,
        domains=domains,
    )
    derived = total_range(draft) if not r.problems else None
    if derived is not None and derived != (low, high):
        r.problems.append(
            (
                "$.total",
                f"the total range must be {derived[0]}..{derived[1]} (from the items and scoring rule), got {low}..{high}",
            )
        )
    if scoring == "none" and "total" in data:
        r.problems.append(("$.total", "a scale scored 'none' has no total range"))
    remission = None
    if "remission" in data:
        compare = (
            data["remission"].get("compare") if isinstance(data["remission"], Mapping) else None
        )
        if compare not in ("lt", "le"):
            r.problems.append(("$.remission.compare", f"expected 'lt' or 'le', got {compare!r}"))
        remission = Remission(
            r.sourced_int(data["remission"], "$.remission", frozenset({"compare"})), str(compare)
        )
    prorate = None
    if "prorate" in data:
        t = r.table(data["prorate"], "$.prorate", frozenset({"max_missing", "source"}))
        prorate = Prorate(r.int_(t, "max_missing", "$.prorate"), r.str_(t, "source", "$.prorate"))
        if scoring != "sum":
            r.problems.append(("$.prorate", "prorating is supported only for summed scales"))
    inst = Instrument(
        id=r.str_(data, "id", "$"),
        name=r.str_(data, "name", "$"),
        abbreviation=r.str_(data, "abbreviation", "$"),
        version=r.str_(data, "version", "$"),
        source=r.str_(data, "source", "$"),
        items=items,
        scoring=scoring,
        total_min=low,
        total_max=high,
        total_source=total_source,
        bands=_bands(r, data, low, high),
        domains=domains,
        subscales=subscales,
        flags=_flags(r, data, known),
        positive=r.sourced_int(data["positive"], "$.positive") if "positive" in data else None,
        response=r.sourced_int(data["response"], "$.response") if "response" in data else None,
        remission=remission,
        prorate=prorate,
        loinc_panel=r.loinc(data.get("loinc_panel"), "$.loinc_panel"),
        loinc_total=r.loinc(data.get("loinc_total"), "$.loinc_total"),
        notes=r.str_(data, "notes", "$", default=""),
    )
    if r.problems:
        raise ValidationError(problems=r.problems)
    return inst


def load_instrument(path: str | PathLike[str]) -> Instrument:
    """Load a clinic's own instrument from a TOML file in the built-in format.

    Args:
        path: The ``.toml`` file (see the how-to "Add a scale").

    Raises:
        ValidationError: The file cannot be read, is not valid TOML, or the
            definition is inconsistent; every problem is listed with its path.
    """
    return instrument_from_dict(read_document(path, error=ValidationError))
