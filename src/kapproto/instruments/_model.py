"""The data-driven instrument model and the :class:`Score` it produces.

An :class:`Instrument` is read from a TOML data file (see ``_loader``); nothing
about a particular scale is written in Python. Scoring rules that need logic
are small named functions in ``_rules``, referenced from the data by name.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from kapproto._codes import Coding
from kapproto._params import Parameter

__all__ = [
    "AnswerKind",
    "FrozenMap",
    "Band",
    "Domain",
    "FlagRule",
    "Instrument",
    "Item",
    "Prorate",
    "Remission",
    "Score",
    "Subscale",
]


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable, picklable mapping (compares equal to the dict it holds).

    Example:
        >>> FrozenMap({"item9": 1}) == {"item9": 1}
        True
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[object, ...]:
        return (FrozenMap, (self._data,))


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """An immutable copy of a mapping."""
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


def _frozen_set(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


class AnswerKind(enum.Enum):
    """How an item is answered.

    ``INTEGER`` a whole number in the item's range; ``BOOLEAN`` yes/no (scored
    1/0); ``OPTIONS`` one labelled option (or several, the highest scoring
    counts), such as BDI-II items 16 and 18 (``"0"``, ``"1a"``, ... ``"3b"``).
    """

    INTEGER = "integer"
    BOOLEAN = "boolean"
    OPTIONS = "options"


@attrs.frozen
class Item:
    """One item of an instrument.

    Attributes:
        id: Stable item id (``"item9"``, ``"q6"``), used as a mapping key in
            answers and in ``Score.items``.
        label: A short neutral label (never the copyrighted item wording).
        kind: How the item is answered.
        min: Lowest item score.
        max: Highest item score.
        options: For ``OPTIONS`` items, option label -> score, in form order.
        asked_if: Skip logic: ``(item_id, answer)`` — the item is asked only
            when that item was answered so; ``None`` if always asked.
        loinc: LOINC code of the item, where a source gives one.
    """

    id: str
    label: str
    kind: AnswerKind = AnswerKind.INTEGER
    min: int = 0
    max: int = 3
    options: Mapping[str, int] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_frozen_map), hash=False
    )
    asked_if: tuple[str, bool] | None = None
    loinc: Coding | None = None


@attrs.frozen
class Band:
    """A severity band: a total in ``min..max`` (inclusive) has this band.

    Attributes:
        id: Snake-case id, e.g. ``"moderately_severe"``.
        label: How people read it, e.g. ``"Moderately severe"``.
        min: Lowest total in the band.
        max: Highest total in the band.
        source: Where the boundaries come from.
        confidence: ``C``, ``S`` or ``design`` (see CLINICAL.md).
    """

    id: str
    label: str
    min: int
    max: int
    source: str
    confidence: str


@attrs.frozen
class Domain:
    """A scoring domain: its score is the maximum of its items (QIDS-SR16).

    Attributes:
        id: Domain id, e.g. ``"sleep"``.
        label: Short label.
        items: Item ids whose maximum is the domain score.
    """

    id: str
    label: str
    items: tuple[str, ...]


@attrs.frozen
class Subscale:
    """A subscale: the sum of some items (PCL-5 clusters, CADSS-6).

    Attributes:
        id: Subscale id, e.g. ``"b"`` or ``"cadss6"``.
        label: Short label.
        items: Item ids summed.
        source: Where the item list comes from.
    """

    id: str
    label: str
    items: tuple[str, ...]
    source: str


@attrs.frozen
class FlagRule:
    """A flag raised by a named rule over item scores.

    Attributes:
        id: Flag id, e.g. ``"suicidal_ideation"``.
        rule: Name of the rule function in ``kapproto.instruments._rules``.
        params: The rule's parameters as written in the data file.
        description: What the flag means.
        source: Where the rule comes from.
        confidence: ``C``, ``S`` or ``design``.
    """

    id: str
    rule: str
    params: Mapping[str, Any] = attrs.field(converter=_frozen_map, hash=False)
    description: str
    source: str
    confidence: str


@attrs.frozen
class Remission:
    """Remission: a total below (``lt``) or at most (``le``) a threshold.

    Attributes:
        threshold: The threshold, with its source and confidence.
        compare: ``"lt"`` (PHQ-9: total < 5) or ``"le"`` (MADRS: total <= 12).
    """

    threshold: Parameter[int]
    compare: str

    def holds(self, total: int, threshold: int | None = None) -> bool:
        """Whether ``total`` is a remission (against ``threshold`` if given)."""
        limit = self.threshold.value if threshold is None else threshold
        return total < limit if self.compare == "lt" else total <= limit

    def describe(self) -> str:
        """E.g. ``"total < 5"``."""
        return f"total {'<' if self.compare == 'lt' else '<='} {self.threshold.value}"


@attrs.frozen
class Prorate:
    """A published prorating rule: up to ``max_missing`` items may be missing.

    The prorated total is the mean of the answered items times the number of
    items, rounded half up.

    Attributes:
        max_missing: How many items may be missing.
        source: The published rule.
    """

    max_missing: int
    source: str


@attrs.frozen
class Instrument:
    """A screening or outcome instrument, read from its data file.

    Attributes:
        id: Stable id (``"phq9"``).
        name: Full name.
        abbreviation: Common short name (``"PHQ-9"``).
        version: Version of kapproto's definition (``"1"``).
        source: The publication the scale comes from.
        items: Items, in form order.
        scoring: Name of the total-score rule (``"sum"``, ``"domain_max"``, ``"none"``).
        total_min: Lowest total, or ``None`` for a scale without a total.
        total_max: Highest total, or ``None``.
        total_source: Where the range comes from, with its confidence.
        bands: Severity bands partitioning ``total_min..total_max``; may be empty.
        domains: Domains of a ``domain_max`` scale.
        subscales: Summed subscales.
        flags: Flag rules.
        positive: Cut-point: a total at or above it is a positive screen.
        response: Response: a fall of at least this percent from baseline.
        remission: Remission definition.
        prorate: Prorating rule, only where the scale's published rule allows it.
        loinc_panel: LOINC code of the panel / questionnaire.
        loinc_total: LOINC code of the total score.
        notes: Limitations and caveats (shown in the docs).

    Example:
        >>> from kapproto import get_instrument
        >>> phq9 = get_instrument("phq9")
        >>> phq9.name, len(phq9.items), phq9.total_min, phq9.total_max
        ('Patient Health Questionnaire-9', 9, 0, 27)
    """

    id: str
    name: str
    abbreviation: str
    version: str
    source: str
    items: tuple[Item, ...]
    scoring: str
    total_min: int | None
    total_max: int | None
    total_source: str = ""
    bands: tuple[Band, ...] = ()
    domains: tuple[Domain, ...] = ()
    subscales: tuple[Subscale, ...] = ()
    flags: tuple[FlagRule, ...] = ()
    positive: Parameter[int] | None = None
    response: Parameter[int] | None = None
    remission: Remission | None = None
    prorate: Prorate | None = None
    loinc_panel: Coding | None = None
    loinc_total: Coding | None = None
    notes: str = ""

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Item ids in form order."""
        return tuple(item.id for item in self.items)

    def item(self, item_id: str) -> Item:
        """The item with this id.

        Raises:
            UnknownReferenceError: No such item.
        """
        for item in self.items:
            if item.id == item_id:
                return item
        from kapproto.exceptions import UnknownReferenceError

        raise UnknownReferenceError(
            f"{self.id} has no item {item_id!r}; items are {', '.join(self.item_ids)}"
        )

    def band_for(self, total: int) -> Band | None:
        """The band containing ``total``, or ``None`` if the scale has no bands."""
        for band in self.bands:
            if band.min <= total <= band.max:
                return band
        return None


