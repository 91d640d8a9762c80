"""Tests of kapproto.exceptions: the hierarchy, problems with paths, rendering, pickling."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto.exceptions import (
    KapprotoError,
    Problem,
    ProtocolError,
    RuleError,
    UnitError,
    UnknownReferenceError,
    ValidationError,
    join_path,
)

ERRORS: list[tuple[type[KapprotoError], type[Exception]]] = [
    (ValidationError, ValueError),
    (UnitError, ValueError),
    (RuleError, ValueError),
    (ProtocolError, ValueError),
    (UnknownReferenceError, LookupError),
]

paths = st.lists(
    st.one_of(
        st.from_regex(r"\.[a-z_]{1,8}", fullmatch=True),
        st.integers(0, 20).map(lambda i: f"[{i}]"),
    ),
    max_size=4,
).map(lambda parts: "$" + "".join(parts))
problems = st.lists(st.tuples(paths, st.text(min_size=1, max_size=30)), min_size=1, max_size=5)


@pytest.mark.parametrize(("cls", "builtin"), ERRORS, ids=[c.__name__ for c, _ in ERRORS])
def test_hierarchy(cls: type[KapprotoError], builtin: type[Exception]) -> None:
    """Every error is a KapprotoError and also the builtin callers already catch."""
    err = cls("bad", path="$.x")
    assert isinstance(err, KapprotoError)
    assert isinstance(err, builtin)
    with pytest.raises(builtin):
        raise err


def test_unknown_reference_is_not_a_value_error() -> None:
    """UnknownReferenceError is a LookupError, not a ValueError."""
    assert not issubclass(UnknownReferenceError, ValueError)


@pytest.mark.parametrize("cls", [c for c, _ in ERRORS], ids=lambda c: c.__name__)
@given(found=problems)
def test_pickle_round_trip(cls: type[KapprotoError], found: list[tuple[str, str]]) -> None:
    """An error pickles and copies to an equal error of the same type with the same problems."""
    err = cls(problems=found)
    back = pickle.loads(pickle.dumps(err))
    assert type(err) is type(back)
    assert err == back
    assert err.problems == back.problems
    assert str(err) == str(back)
    assert err == copy.deepcopy(err)
    assert hash(err) == hash(back)


def test_single_problem_renders_path_and_message() -> None:
    """One problem renders as 'path: message'."""
    assert "$.amount: must be positive" == str(ValidationError("must be positive", path="$.amount"))
    assert "$: whole input" == str(UnitError("whole input"))


def test_every_problem_rendered_with_its_path() -> None:
    """Several problems render as a count and one indented line each, in order."""
    err = ValidationError("first", path="$.a", problems=[("$.b[0]", "second"), ("$.c", "third")])
    assert "3 problems:\n  $.a: first\n  $.b[0]: second\n  $.c: third" == str(err)
    assert (Problem("$.a", "first"), Problem("$.b[0]", "second"), Problem("$.c", "third")) == (
        err.problems
    )
    assert err.problems == err.entries


@given(found=problems)
def test_str_names_every_problem(found: list[tuple[str, str]]) -> None:
    """Whatever the problems, the rendered message contains each path with its message."""
    text = str(ValidationError(problems=found))
    for path, message in found:
        assert f"{path}: {message}" in text


def test_no_problem_renders_class_name() -> None:
    """An error built without a problem renders its class name and is still a KapprotoError."""
    assert "RuleError" == str(RuleError())
    assert () == RuleError().problems


def test_errors_compare_by_type_and_content() -> None:
    """Errors of the same type with the same problems are equal; another type is not."""
    assert ValidationError("x", path="$.a") == ValidationError(problems=[("$.a", "x")])
    assert ValidationError("x", path="$.a") != ValidationError("x", path="$.b")
    assert ValidationError("x") != UnitError("x")


def test_repr_shows_problems() -> None:
    """The repr names the class and lists the problems."""
    assert "UnitError(problems=[Problem(path='$.unit', message='unknown')])" == repr(
        UnitError("unknown", path="$.unit")
    )


@pytest.mark.parametrize(
    ("problems_in", "prefix", "expected"),
    [
        ([("$.amount", "m")], "$.administrations[0]", [("$.administrations[0].amount", "m")]),
        ([("$", "m")], "$.weight", [("$.weight", "m")]),
        (
            [("$[2]", "m"), ("$.unit", "n")],
            "$.vitals",
            [("$.vitals[2]", "m"), ("$.vitals.unit", "n")],
        ),
    ],
)
def test_at_prefixes_every_path(
    problems_in: list[tuple[str, str]], prefix: str, expected: list[tuple[str, str]]
) -> None:
    """at() returns an error of the same type whose every path is under the prefix."""
    err = ProtocolError(problems=problems_in)
    moved = err.at(prefix)
    assert ProtocolError is type(moved)
    assert expected == [tuple(p) for p in moved.problems]
    assert problems_in == [tuple(p) for p in err.problems]  # the original is unchanged


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [
        ("$.administrations[1]", "$.amount", "$.administrations[1].amount"),
        ("$.vitals", "$[0]", "$.vitals[0]"),
        ("$.a", "$", "$.a"),
        ("$", "$.a", "$.a"),
        ("$", "$", "$"),
        ("$.a", "b", "$.a.b"),
        ("$.a", "$.b[2].c", "$.a.b[2].c"),
    ],
)
def test_join_path(prefix: str, path: str, expected: str) -> None:
    """join_path puts a relative path under a prefix, dots and brackets alike."""
    assert expected == join_path(prefix, path)


@given(paths, paths)
def test_join_path_concatenates(prefix: str, path: str) -> None:
    """Joining two $-paths is the prefix followed by the relative path's steps."""
    assert prefix + path[1:] == join_path(prefix, path)
