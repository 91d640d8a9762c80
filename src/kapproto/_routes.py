"""Routes, formulations, medications and dose bases, with their reference data.

The enums are the vocabulary; what kapproto knows about each member (SNOMED CT
code, bioavailability, onset, which routes a formulation goes by, the amount
per nasal device, ...) is read from ``data/routes.toml``,
``data/formulations.toml`` and ``data/medications.toml``, each fact with its
source and confidence (CLINICAL.md §1 and §5).

Example:
    >>> from kapproto import Route, Formulation, Medication
    >>> Route.INTRAMUSCULAR.snomed.code
    '78421000'
    >>> Route.INTRAVENOUS in Formulation.TROCHE.routes
    False
    >>> from kapproto.units import format_quantity
    >>> format_quantity(Formulation.NASAL_SPRAY_DEVICE.device_amount(Medication.ESKETAMINE).value)
    '28 mg'
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, TypeVar

import attrs

from kapproto import units as _units
from kapproto._codes import RXNORM, SNOMED, Coding
from kapproto._params import Confidence, Parameter
from kapproto.exceptions import ValidationError
from kapproto.units import FRACTION, Fraction, Quantity

if TYPE_CHECKING:
    from kapproto._route_data import _Tables

__all__ = [
    "Basis",
    "Bioavailability",
    "Formulation",
    "FormulationInfo",
    "Medication",
    "MedicationInfo",
    "Route",
    "RouteInfo",
    "coerce_enum",
    "to_basis",
    "to_formulation",
    "to_medication",
    "to_route",
]

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


class Basis(enum.Enum):
    """What a recorded amount counts: the ketamine base or its hydrochloride salt.

    Ketalar's strengths are stated as base: 10 mg base is 11.53 mg ketamine HCl
    (CLINICAL.md §1.1). Each :class:`Formulation` says which basis its strength
    is labelled as; an :class:`~kapproto.Administration` records which one its
    amount is in.

    Example:
        >>> from kapproto import Basis, Formulation
        >>> Formulation.SOLUTION_FOR_INJECTION.basis
        <Basis.BASE: 'base'>
        >>> Basis("hydrochloride")
        <Basis.HYDROCHLORIDE: 'hydrochloride'>
    """

    BASE = "base"
    HYDROCHLORIDE = "hydrochloride"

    __hash__ = object.__hash__  # members are singletons; Enum's name hash is slow on hot paths


class Medication(enum.Enum):
    """The drug given: racemic ketamine or esketamine.

    Example:
        >>> Medication.KETAMINE.snomed.code
        '373464007'
        >>> Medication.ESKETAMINE.rxnorm is None
        True
    """

    KETAMINE = "ketamine"
    ESKETAMINE = "esketamine"

    __hash__ = object.__hash__

    @property
    def info(self) -> MedicationInfo:
        """Everything ``data/medications.toml`` says about this medication."""
        return _tables().medications[self]

    @property
    def codings(self) -> tuple[Coding, ...]:
        """Confirmed codes only ([C] in CLINICAL.md §5.1); never a guessed code."""
        return self.info.codings

    @property
    def snomed(self) -> Coding | None:
        """The SNOMED CT substance code, or ``None`` where none is confirmed."""
        return self.info.coding(SNOMED)

    @property
    def rxnorm(self) -> Coding | None:
        """The RxNorm ingredient code, or ``None`` where none is confirmed."""
        return self.info.coding(RXNORM)

    @property
    def display(self) -> str:
        """How people read the medication, e.g. ``"Ketamine (racemic)"``."""
        return self.info.display


class Route(enum.Enum):
    """A route of administration (SNOMED CT route codes, CLINICAL.md §5.2).

    Example:
        >>> Route.SUBLINGUAL.weight_based
        False
        >>> Route.SUBCUTANEOUS.bioavailability is None
        True
    """

    INTRAVENOUS = "intravenous"
    INTRAMUSCULAR = "intramuscular"
    SUBCUTANEOUS = "subcutaneous"
    SUBLINGUAL = "sublingual"
    BUCCAL = "buccal"
    ORAL = "oral"
    INTRANASAL = "intranasal"

    __hash__ = object.__hash__

    @property
    def info(self) -> RouteInfo:
        """Everything ``data/routes.toml`` says about this route."""
        return _tables().routes[self]

    @property
    def snomed(self) -> Coding:
        """The SNOMED CT route code as a :class:`~kapproto.Coding`."""
        return self.info.snomed

    @property
    def bioavailability(self) -> Bioavailability | None:
        """Bioavailability of racemic ketamine by this route; ``None`` if no source gives it."""
        return self.info.bioavailability

    def bioavailability_for(self, medication: Medication) -> Bioavailability | None:
        """Bioavailability of ``medication`` by this route; ``None`` if no source gives it."""
        return self.info.by_medication.get(medication, self.info.bioavailability)

    @property
    def onset(self) -> Parameter[str]:
        """When effects begin, as the sources describe it, with the source."""
        return self.info.onset

    @property
    def weight_based(self) -> bool:
        """Whether doses by this route are usually written per body mass (mg/kg)."""
        return self.info.weight_based.value

    @property
    def infusion(self) -> bool:
        """Whether this route gives a dose as an infusion, from ``start`` to ``end``.

        Example:
            >>> Route.INTRAVENOUS.infusion, Route.INTRAMUSCULAR.infusion
            (True, False)
        """
        return self.info.infusion.value


class Formulation(enum.Enum):
    """A dosage form: the routes it can go by and how its strength is labelled.

    Example:
        >>> Formulation.SOLUTION_FOR_INJECTION.basis
        <Basis.BASE: 'base'>
        >>> Formulation.TROCHE.allows(Route.BUCCAL)
        True
    """

    SOLUTION_FOR_INJECTION = "solution_for_injection"
    TROCHE = "troche"
    RAPID_DISSOLVE_TABLET = "rapid_dissolve_tablet"
    ORAL_SOLUTION = "oral_solution"
    NASAL_SPRAY_DEVICE = "nasal_spray_device"

    __hash__ = object.__hash__

    @property
    def info(self) -> FormulationInfo:
        """Everything ``data/formulations.toml`` says about this formulation."""
        return _tables().formulations[self]

    @property
    def routes(self) -> frozenset[Route]:
        """The routes this formulation can go by."""
        return self.info.routes

    def allows(self, route: Route) -> bool:
        """Whether this formulation can go by ``route``."""
        return route in self.info.routes

    @property
    def basis(self) -> Basis:
        """The basis this formulation's strength is labelled as (the default of a record)."""
        return self.info.basis.value

    def device_amount(self, medication: Medication) -> Parameter[Quantity] | None:
        """Amount per device (MASS, mg) of ``medication``, with its source; ``None`` if not a device."""
        return self.info.device_amounts.get(medication)


