"""``kapproto score INSTRUMENT ANSWERS...`` and ``kapproto list instruments``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kapproto.cli._common import DISCLAIMER, EXIT_OK, Listers, print_json

_YES = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}
_SKIPPED = ("-", "")


def _instruments() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto.instruments import INSTRUMENTS

    rows: list[Sequence[str]] = []
    for inst in INSTRUMENTS.values():
        total = "-" if inst.total_min is None else f"{inst.total_min}-{inst.total_max}"
        rows.append(
            (
                inst.id,
                inst.abbreviation,
                str(len(inst.items)),
                total,
                ", ".join(b.id for b in inst.bands) or "-",
                ", ".join(f.id for f in inst.flags) or "-",
            )
        )
    return ("id", "name", "items", "total", "bands", "flags"), rows


def register(sub: Any, listers: Listers) -> None:
    """Add ``kapproto score`` and the ``instruments`` lister."""
    listers["instruments"] = _instruments
    parser = sub.add_parser(
        "score",
        help="score a questionnaire (phq9, gad7, pcl5, cssrs_screener, madrs, qids_sr16, bdi2, cadss)",
        description="Score one administration of an instrument. Answers are given in item "
        "order (`kapproto score phq9 2 2 1 2 1 1 2 1 0`) or as ITEM=ANSWER "
        "(`kapproto score cssrs_screener q1=yes q2=no q6=no`). Yes/no items take "
        "yes/no; BDI-II items 16 and 18 take an option label such as 2a (several: 1a,3b); "
        "'-' marks an item not asked.",
    )
    parser.add_argument(
        "instrument", help="instrument id, or a .toml file with a clinic's own scale"
    )
    parser.add_argument(
        "answers", nargs="*", metavar="ANSWER", help="answers in item order, or ITEM=ANSWER"
    )
    parser.add_argument(
        "--cutpoint",
        type=int,
        default=None,
        help="screening cut-point to use instead of the default",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=_run)


def _parse(raw: str, kind: Any) -> object:
    """A command-line answer in the type its item expects.

    Anything else is passed on unchanged, so that scoring reports it with its path.
    """
    from kapproto.instruments import AnswerKind

    if raw in _SKIPPED:
        return None
    if kind is AnswerKind.BOOLEAN:
        return _YES.get(raw.lower(), raw)
    if kind is AnswerKind.OPTIONS:
        return raw.split(",") if "," in raw else raw
    try:
        return int(raw)
    except ValueError:
        return raw


def _answers(inst: Any, raw: Sequence[str]) -> object:
    kinds = {item.id: item.kind for item in inst.items}
    if raw and all("=" in a for a in raw):
        pairs = [a.split("=", 1) for a in raw]
        return {k: _parse(v, kinds.get(k)) for k, v in pairs}
    return [_parse(a, item.kind) for a, item in zip(raw, inst.items, strict=False)] + [
        _parse(a, None) for a in raw[len(inst.items) :]
    ]


def _text(inst: Any, result: Any) -> str:
    lines = [f"{inst.abbreviation} ({inst.name})"]
    if result.total is not None:
        lines.append(f"total: {result.total} of {inst.total_min}-{inst.total_max}")
    if result.band is not None:
        band = inst.band_for(result.total)
        lines.append(f"band: {band.label} ({band.min}-{band.max}; {band.source})")
    if result.positive is not None:
        lines.append(f"positive screen: {'yes' if result.positive else 'no'}")
    for sub_id, value in result.subscales.items():
        lines.append(f"subscale {sub_id}: {value}")
    by_id = {f.id: f for f in inst.flags}
    for flag in sorted(result.flags):
        lines.append(f"FLAG {flag}: {by_id[flag].description} ({by_id[flag].source})")
    if not result.flags and inst.flags:
        lines.append("flags: none raised")
    if result.prorated:
        lines.append(f"prorated: {inst.prorate.source}")
    lines.append(f"source: {inst.source}")
    lines.append(DISCLAIMER)
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from kapproto.instruments import get_instrument, load_instrument, score
    from kapproto.serialization import to_dict

    is_file = args.instrument.endswith(".toml") and Path(args.instrument).is_file()
    inst = load_instrument(args.instrument) if is_file else get_instrument(args.instrument)
    result = score(inst, _answers(inst, args.answers), cutpoint=args.cutpoint)
    if args.format == "json":
        print_json(to_dict(result))
    else:
        print(_text(inst, result))
    return EXIT_OK
