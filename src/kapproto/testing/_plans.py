"""Strategies for integration-plan templates."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kapproto import units as _units

# --------------------------------------------------------------------------
# Integration-plan templates
# --------------------------------------------------------------------------


def _window_bounds(calendar: bool) -> st.SearchStrategy[tuple[str, int]]:
    """A window bound as text with its nominal length in minutes."""
    if calendar:
        days = st.integers(min_value=0, max_value=60).map(lambda n: (f"{n} d", n * 1440))
        weeks = st.integers(min_value=0, max_value=8).map(lambda n: (f"{n} wk", n * 10080))
        return st.one_of(days, weeks)
    hours = st.integers(min_value=0, max_value=14 * 24).map(lambda n: (f"{n} h", n * 60))
    minutes = st.integers(min_value=0, max_value=24 * 60).map(lambda n: (f"{n} min", n))
    return st.one_of(hours, minutes)


def step_windows() -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.StepWindow` values: after or before, elapsed or wall-clock bounds."""
    from kapproto._plan_steps import StepWindow, WindowSide

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        calendar = draw(st.booleans())
        bounds = sorted(
            [draw(_window_bounds(calendar)), draw(_window_bounds(calendar))], key=lambda b: b[1]
        )
        side = draw(st.sampled_from(WindowSide))
        near, far = bounds[0][0], bounds[1][0]
        return (
            StepWindow(side, near, far) if side is WindowSide.AFTER else StepWindow(side, far, near)
        )

    return build()


def plan_templates(*, max_steps: int = 6) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.PlanTemplate` values with 1 to ``max_steps`` steps.

    Steps of every kind and anchor, windows from :func:`step_windows`,
    ``every`` or ``doses`` on ``each_dosing`` steps, built-in instruments,
    prompts, and required or optional steps.

    Example:
        >>> import datetime as dt
        >>> from hypothesis import given
        >>> @given(plan_templates())
        ... def test_sorted(template):
        ...     start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
        ...     plan = template.instantiate(dosing=[start, start + dt.timedelta(days=7)])
        ...     assert [a.earliest for a in plan.activities] == sorted(a.earliest for a in plan.activities)
        >>> test_sorted()
    """
    from kapproto._activities import StepKind
    from kapproto._integration import PlanTemplate
    from kapproto._params import Confidence
    from kapproto._plan_steps import PlanAnchor, PlanStep
    from kapproto.instruments import INSTRUMENTS

    names = st.lists(st.sampled_from(sorted(INSTRUMENTS)), max_size=3, unique=True)
    words = st.text("abcdefghijklmnopqrstuvwxyz ?", min_size=1, max_size=20).filter(str.strip)

    @st.composite
    def step(draw: st.DrawFn, index: int) -> Any:
        kind = draw(st.sampled_from(StepKind))
        anchor = draw(st.sampled_from(PlanAnchor))
        every: int | None = None
        doses: tuple[int, ...] = ()
        if anchor is PlanAnchor.EACH_DOSING:
            choice = draw(st.sampled_from(("all", "every", "doses")))
            if choice == "every":
                every = draw(st.integers(min_value=1, max_value=3))
            elif choice == "doses":
                doses = tuple(
                    draw(
                        st.lists(
                            st.integers(min_value=1, max_value=6),
                            min_size=1,
                            max_size=3,
                            unique=True,
                        )
                    )
                )
        instruments = draw(names)
        if kind is StepKind.ASSESSMENT and not instruments:
            instruments = [draw(st.sampled_from(sorted(INSTRUMENTS)))]
        return PlanStep(
            id=f"step-{index}",
            title=f"Step {index}",
            kind=kind,
            anchor=anchor,
            window=draw(step_windows()),
            every=every,
            doses=doses,
            duration=draw(
                st.none() | st.sampled_from(["30 min", "1 h", "90 min", "2 h"]).map(_units.quantity)
            ),
            instruments=tuple(instruments),
            prompts=tuple(draw(st.lists(words, max_size=2, unique=True))),
            required=draw(st.booleans()),
            source="kapproto.testing (generated)",
            confidence=draw(st.sampled_from(Confidence)),
        )

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        count = draw(st.integers(min_value=1, max_value=max_steps))
        return PlanTemplate(
            id="generated",
            version=str(draw(st.integers(min_value=1, max_value=9))),
            title="Generated template",
            source="kapproto.testing (generated)",
            steps=[draw(step(i)) for i in range(count)],
        )

    return build()