@attrs.frozen
class Bioavailability:
    """The fraction of a dose that reaches systemic circulation, as a range.

    Attributes:
        low: Lower end (FRACTION, %).
        high: Upper end (FRACTION, %).
        source: Where the range comes from.
        confidence: How sure that source is.

    Example:
        >>> from kapproto import Route
        >>> ba = Route.SUBLINGUAL.bioavailability
        >>> str(ba.low), str(ba.high), ba.confidence
        ('27.0 percent', '32.0 percent', <Confidence.C: 'C'>)
    """

    low: Fraction = _units.kind_field(FRACTION)
    high: Fraction = _units.kind_field(FRACTION)
    source: str = ""
    confidence: Confidence | None = None


@attrs.frozen
class RouteInfo:
    """Reference data of one route (``data/routes.toml``).

    Attributes:
        route: The route.
        snomed: SNOMED CT route code.
        bioavailability: Racemic ketamine's range, or ``None`` where no source gives one.
        by_medication: Ranges that differ for one medication (esketamine intranasal).
        onset: Onset as the sources describe it.
        weight_based: Whether doses by this route are usually per body mass.
        infusion: Whether this route gives a dose as an infusion, over a time
            from ``start`` to ``end``, rather than at once.
    """

    route: Route
    snomed: Coding
    bioavailability: Bioavailability | None
    by_medication: Mapping[Medication, Bioavailability]
    onset: Parameter[str]
    weight_based: Parameter[bool]
    infusion: Parameter[bool]


@attrs.frozen
class FormulationInfo:
    """Reference data of one formulation (``data/formulations.toml``).

    Attributes:
        formulation: The formulation.
        routes: Routes it can go by.
        routes_source: Where that list comes from.
        basis: The basis its strength is labelled as, with source.
        device_amounts: Amount per device (MASS, mg) for each medication sold as a device.
    """

    formulation: Formulation
    routes: frozenset[Route]
    routes_source: str
    basis: Parameter[Basis]
    device_amounts: Mapping[Medication, Parameter[Quantity]]


@attrs.frozen
class MedicationInfo:
    """Reference data of one medication (``data/medications.toml``).

    Attributes:
        medication: The medication.
        display: How people read it.
        codings: Confirmed codes (SNOMED CT, RxNorm); empty where none is confirmed.
        hydrochloride_per_base: mg of hydrochloride salt that hold 1 mg of base.
    """

    medication: Medication
    display: str
    codings: tuple[Coding, ...]
    hydrochloride_per_base: Parameter[float]

    def coding(self, system: str) -> Coding | None:
        """The code in ``system`` (a URI), or ``None``."""
        return next((c for c in self.codings if c.system == system), None)


def coerce_enum(tp: type[E], value: object, name: str) -> E:
    """Return the member of ``tp`` that ``value`` is or names (its ``.value``).

    Records use it in their attrs converters, so a Python caller may pass
    ``"intravenous"`` as well as ``Route.INTRAVENOUS``.

    Raises:
        ValidationError: Neither a member nor a member's value; the path is ``$.<name>``.

    Example:
        >>> coerce_enum(Route, "oral", "route")
        <Route.ORAL: 'oral'>
    """
    if isinstance(value, tp):
        return value
    for member in tp:
        if member.value == value and isinstance(value, str):
            return member
    allowed = ", ".join(repr(m.value) for m in tp)
    raise ValidationError(
        f"{name}={value!r} is not a {tp.__name__}; expected one of {allowed}", path=f"$.{name}"
    )


def to_medication(value: object) -> Medication:
    """Convert, as an attrs converter, a ``medication`` field (see :func:`coerce_enum`)."""
    return coerce_enum(Medication, value, "medication")


def to_route(value: object) -> Route:
    """Convert, as an attrs converter, a ``route`` field (see :func:`coerce_enum`)."""
    return coerce_enum(Route, value, "route")


def to_formulation(value: object) -> Formulation:
    """Convert, as an attrs converter, a ``formulation`` field (see :func:`coerce_enum`)."""
    return coerce_enum(Formulation, value, "formulation")


def to_basis(value: object) -> Basis:
    """Convert, as an attrs converter, a ``basis`` field (see :func:`coerce_enum`)."""
    return coerce_enum(Basis, value, "basis")


@cache
def _tables() -> _Tables:
    """The three data files, read and checked once (see :mod:`kapproto._route_data`)."""
    from kapproto._route_data import read_tables

    return read_tables()
