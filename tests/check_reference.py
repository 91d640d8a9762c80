"""Check that every public name is in the built Sphinx reference (used by `nox -s docs`).

A public name is one listed in ``__all__`` of ``kapproto`` or of one of its
public modules. It counts as documented when the reference's ``objects.inv``
has it under one of those public modules (``kapproto.score`` is documented as
``kapproto.instruments.score``) or under the module that defines it.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from sphinx.util.inventory import InventoryFile

PUBLIC_MODULES = (
    "kapproto",
    "kapproto.exceptions",
    "kapproto.units",
    "kapproto.serialization",
    "kapproto.instruments",
    "kapproto.screening",
    "kapproto.fhir",
    "kapproto.testing",
    "kapproto.synthetic",
    "kapproto.tabular",
)


def documented_names(inventory: Path) -> set[str]:
    """Every Python object name in a Sphinx ``objects.inv``."""
    with inventory.open("rb") as f:
        inv = InventoryFile.load(f, "", lambda base, uri: uri)
    return {name for role, entries in inv.items() if role.startswith("py:") for name in entries}


def undocumented(names: set[str]) -> dict[str, list[str]]:
    """Public names missing from ``names``, by the module that lists them."""
    missing: dict[str, list[str]] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            owners = set(PUBLIC_MODULES)
            defined_in = getattr(getattr(module, name), "__module__", None)
            if isinstance(defined_in, str):
                owners.add(defined_in)
            if not any(f"{owner}.{name}" in names for owner in owners):
                missing.setdefault(module_name, []).append(name)
    return missing


def main(inventory: str) -> int:
    missing = undocumented(documented_names(Path(inventory)))
    if missing:
        print("public names missing from the Sphinx reference:")
        for module_name, names in missing.items():
            print(f"  {module_name}: {', '.join(names)}")
        return 1
    print(f"every public name of {len(PUBLIC_MODULES)} modules is in the reference")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
