"""Screening and outcome instruments: scoring, bands, flags, outcomes.

Each scale is defined in a data file under ``kapproto/data/instruments/``
with its source and the confidence of every number (see CLINICAL.md §4);
rules that need logic (QIDS-SR16 domain maxima, the PCL-5 DSM-5 cluster
rule, C-SSRS triage) are small named functions referenced from the data.
No copyrighted item wording is shipped: items carry short neutral labels.

Example:
    >>> from kapproto.instruments import score, is_response
    >>> s = score("phq9", [2, 2, 1, 2, 1, 1, 2, 1, 0])
    >>> s.total, s.band, sorted(s.flags)
    (12, 'moderate', [])
    >>> is_response("phq9", s, 6)
    True
"""

from __future__ import annotations

from kapproto.instruments._catalogue import INSTRUMENTS, get_instrument
from kapproto.instruments._loader import load_instrument
from kapproto.instruments._model import (
    AnswerKind,
    Band,
    Domain,
    FlagRule,
    Instrument,
    Item,
    Prorate,
    Remission,
    Score,
    Subscale,
)
from kapproto.instruments._outcomes import Change, change, is_remission, is_response
from kapproto.instruments._responses import InstrumentResponse
from kapproto.instruments._scoring import score

__all__ = [
    "INSTRUMENTS",
    "AnswerKind",
    "Band",
    "Change",
    "Domain",
    "FlagRule",
    "Instrument",
    "InstrumentResponse",
    "Item",
    "Prorate",
    "Remission",
    "Score",
    "Subscale",
    "change",
    "get_instrument",
    "is_remission",
    "is_response",
    "load_instrument",
    "score",
]
