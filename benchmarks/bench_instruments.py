"""Scoring questionnaires: kapproto's validated scoring against a hand-written sum."""

from __future__ import annotations

import json

from _harness import Group

from kapproto.instruments import InstrumentResponse, score
from kapproto.serialization import from_json

PHQ9 = [2, 2, 1, 2, 1, 1, 2, 1, 1]
PHQ9_KEYED = {f"item{n}": a for n, a in enumerate(PHQ9, 1)}
PHQ9_JSON = json.dumps({"instrument": "phq9", "time": "2026-03-02T09:02:00-07:00", "answers": PHQ9})
QIDS = [3, 0, 1, 0, 1, 2, 0, 2, 0, 1, 1, 1, 1, 1, 3, 2]
PHQ9_BANDS = ((4, "none_minimal"), (9, "mild"), (14, "moderate"), (19, "moderately_severe"))
QIDS_DOMAINS = ((0, 1, 2, 3), (4,), (5, 6, 7, 8), (9,), (10,), (11,), (12,), (13,), (14, 15))


def _by_hand_phq9() -> object:
    """What a script without validation does: sum, band lookup, item 9 check."""
    total = sum(PHQ9)
    band = next((b for top, b in PHQ9_BANDS if total <= top), "severe")
    return total, band, PHQ9[8] > 0


def _by_hand_qids() -> object:
    return sum(max(QIDS[i] for i in d) for d in QIDS_DOMAINS)


def groups() -> list[Group]:
    return [
        Group(
            "Score one PHQ-9 (total, band, item 9 flag)",
            {
                "by hand (no validation)": _by_hand_phq9,
                "score('phq9', list)": lambda: score("phq9", PHQ9),
                "score('phq9', mapping)": lambda: score("phq9", PHQ9_KEYED),
                "InstrumentResponse from JSON, then score()": lambda: from_json(
                    PHQ9_JSON, InstrumentResponse
                ).score(),
            },
            baseline="by hand (no validation)",
            unit="score",
        ),
        Group(
            "Score one QIDS-SR16 (domain maxima)",
            {
                "by hand (no validation)": _by_hand_qids,
                "score('qids_sr16', list)": lambda: score("qids_sr16", QIDS),
            },
            baseline="by hand (no validation)",
            unit="score",
        ),
    ]
