"""Run every benchmark group (``nox -s bench``); optionally only modules matching argv."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _harness import format_group, run_group


def main(argv: list[str]) -> None:
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    for name in names:
        module = importlib.import_module(name)
        for group in module.groups():
            print(format_group(group, run_group(group)))
            print()


if __name__ == "__main__":
    main(sys.argv[1:])
