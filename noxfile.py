"""Development sessions: `nox` runs tests, tests-min, lint, typing, docs, examples, build."""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from pathlib import Path

import nox

nox.options.sessions = ["tests", "tests-min", "lint", "typing", "docs", "examples", "build"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

ROOT = Path(__file__).parent
PYTHON = "3.11"
# The lowest runtime versions pyproject.toml allows; tests-min runs the suite on them.
MIN_RUNTIME = ["attrs==24.1.0", "cattrs==24.1.0", "pint==0.24.4"]


def _groups(*names: str) -> list[str]:
    """Requirements of [dependency-groups] in pyproject.toml."""
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [req for name in names for req in data["dependency-groups"][name]]


def _wheel(session: nox.Session) -> str:
    """Build the wheel once per nox run and return its path."""
    dist = ROOT / "build" / "nox-wheel"
    existing = sorted(dist.glob("kapproto-*.whl"))
    if existing and os.environ.get("_KAPPROTO_WHEEL_BUILT") == "1":
        return str(existing[-1])
    shutil.rmtree(dist, ignore_errors=True)
    session.install("build")
    session.run("python", "-m", "build", "--wheel", "--outdir", str(dist), silent=True)
    os.environ["_KAPPROTO_WHEEL_BUILT"] = "1"
    return str(sorted(dist.glob("kapproto-*.whl"))[-1])


def _run_tests(session: nox.Session, *extra: str) -> None:
    session.install(*_groups("test"))
    session.install("--force-reinstall", "--no-deps", _wheel(session))
    session.install(*extra) if extra else None
    session.run(
        "python",
        "-m",
        "pytest",
        "--cov=kapproto",
        "--cov-report=term",
        "tests",
        "docs",
        "README.md",
        *session.posargs,
        env={"KAPPROTO_TEST_INSTALLED": "1"},
    )


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite (with docs snippets) against the installed wheel, with coverage."""
    session.install(_wheel(session))
    _run_tests(session)


@nox.session(name="tests-min", python=PYTHON)
def tests_min(session: nox.Session) -> None:
    """The same tests on the lowest attrs, cattrs and pint that pyproject allows."""
    session.install(_wheel(session))
    _run_tests(session, *MIN_RUNTIME)
    session.run(
        "python", "-c", "import attrs, cattrs, pint; print(attrs.__version__, pint.__version__)"
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, and import-linter for the layers of DESIGN.md."""
    session.install(*_groups("lint"))
    session.run("ruff", "check", "src", "tests", "docs", "examples", "benchmarks", "noxfile.py")
    session.run(
        "ruff", "format", "--check", "src", "tests", "docs", "examples", "benchmarks", "noxfile.py"
    )
    session.install("-e", ".")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def typing(session: nox.Session) -> None:
    """mypy --strict on src/."""
    session.install(*_groups("typing"))
    session.install("-e", ".")
    session.run("mypy", "--strict", "src")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs with -W -n (warnings are errors, nitpicky references)."""
    session.install(*_groups("docs"))
    session.install(_wheel(session))
    out = ROOT / "docs" / "_build" / "html"
    session.run("sphinx-build", "-W", "-n", "--keep-going", "-q", "-b", "html", "docs", str(out))
    # every name in a public module's __all__ is in the reference
    session.run("python", "tests/check_reference.py", str(out / "objects.inv"))
    # every code block in the docs and README is executed (Sybil)
    session.install("pytest", "sybil", "pandas")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "docs", "README.md")


@nox.session(python=PYTHON)
def examples(session: nox.Session) -> None:
    """Run every script in examples/ against the installed wheel."""
    session.install(_wheel(session) + "[ical]")
    scripts = sorted(glob.glob("examples/**/*.py", recursive=True))
    for script in scripts:
        with tempfile.TemporaryDirectory() as tmp:
            session.run("python", str(ROOT / script), env={"KAPPROTO_EXAMPLE_OUT": tmp})
    session.run("kapproto", "check", "examples/sessions/im-session.json", success_codes=[0])


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Build wheel and sdist, twine check, install the wheel in a fresh venv and import it."""
    session.install("build", "twine")
    dist = ROOT / "build" / "nox-dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist), silent=True)
    session.run("twine", "check", "--strict", *map(str, dist.glob("*")))
    wheel = next(dist.glob("*.whl"))
    session.run("python", "tests/check_wheel.py", str(wheel))
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        session.run("python", "-m", "venv", str(venv))
        py = str(venv / "bin" / "python")
        session.run(py, "-m", "pip", "install", "-q", str(wheel), external=True)
        session.run(
            py,
            "-c",
            "import kapproto, kapproto.units as u; print(kapproto.__version__); "
            "print(u.format_quantity(u.quantity('0.5 mg')))",
            external=True,
        )


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks (not run by default); pass module names to filter."""
    session.install(*_groups("bench"))
    session.install(_wheel(session))
    session.run("python", "benchmarks/run.py", *session.posargs)
