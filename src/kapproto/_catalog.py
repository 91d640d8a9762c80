"""The catalogue of protocols, rule sets, templates and instruments, by id and version.

:meth:`Catalog.builtin` holds the shipped reference data; a clinic adds its own
files with :meth:`Catalog.with_files`, so its protocol can refer to its own
rule set and template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import attrs

from kapproto._data import latest, read_document, shipped
from kapproto._protocols import Protocol
from kapproto.exceptions import KapprotoError, ProtocolError

__all__ = ["Catalog", "get_protocol", "load_protocol"]

T = TypeVar("T")
Key = tuple[str, str]


@attrs.frozen
class _Shelf(Generic[T]):
    """Entries of one kind, by ``(id, version)``, loaded on first use."""

    kind: str
    load: Callable[[], Mapping[Key, T]] = attrs.field(default=dict, repr=False, eq=False)
    _cache: dict[str, Mapping[Key, T]] = attrs.field(factory=dict, init=False, repr=False, eq=False)

    @property
    def entries(self) -> Mapping[Key, T]:
        """Every entry, loaded once."""
        if "entries" not in self._cache:
            self._cache["entries"] = MappingProxyType(dict(self.load()))
        return self._cache["entries"]

    def get(self, id: str, version: str | None = None) -> T:
        return latest(self.entries, id, version, kind=self.kind)

    def add(self, key: Key, value: T) -> _Shelf[T]:
        entries = {**self.entries, key: value}
        return _Shelf(self.kind, lambda: entries)


def _protocols_builtin() -> dict[Key, Protocol]:
    out: dict[Key, Protocol] = {}
    for _name, data in shipped("protocols"):
        protocol = Protocol.from_dict(data)
        out[(protocol.id, protocol.version)] = protocol
    return out


def _rulesets_builtin() -> dict[Key, Any]:
    from kapproto.screening import builtin_rulesets

    return dict(builtin_rulesets())


def _templates_builtin() -> dict[Key, Any]:
    from kapproto._integration import builtin_templates

    return dict(builtin_templates())


def _instruments_builtin() -> dict[Key, Any]:
    from kapproto.instruments import INSTRUMENTS

    return {(i.id, str(getattr(i, "version", "1"))): i for i in INSTRUMENTS.values()}


def _detect(data: Mapping[str, Any]) -> str | None:
    if "rules" in data:
        return "ruleset"
    if "steps" in data:
        return "template"
    if "items" in data:
        return "instrument"
    if "doses" in data or "monitoring" in data:
        return "protocol"
    return None


_SHELVES = {
    "protocol": "protocols",
    "ruleset": "rulesets",
    "template": "templates",
    "instrument": "instruments",
}


def _parse(kind: str, data: Mapping[str, Any], path: Path, catalog: Catalog) -> Any:
    if kind == "protocol":
        return Protocol.from_dict(data)
    if kind == "ruleset":
        from kapproto.screening import RuleSet

        return RuleSet.from_dict(data)
    if kind == "template":
        from kapproto._integration import PlanTemplate

        return PlanTemplate.from_dict(data, instruments={i for i, _ in catalog.instruments.entries})
    from kapproto.instruments import load_instrument

    return load_instrument(path)


@attrs.frozen
class Catalog:
    """Protocols, rule sets, plan templates and instruments by ``(id, version)``.

    Attributes:
        protocols: Protocols by ``(id, version)``.
        rulesets: Screening rule sets by ``(id, version)``.
        templates: Integration-plan templates by ``(id, version)``.
        instruments: Instruments by ``(id, version)``.

    Example:
        >>> catalog = Catalog.builtin()
        >>> catalog.protocol("im-kap").version
        '1'
    """

    protocols: _Shelf[Protocol] = attrs.field(factory=lambda: _Shelf("protocol"))
    rulesets: _Shelf[Any] = attrs.field(factory=lambda: _Shelf("rule set"))
    templates: _Shelf[Any] = attrs.field(factory=lambda: _Shelf("template"))
    instruments: _Shelf[Any] = attrs.field(factory=lambda: _Shelf("instrument"))

    @staticmethod
    @cache
    def builtin() -> Catalog:
        """The catalogue of kapproto's shipped reference data (built once)."""
        return Catalog(
            _Shelf("protocol", _protocols_builtin),
            _Shelf("rule set", _rulesets_builtin),
            _Shelf("template", _templates_builtin),
            _Shelf("instrument", _instruments_builtin),
        )

    def protocol(self, id: str, version: str | None = None) -> Protocol:
        """A protocol by id (the latest version unless ``version`` is given).

        Raises:
            UnknownReferenceError: Listing the known protocols.
        """
        return self.protocols.get(id, version)

    def ruleset(self, id: str, version: str | None = None) -> Any:
        """A screening rule set by id and version."""
        return self.rulesets.get(id, version)

    def template(self, id: str, version: str | None = None) -> Any:
        """An integration-plan template by id and version."""
        return self.templates.get(id, version)

    def instrument(self, id: str, version: str | None = None) -> Any:
        """An instrument by id and version."""
        return self.instruments.get(id, version)

    def with_files(self, *paths: str | Path) -> Catalog:
        """A new catalogue with a clinic's files added (files or folders of .toml/.json).

        Each file's kind is read from its keys: ``rules`` (rule set), ``steps``
        (template), ``items`` (instrument), ``doses``/``monitoring`` (protocol).
        Protocols' references to rule sets and templates are then resolved.

        Raises:
            ProtocolError: Every problem in every file, each path prefixed by its file.
        """
        catalog = self
        problems: list[tuple[str, str]] = []
        found: list[tuple[str, dict[str, Any], Path]] = []
        for file in _files(paths):
            try:
                data = read_document(file)
                if not isinstance(data, dict):
                    raise ProtocolError("must hold a table/object at the top level")
                kind = _detect(data)
                if kind is None:
                    raise ProtocolError(
                        "cannot tell what this file is: expected `rules` (rule set), `steps` "
                        "(template), `items` (instrument) or `doses` (protocol)"
                    )
            except KapprotoError as exc:
                problems.extend((f"{file}:{p}", m) for p, m in exc.problems)
                continue
            found.append((kind, data, file))
        # instruments first, so a clinic's template may name the clinic's own scales
        for kind, data, file in sorted(found, key=lambda f: (f[0] != "instrument", str(f[2]))):
            try:
                entry = _parse(kind, data, file, catalog)
            except KapprotoError as exc:
                problems.extend((f"{file}:{p}", m) for p, m in exc.problems)
                continue
            key = (entry.id, str(getattr(entry, "version", "1")))
            shelf_name = _SHELVES[kind]
            shelf = getattr(catalog, shelf_name)
            catalog = attrs.evolve(catalog, **{shelf_name: shelf.add(key, entry)})
        if problems:
            raise ProtocolError(problems=problems)
        catalog.check_references()
        return catalog

    def check_references(self) -> None:
        """Check every protocol's rule set and template exist here.

        Raises:
            ProtocolError: Naming each protocol and missing reference.
        """
        problems: list[tuple[str, str]] = []
        for (pid, version), protocol in sorted(self.protocols.entries.items()):
            for name, ref, shelf in (
                ("ruleset", protocol.ruleset, self.rulesets),
                ("template", protocol.template, self.templates),
            ):
                if ref is not None and (ref.id, ref.version) not in shelf.entries:
                    problems.append(
                        (
                            f"{pid}@{version}:$.{name}",
                            f"no {shelf.kind} {ref.id}@{ref.version} in the catalogue",
                        )
                    )
        if problems:
            raise ProtocolError(problems=problems)


