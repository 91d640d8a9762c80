"""kapproto's unit registry and its table of accepted units (behind :mod:`kapproto.units`).

The registry is built on first use, thread-safely, from ``data/units.txt``;
the accepted units, their spellings and display forms come from
``data/unit_table.toml``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

import attrs

from kapproto.exceptions import UnitError

if TYPE_CHECKING:
    import pint

    Quantity = pint.Quantity[Any]
else:
    Quantity = Any

# --------------------------------------------------------------------------
# The accepted units: UCUM code -> pint expression in data/units.txt names.
# --------------------------------------------------------------------------


def _unit_rows() -> list[dict[str, Any]]:
    """The unit table ``data/unit_table.toml`` (read once, at import)."""
    import tomllib

    text = resources.files("kapproto").joinpath("data", "unit_table.toml").read_text("utf-8")
    rows: list[dict[str, Any]] = tomllib.loads(text)["units"]
    return rows


_ROWS: Final = _unit_rows()
_UCUM_TO_PINT: Final[Mapping[str, str]] = {r["code"]: r["pint"] for r in _ROWS}

UCUM_CODES: Final[tuple[str, ...]] = tuple(_UCUM_TO_PINT)
"""Every UCUM code a kapproto record may use, in display order."""

# Common spellings people type, mapped to their UCUM code.
_SPELLINGS: Final[Mapping[str, str]] = {s: r["code"] for r in _ROWS for s in r["spellings"]}

# How people read each code (ISMP: "mcg", never "µg" or "ug").
_DISPLAY: Final[Mapping[str, str]] = {r["code"]: r["display"] for r in _ROWS if "display" in r}

# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------

_lock = threading.Lock()
_registry: Any = None


def _build_registry() -> Any:
    import pint

    path = resources.files("kapproto").joinpath("data", "units.txt")
    with resources.as_file(path) as real:
        return pint.UnitRegistry(str(real), cache_folder=None, on_redefinition="raise")


def get_registry() -> pint.UnitRegistry[Any]:
    """Return kapproto's unit registry, building it on first use (thread-safe).

    Returns:
        The registry shared by every kapproto quantity.
    """
    reg = _registry
    if reg is None:
        with _lock:
            if _registry is None:
                _install(_build_registry())
            reg = _registry
    return reg  # type: ignore[no-any-return]


def use_registry(registry: pint.UnitRegistry[Any]) -> None:
    """Make kapproto use an application's own pint registry.

    Call it once, before any quantity is built. The registry must define the
    units kapproto names (``milligram``, ``kilogram``, ``pound``,
    ``milliliter``, ``minute``, ``millimeter_Hg``, ``percent``, ...), as pint's
    default registry does.

    Args:
        registry: The registry to share.

    Raises:
        UnitError: kapproto's registry is already in use, or ``registry``
            lacks a unit kapproto needs.

    Example:
        >>> import pint
        >>> from kapproto import quantity, use_registry
        >>> quantity("40 mg")  # kapproto's registry is now in use
        <Quantity(40.0, 'milligram')>
        >>> use_registry(pint.UnitRegistry())
        Traceback (most recent call last):
        ...
        kapproto.exceptions.UnitError: $: use_registry() must be called before kapproto builds ...
    """
    with _lock:
        if _registry is not None and _registry is not registry:
            raise UnitError(
                "use_registry() must be called before kapproto builds its first quantity; "
                "kapproto's registry is already in use"
            )
        _install(registry)


def _install(registry: Any) -> None:
    global _registry
    table: dict[str, UnitInfo] = {}
    for code, expr in _UCUM_TO_PINT.items():
        try:
            unit = registry.Unit(expr)
        except Exception as exc:
            raise UnitError(
                f"the registry does not define {expr!r}, which kapproto needs for UCUM {code!r}"
            ) from exc
        table[code] = UnitInfo(code=code, unit=unit, signature=_signature(registry, unit))
    for spelling, code in _SPELLINGS.items():
        table.setdefault(spelling, table[code])
    _UNITS.clear()
    _UNITS.update(table)
    _BY_CONTAINER.clear()
    for code in UCUM_CODES:
        _BY_CONTAINER[table[code].unit._units] = table[code]
    _CONVERSIONS.clear()
    _CANONICAL.clear()
    _registry = registry


@attrs.frozen
class UnitInfo:
    """One accepted unit, resolved once against the registry.

    Attributes:
        code: The UCUM code, e.g. ``"mm[Hg]"``.
        unit: The :class:`pint.Unit`.
        signature: The unit's structure (numerator and denominator dimensions
            kept apart), which tells ``mg/kg`` from ``%``.
    """

    code: str
    unit: Any
    signature: tuple[tuple[str, int], ...]

    @property
    def display(self) -> str:
        """The code as people read it (``mcg``, ``mmHg``)."""
        return _DISPLAY.get(self.code, self.code)


_UNITS: dict[str, UnitInfo] = {}
_BY_CONTAINER: dict[Any, UnitInfo] = {}
_CONVERSIONS: dict[tuple[str, Any], float | None] = {}
# kind name -> the canonical unit's UnitsContainer (the identity check of Kind.check)
_CANONICAL: dict[str, Any] = {}


def _signature(registry: Any, unit: Any) -> tuple[tuple[str, int], ...]:
    """Dimensions of each factor of ``unit`` without cancelling across factors.

    ``mg/kg`` gives ``(("[mass]", -1), ("[mass]", 1))``, ``%`` gives
    ``(("percent", 1),)``; a bare number gives ``()``.
    """
    parts: dict[str, int] = {}
    for name, exp in unit._units.items():
        dims = registry.get_dimensionality(name)
        if not dims:
            key = registry.get_name(name)
            parts[key] = parts.get(key, 0) + int(exp)
            continue
        for dim, dexp in dims.items():
            # keep numerator and denominator apart: tag by sign of the factor
            key = f"{dim}{'+' if exp > 0 else '-'}"
            parts[key] = parts.get(key, 0) + int(abs(dexp * exp))
    return tuple(sorted(parts.items()))


def make_quantity(magnitude: float, unit: Any) -> Quantity:
    """Build a quantity from a finite float magnitude and a :class:`pint.Unit`, fast.

    The hot path of structuring: pint's own ``Quantity(value, unit)`` spends
    most of its time on checks that kapproto has already made (a finite float,
    a unit from its own registry), so this sets the two fields directly.
    """
    inst = object.__new__(get_registry().Quantity)
    inst._magnitude = magnitude
    inst._units = unit._units
    return inst


def parse_unit(text: str) -> UnitInfo:
    """Resolve a unit spelling (UCUM code or a common spelling) to :class:`UnitInfo`.

    Args:
        text: ``"mg/kg"``, ``"mcg"``, ``"mmHg"``, ``"bpm"``, ...

    Raises:
        UnitError: The spelling is not in kapproto's table.

    Example:
        >>> parse_unit("mmHg").code
        'mm[Hg]'
    """
    if not _UNITS:
        get_registry()
    info = _UNITS.get(text) if isinstance(text, str) else None
    if info is None and isinstance(text, str):
        info = _UNITS.get(text.replace(" ", ""))
    if info is None:
        raise UnitError(
            f"unknown unit {text!r}; expected one of {', '.join(UCUM_CODES)} "
            "(or a common spelling such as mcg, mmHg, bpm, lb, hr)"
        )
    return info
