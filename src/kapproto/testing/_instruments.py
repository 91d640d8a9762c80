"""Strategies for instrument answers and responses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from kapproto.testing._basics import aware_datetimes


def instrument_answers(
    instrument: str | Any, *, keyed: bool | None = None
) -> st.SearchStrategy[Any]:
    """Valid answer sets for an instrument, honouring its skip logic.

    Args:
        instrument: A built-in instrument id (``"phq9"``) or an
            :class:`~kapproto.instruments.Instrument`.
        keyed: ``False`` for a list in item order (``None`` for items the
            form skipped), ``True`` for a mapping of item id to answer (skipped
            items omitted), ``None`` for either.

    Example:
        >>> from hypothesis import given
        >>> from kapproto.instruments import score
        >>> @given(instrument_answers("phq9"))
        ... def test_total_in_range(answers):
        ...     assert 0 <= score("phq9", answers).total <= 27
        >>> test_total_in_range()
    """
    from kapproto.instruments import AnswerKind
    from kapproto.instruments._catalogue import resolve

    inst = resolve(instrument)

    def answer(item: Any) -> st.SearchStrategy[Any]:
        if item.kind is AnswerKind.BOOLEAN:
            return st.booleans()
        if item.kind is AnswerKind.OPTIONS:
            labels = list(item.options)
            return st.one_of(
                st.sampled_from(labels), st.lists(st.sampled_from(labels), min_size=1, max_size=3)
            )
        return st.integers(min_value=item.min, max_value=item.max)

    @st.composite
    def answers(draw: st.DrawFn) -> Any:
        given: dict[str, Any] = {}
        for item in inst.items:
            if item.asked_if is not None:
                on, expected = item.asked_if
                if on not in given or given[on] is not expected:
                    continue
            given[item.id] = draw(answer(item))
        as_mapping = draw(st.booleans()) if keyed is None else keyed
        if as_mapping:
            return given
        return [given.get(i) for i in inst.item_ids]

    return answers()


def instrument_responses(
    instrument: str, *, times: st.SearchStrategy[dt.datetime] | None = None
) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.instruments.InstrumentResponse` records for a built-in instrument.

    Args:
        instrument: A built-in instrument id, e.g. ``"qids_sr16"``.
        times: Strategy for the completion time (default :func:`aware_datetimes`).
    """
    from kapproto.instruments import InstrumentResponse

    return st.builds(
        InstrumentResponse,
        st.just(instrument),
        times if times is not None else aware_datetimes(),
        instrument_answers(instrument),
    )
