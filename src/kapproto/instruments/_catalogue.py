"""The built-in instruments, read once from ``kapproto/data/instruments/*.toml``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache

from kapproto._data import load_data
from kapproto.exceptions import UnknownReferenceError, ValidationError
from kapproto.instruments._loader import instrument_from_dict
from kapproto.instruments._model import Instrument

__all__ = ["BUILTIN_IDS", "INSTRUMENTS", "get_instrument", "resolve"]

BUILTIN_IDS: tuple[str, ...] = (
    "phq9",
    "gad7",
    "pcl5",
    "cssrs_screener",
    "madrs",
    "qids_sr16",
    "bdi2",
    "cadss",
)
"""Ids of the built-in instruments, in the order the docs list them."""


@cache
def _builtin(instrument_id: str) -> Instrument:
    try:
        inst = instrument_from_dict(load_data("instruments", f"{instrument_id}.toml"))
    except ValidationError as exc:  # a broken shipped file is a bug; say which file
        raise ValidationError(problems=exc.at(f"$[{instrument_id}.toml]").problems) from None
    assert inst.id == instrument_id, (inst.id, instrument_id)
    return inst


class _Instruments(Mapping[str, Instrument]):
    """Read-only mapping of built-in instrument id -> :class:`Instrument`, loaded on first use."""

    def __getitem__(self, key: str) -> Instrument:
        if key not in BUILTIN_IDS:
            raise KeyError(key)
        return _builtin(key)

    def __iter__(self) -> Iterator[str]:
        return iter(BUILTIN_IDS)

    def __len__(self) -> int:
        return len(BUILTIN_IDS)

    def __repr__(self) -> str:
        return f"<INSTRUMENTS: {', '.join(BUILTIN_IDS)}>"


INSTRUMENTS: Mapping[str, Instrument] = _Instruments()
"""The built-in instruments by id (``phq9``, ``gad7``, ``pcl5``, ``cssrs_screener``,
``madrs``, ``qids_sr16``, ``bdi2``, ``cadss``)."""


def get_instrument(instrument_id: str) -> Instrument:
    """The built-in instrument with this id.

    Raises:
        UnknownReferenceError: Unknown id; the message lists the known ids.

    Example:
        >>> get_instrument("phq9").abbreviation
        'PHQ-9'
    """
    if not isinstance(instrument_id, str) or instrument_id not in BUILTIN_IDS:
        raise UnknownReferenceError(
            f"unknown instrument {instrument_id!r}; known instruments are {', '.join(BUILTIN_IDS)}",
            path="$.instrument",
        )
    return _builtin(instrument_id)


def resolve(instrument: str | Instrument) -> Instrument:
    """An :class:`Instrument` given itself or a built-in id."""
    return instrument if isinstance(instrument, Instrument) else get_instrument(instrument)
