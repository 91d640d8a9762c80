"""`InstrumentResponse`: one administration of an instrument, as recorded in a session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import cattrs

from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.instruments._catalogue import BUILTIN_IDS, get_instrument
from kapproto.instruments._model import FrozenMap, Score
from kapproto.instruments._scoring import in_range, item_scores, score
from kapproto.serialization import register_hooks

__all__ = ["InstrumentResponse"]

_KEYS = ("instrument", "time", "answers")
_KEYSET = frozenset(_KEYS)


def _freeze_answer(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _freeze_answers(value: object) -> object:
    """Lists become tuples and mappings read-only, so a response is an immutable value."""
    if type(value) is list and not any(issubclass(t, list) for t in set(map(type, value))):
        return tuple(value)  # the common case: no answer is itself a list
    if isinstance(value, Mapping):
        return FrozenMap({k: _freeze_answer(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze_answer(v) for v in value)
    return value


@attrs.frozen
class InstrumentResponse:
    """The answers a patient gave to one instrument at one time.

    Validated against the instrument when built: a bad answer set is a
    :class:`~kapproto.exceptions.ValidationError` with a path such as
    ``$.answers[3]`` (in item order) or ``$.answers.item4`` (keyed).

    Attributes:
        instrument: Instrument id, e.g. ``"phq9"`` (a built-in id).
        time: When the instrument was completed (timezone-aware).
        answers: Answers in item order (a tuple) or keyed by item id (a
            read-only mapping); ``None`` marks an unanswered item. JSON:
            ``{"instrument": "phq9", "time": "2026-03-02T09:02:00-07:00",
            "answers": [2, 2, 1, 2, 1, 1, 2, 1, 0]}``.

    Example:
        >>> import datetime as dt
        >>> r = InstrumentResponse(
        ...     "phq9",
        ...     dt.datetime(2026, 3, 2, 9, 2, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
        ...     [2, 2, 1, 2, 1, 1, 2, 1, 0],
        ... )
        >>> r.score().total
        12
    """

    instrument: str
    time: dt.datetime
    answers: Sequence[Any] | Mapping[str, Any] = attrs.field(converter=_freeze_answers)

    def __attrs_post_init__(self) -> None:
        # the common case, checked without building messages
        time: object = self.time
        if (
            type(time) is dt.datetime
            and time.utcoffset() is not None
            and self.instrument in BUILTIN_IDS
            and in_range(get_instrument(self.instrument), self.answers)
        ):
            return
        self._refuse()

    def _refuse(self) -> None:
        """Raise every problem of a response the common-case check did not pass, if any."""
        problems: list[tuple[str, str]] = []
        time: object = self.time
        if not isinstance(time, dt.datetime):
            problems.append(("$.time", f"expected a timezone-aware datetime, got {time!r}"))
        elif self.time.tzinfo is None or self.time.utcoffset() is None:
            problems.append(
                ("$.time", f"{self.time.isoformat()!r} is a naive datetime; give its UTC offset")
            )
        try:
            get_instrument(self.instrument)
            item_scores(self.instrument, self.answers)
        except KapprotoError as exc:
            problems.extend(exc.problems)
        if problems:
            raise ValidationError(problems=problems)

    def score(self, *, cutpoint: int | None = None) -> Score:
        """Score these answers (see :func:`kapproto.instruments.score`)."""
        return score(self.instrument, self.answers, cutpoint=cutpoint)


def _unstructure(value: InstrumentResponse) -> dict[str, Any]:
    def thaw(v: object) -> object:
        return list(v) if isinstance(v, tuple) else v

    answers: object
    if isinstance(value.answers, Mapping):
        answers = {k: thaw(v) for k, v in value.answers.items()}
    else:
        answers = [thaw(v) for v in value.answers]
    return {"instrument": value.instrument, "time": value.time.isoformat(), "answers": answers}


def _structure(conv: cattrs.Converter) -> Any:
    time_hook: list[Any] = []  # the converter's datetime hook, looked up on first use

    def structure(data: object, _: object) -> InstrumentResponse:
        if type(data) is dict and data.keys() == _KEYSET and type(data["instrument"]) is str:
            # the common case: exactly the three keys; the record checks the rest
            if not time_hook:
                time_hook.append(conv.get_structure_hook(dt.datetime))
            try:
                moment = time_hook[0](data["time"], dt.datetime)
            except KapprotoError:
                pass  # reported below, with any problem of the answers
            else:
                return InstrumentResponse(data["instrument"], moment, data["answers"])
        if not isinstance(data, Mapping):
            raise ValidationError(f"expected an instrument response (a JSON object), got {data!r}")
        problems = [(f"$.{k}", "required key is missing") for k in _KEYS if k not in data]
        problems += [
            (f"$.{k}", f"unknown key {k!r}; expected one of: {', '.join(_KEYS)}")
            for k in data
            if k not in _KEYS
        ]
        time: object = None
        if "time" in data:
            try:
                time = conv.structure(data["time"], dt.datetime)
            except KapprotoError as exc:
                problems += exc.at("$.time").problems
        if "instrument" in data and not isinstance(data["instrument"], str):
            problems.append(
                ("$.instrument", f"expected an instrument id string, got {data['instrument']!r}")
            )
        if problems:
            if isinstance(data.get("instrument"), str) and "answers" in data:
                try:
                    item_scores(data["instrument"], data["answers"])
                except KapprotoError as exc:
                    problems += exc.problems
            raise ValidationError(problems=problems)
        return InstrumentResponse(data["instrument"], time, data["answers"])  # type: ignore[arg-type]

    return structure


@register_hooks
def _hooks(conv: cattrs.Converter) -> None:
    conv.register_structure_hook(InstrumentResponse, _structure(conv))
    conv.register_unstructure_hook(InstrumentResponse, _unstructure)