def _files(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in {".toml", ".json"}))
        else:
            out.append(path)
    return out


def get_protocol(id: str, version: str | None = None) -> Protocol:
    """A built-in protocol by id (latest version unless ``version`` is given).

    Example:
        >>> get_protocol("esketamine-trd").title
        'Esketamine nasal spray, treatment-resistant depression (US label)'
    """
    return Catalog.builtin().protocol(id, version)


def load_protocol(path: str | Path, *, catalog: Catalog | None = None) -> Protocol:
    """Load a protocol file (TOML or JSON) and resolve its references.

    Args:
        path: The protocol file.
        catalog: Where its rule set and template are looked up (built-ins by default).

    Raises:
        ProtocolError: Every inconsistency in the file, or a reference the
            catalogue does not hold.

    Example:
        >>> from kapproto import get_protocol, load_protocol
        >>> protocol = load_protocol("src/kapproto/data/protocols/im-kap.toml")
        >>> protocol.ref, protocol == get_protocol("im-kap")
        (Reference(id='im-kap', version='1'), True)
    """
    base = catalog or Catalog.builtin()
    data = read_document(path)
    protocol = Protocol.from_dict(data)
    resolved: Callable[[], None] = attrs.evolve(
        base, protocols=base.protocols.add((protocol.id, protocol.version), protocol)
    ).check_references
    resolved()
    return protocol