@attrs.frozen
class Score:
    """The result of scoring one administration of an instrument.

    Attributes:
        instrument: Instrument id.
        total: Total score, or ``None`` for a scale without a numeric total
            (the C-SSRS screener).
        band: Severity band id (e.g. ``"moderately_severe"``), or ``None``
            where the scale has no bands.
        subscales: Subscale or domain scores by id (QIDS-SR16 domains, PCL-5
            clusters ``b``..``e``, CADSS-6); empty where none.
        flags: Flag ids raised, e.g. ``{"suicidal_ideation"}``.
        positive: Whether the total is at or above the screening cut-point;
            ``None`` where the scale has none.
        prorated: Whether missing items were prorated by the scale's rule.
        items: Item scores by item id (yes/no items as 1/0; items not asked
            by skip logic are absent), so that ``scores.phq9.item9`` can be
            filled from a score.

    Example:
        >>> from kapproto.instruments import score
        >>> s = score("phq9", [2, 2, 1, 2, 1, 1, 2, 1, 0])
        >>> (s.total, s.band, s.positive)
        (12, 'moderate', True)
    """

    instrument: str
    total: int | None
    band: str | None
    subscales: Mapping[str, int] = attrs.field(converter=_frozen_map)
    flags: frozenset[str] = attrs.field(converter=_frozen_set)
    positive: bool | None
    prorated: bool
    items: Mapping[str, int] = attrs.field(converter=_frozen_map)
