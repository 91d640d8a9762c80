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
from kapproto._protocol_reader import references
from kapproto._protocols import Protocol
from kapproto._sessions import Reference
from kapproto.exceptions import KapprotoError, ProtocolError

__all__ = ["Catalog", "get_protocol", "load_protocol"]

T = TypeVar("T")
Key = tuple[str, str]


Problems = list[tuple[str, str]]


@attrs.frozen
class _Shelf(Generic[T]):
    """Entries of one kind, by ``(id, version)``, loaded on first use.

    Attributes:
        kind: What the entries are, for messages (``"rule set"``).
        load: Loads the entries the shelf starts with.
        folder: The ``kapproto/data`` folder those entries are shipped in, if any.
        files: The file each entry added by :meth:`Catalog.with_files` came from.
    """

    kind: str
    load: Callable[[], Mapping[Key, T]] = attrs.field(default=dict, repr=False, eq=False)
    folder: str | None = None
    files: Mapping[Key, str] = attrs.field(factory=dict, repr=False, eq=False)
    _cache: dict[str, Mapping[Key, T]] = attrs.field(factory=dict, init=False, repr=False, eq=False)

    @property
    def entries(self) -> Mapping[Key, T]:
        """Every entry, loaded once."""
        if "entries" not in self._cache:
            self._cache["entries"] = MappingProxyType(dict(self.load()))
        return self._cache["entries"]

    def get(self, id: str, version: str | None = None, *, path: str = "$") -> T:
        return latest(self.entries, id, version, kind=self.kind, path=path)

    def add(self, key: Key, value: T, file: str) -> _Shelf[T]:
        """A shelf with ``value`` added under ``key``, read from ``file``.

        Raises:
            ProtocolError: ``key`` is on the shelf already, naming both files
                (an entry is never replaced: a report names its protocol by
                id and version, which must say which limits applied).
        """
        if key in self.entries:
            raise ProtocolError(self.duplicate(key), path="$.version")
        entries = {**self.entries, key: value}
        return attrs.evolve(self, load=lambda: entries, files={**self.files, key: file})

    def origin(self, key: Key) -> str:
        """Where the entry ``key`` came from: a clinic's file or kapproto's shipped one."""
        if key in self.files:
            return self.files[key]
        if self.folder is not None:
            for name, data in shipped(self.folder):
                if (data.get("id"), str(data.get("version", "1"))) == key:
                    return f"kapproto/data/{self.folder}/{name} (built in)"
        return "kapproto's built-in data"

    def duplicate(self, key: Key) -> str:
        """The message for a second entry ``key`` (an id and version already on the shelf)."""
        return (
            f"{self.kind} {key[0]}@{key[1]} is already in the catalogue, from "
            f"{self.origin(key)}; a changed {self.kind} needs a new version (or id)"
        )


