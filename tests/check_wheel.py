"""Check that a built wheel ships py.typed and every data file (used by `nox -s build`)."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(wheel: str) -> int:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"kapproto/py.typed"}
    data = ROOT / "src" / "kapproto" / "data"
    expected |= {
        "kapproto/" + p.relative_to(ROOT / "src" / "kapproto").as_posix()
        for p in data.rglob("*")
        if p.is_file()
    }
    missing = sorted(expected - names)
    if missing:
        print("missing from the wheel:", *missing, sep="\n  ")
        return 1
    print(f"wheel ships py.typed and {len(expected) - 1} data files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
