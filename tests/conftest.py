"""Test configuration: Hypothesis profiles (``ci`` when the ``CI`` environment variable is set)."""

from __future__ import annotations

import os

from hypothesis import settings

# CI machines are slower and noisier: no per-example deadline there.
settings.register_profile("ci", deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
