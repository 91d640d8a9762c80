"""Marks on kapproto's own cattrs hooks, so generated code knows what a hook does.

:mod:`kapproto._fast_records` writes the valid case of a field inline only
when the converter's hook for that type is kapproto's own (it knows what that
hook accepts and returns); a hook a user registered on their converter is
called as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

__all__ = ["is_builtin", "mark_builtin"]

F = TypeVar("F", bound=Callable[..., Any])

_MARK: Final = "_kapproto_builtin_hook"


def mark_builtin(hook: F) -> F:
    """Mark ``hook`` as one of kapproto's own structure hooks; returns it."""
    setattr(hook, _MARK, True)
    return hook


def is_builtin(hook: object) -> bool:
    """Whether ``hook`` was marked by :func:`mark_builtin`."""
    return getattr(hook, _MARK, False) is True