def _protocols_builtin() -> dict[Key, Protocol]:
    out: dict[Key, Protocol] = {}
    names: dict[Key, str] = {}
    for name, data in shipped("protocols"):
        protocol = Protocol.from_dict(data)
        key = (protocol.id, protocol.version)
        if key in out:  # a packaging mistake; say which files
            raise ProtocolError(
                f"protocols/{name} and protocols/{names[key]} are both {key[0]}@{key[1]}",
                path="$.version",
            )
        out[key], names[key] = protocol, name
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
            _Shelf("protocol", _protocols_builtin, "protocols"),
            _Shelf("rule set", _rulesets_builtin, "rulesets"),
            _Shelf("template", _templates_builtin, "templates"),
            _Shelf("instrument", _instruments_builtin, "instruments"),
        )

    def protocol(self, id: str, version: str | None = None, *, path: str = "$") -> Protocol:
        """A protocol by id (the latest version unless ``version`` is given).

        Args:
            id: The protocol's id.
            version: Its version; the latest when ``None``.
            path: Where the reference came from, for the error: ``$.protocol``
                for a record's own reference.

        Raises:
            UnknownReferenceError: At ``path``, listing the known protocols.
        """
        return self.protocols.get(id, version, path=path)

    def ruleset(self, id: str, version: str | None = None, *, path: str = "$") -> Any:
        """A screening rule set by id and version (see :meth:`~kapproto.Catalog.protocol`)."""
        return self.rulesets.get(id, version, path=path)

    def template(self, id: str, version: str | None = None, *, path: str = "$") -> Any:
        """An integration-plan template by id and version (see :meth:`~kapproto.Catalog.protocol`)."""
        return self.templates.get(id, version, path=path)

    def instrument(self, id: str, version: str | None = None, *, path: str = "$") -> Any:
        """An instrument by id and version (see :meth:`~kapproto.Catalog.protocol`)."""
        return self.instruments.get(id, version, path=path)

    def with_files(self, *paths: str | Path) -> Catalog:
        """A new catalogue with a clinic's files added (files or folders of .toml/.json).

        Each file's kind is read from its keys: ``rules`` (rule set), ``steps``
        (template), ``items`` (instrument), ``doses``/``monitoring`` (protocol).
        Protocols' references to rule sets and templates are then resolved,
        those of a protocol file with other problems too. An id and version
        that the catalogue holds already (built in, or from another file) is
        refused: a file never replaces another.

        Raises:
            ProtocolError: Every problem in every file, each path prefixed by
                its file, references and duplicates included.
        """
        catalog = self
        problems: Problems = []
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
        unchecked: list[tuple[str, Mapping[str, Reference]]] = []
        # instruments first, so a clinic's template may name the clinic's own scales
        for kind, data, file in sorted(found, key=lambda f: (f[0] != "instrument", str(f[2]))):
            shelf_name = _SHELVES[kind]
            try:
                entry = _parse(kind, data, file, catalog)
                key = (entry.id, str(getattr(entry, "version", "1")))
                shelf = getattr(catalog, shelf_name).add(key, entry, str(file))
            except KapprotoError as exc:
                problems.extend((f"{file}:{p}", m) for p, m in exc.problems)
                if kind == "protocol":
                    unchecked.append((f"{file}:", references(data)))
                continue
            catalog = attrs.evolve(catalog, **{shelf_name: shelf})
        for label, refs in unchecked:
            problems += catalog.missing_references(label, refs)
        problems += catalog.reference_problems()
        if problems:
            raise ProtocolError(problems=problems)
        return catalog

    def check_references(self) -> None:
        """Check every protocol's rule set and template exist here.

        Raises:
            ProtocolError: Naming each protocol and missing reference.
        """
        problems = self.reference_problems()
        if problems:
            raise ProtocolError(problems=problems)

    def reference_problems(self) -> Problems:
        """``(id@version:$.ruleset, message)`` for each reference a protocol here cannot resolve."""
        problems: Problems = []
        for (pid, version), protocol in sorted(self.protocols.entries.items()):
            refs = {"ruleset": protocol.ruleset, "template": protocol.template}
            problems += self.missing_references(f"{pid}@{version}:", refs)
        return problems

    def missing_references(self, label: str, refs: Mapping[str, Reference | None]) -> Problems:
        """The references among ``refs`` (``ruleset``, ``template``) this catalogue lacks.

        Args:
            label: Put before each path (``"clinic-im@2:"`` or ``"clinic.toml:"``).
            refs: The protocol's references by key.
        """
        problems: Problems = []
        for name, shelf in (("ruleset", self.rulesets), ("template", self.templates)):
            ref = refs.get(name)
            if ref is not None and (ref.id, ref.version) not in shelf.entries:
                problems.append(
                    (f"{label}$.{name}", f"no {shelf.kind} {ref.id}@{ref.version} in the catalogue")
                )
        return problems


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
    """Load a protocol file (TOML or JSON), check it and resolve its references.

    Reports, in one :class:`~kapproto.exceptions.ProtocolError`, every
    problem in the file (:meth:`~kapproto.Protocol.from_dict`, internal consistency
    included), each rule set or template reference the catalogue lacks, and
    an id and version the catalogue holds with other content (a built-in
    protocol is never silently replaced by a clinic's changed copy).

    Args:
        path: The protocol file.
        catalog: Where its rule set and template are looked up (built-ins by default).

    Raises:
        ProtocolError: Every problem, at once.

    Example:
        >>> from kapproto import get_protocol, load_protocol
        >>> protocol = load_protocol("src/kapproto/data/protocols/im-kap.toml")
        >>> protocol.ref, protocol == get_protocol("im-kap")
        (Reference(id='im-kap', version='1'), True)
    """
    base = catalog or Catalog.builtin()
    data = read_document(path)
    problems: Problems = []
    protocol: Protocol | None = None
    try:
        protocol = Protocol.from_dict(data)
    except ProtocolError as exc:
        problems += exc.problems
    label = ""
    if isinstance(data, Mapping) and all(
        isinstance(data.get(k), str) and data[k] for k in ("id", "version")
    ):
        label = f"{data['id']}@{data['version']}:"
    problems += base.missing_references(label, references(data))
    if protocol is not None:
        key = (protocol.id, protocol.version)
        if base.protocols.entries.get(key, protocol) != protocol:
            problems.append(("$.version", base.protocols.duplicate(key)))
    if problems or protocol is None:
        raise ProtocolError(problems=problems)
    return protocol
