"""Units: the cost of ``import kapproto``, of the registry, and of structuring quantities.

1. Import wall time, each in a fresh interpreter: ``python -c pass``,
   ``import attrs, cattrs`` (the baseline: target ``import kapproto`` <= 1.5x),
   ``import kapproto`` (pint and cattrs are not imported), ``import pint`` with
   and without pint's default registry, and kapproto's first quantity (pint
   plus kapproto's own registry).
2. Building the registry in-process: kapproto's from ``data/units.txt`` with
   its 25 UCUM units resolved (target < 20 ms) against pint's default one.
3. Structuring 10,000 ``{"value", "unit"}`` dicts into MASS quantities through
   ``converter.structure(d, Mass)`` against ``Quantity(v, prebuilt_unit)``
   (target within 3x) and against reading plain floats.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

from _harness import Group

from kapproto import _unit_registry
from kapproto.serialization import converter
from kapproto.units import MASS, Mass, get_registry

N = 10_000


def _fresh(code: str) -> Callable[[], object]:
    """Run ``code`` in a fresh interpreter (no site customisation beyond the venv's)."""
    argv = [sys.executable, "-c", code]
    return lambda: subprocess.run(argv, check=True)


def _import_group() -> Group:
    return Group(
        title="import wall time, fresh interpreter (target: import kapproto <= 1.5x attrs+cattrs)",
        cases={
            "python -c pass": _fresh("pass"),
            "import attrs, cattrs": _fresh("import attrs, cattrs"),
            "import kapproto": _fresh("import kapproto"),
            "import kapproto; kapproto.__version__": _fresh(
                "import kapproto; kapproto.__version__"
            ),
            "import pint": _fresh("import pint"),
            "import pint; pint.UnitRegistry()": _fresh("import pint; pint.UnitRegistry()"),
            "import kapproto; quantity('40 mg') (pint + own registry)": _fresh(
                "import kapproto; kapproto.quantity('40 mg')"
            ),
        },
        baseline="import attrs, cattrs",
        unit="process",
    )


def _build_kapproto_registry() -> object:
    """What first use does: parse data/units.txt and resolve every accepted UCUM unit."""
    reg = _unit_registry._build_registry()
    return [reg.Unit(expr) for expr in _unit_registry._UCUM_TO_PINT.values()]


def _registry_group() -> Group:
    import pint

    return Group(
        title="registry build, in-process (target: kapproto's < 20 ms)",
        cases={
            "kapproto: data/units.txt + 25 UCUM units": _build_kapproto_registry,
            "pint.UnitRegistry() (default definitions)": pint.UnitRegistry,
        },
        baseline="pint.UnitRegistry() (default definitions)",
        unit="registry",
    )


def _structure_group() -> Group:
    values = [float(i % 997) + 0.5 for i in range(N)]
    dicts: list[dict[str, Any]] = [{"value": v, "unit": "mg"} for v in values]
    mixed = [{"value": v, "unit": ("mg", "g", "mcg")[i % 3]} for i, v in enumerate(values)]
    reg = get_registry()
    q, unit = reg.Quantity, MASS.unit
    structure = converter.structure
    hook = converter.get_structure_hook(Mass)
    return Group(
        title=f'structuring {N:,} {{"value", "unit"}} dicts (target: within 3x of Quantity(v, unit))',
        cases={
            "plain floats: float(d['value'])": lambda: [float(d["value"]) for d in dicts],
            "Quantity(v, prebuilt_unit)": lambda: [q(v, unit) for v in values],
            "converter.structure(d, Mass), mg": lambda: [structure(d, Mass) for d in dicts],
            "cached hook(d, Mass), mg": lambda: [hook(d, Mass) for d in dicts],
            "converter.structure(d, Mass), mg|g|mcg": lambda: [structure(d, Mass) for d in mixed],
        },
        baseline="Quantity(v, prebuilt_unit)",
        unit="quantity",
        per_call=N,
    )


def groups() -> list[Group]:
    return [_import_group(), _registry_group(), _structure_group()]
