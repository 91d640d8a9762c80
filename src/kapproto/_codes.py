"""Codings and the code-system URIs kapproto uses (SNOMED CT, LOINC, RxNorm, UCUM)."""

from __future__ import annotations

from typing import Final

import attrs

__all__ = ["LOINC", "RXNORM", "SNOMED", "UCUM", "Coding"]

SNOMED: Final = "http://snomed.info/sct"
"""SNOMED CT code system URI."""
LOINC: Final = "http://loinc.org"
"""LOINC code system URI."""
RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
"""RxNorm code system URI."""
UCUM: Final = "http://unitsofmeasure.org"
"""UCUM code system URI (case-sensitive codes such as ``mm[Hg]``)."""


@attrs.frozen
class Coding:
    """A code from a code system, as FHIR's ``Coding``.

    Attributes:
        system: The code system URI, e.g. ``SNOMED``.
        code: The code, e.g. ``"78421000"``.
        display: How people read it, e.g. ``"Intramuscular route"``.

    Example:
        >>> Coding(SNOMED, "78421000", "Intramuscular route").code
        '78421000'
    """

    system: str
    code: str
    display: str

    def to_fhir(self) -> dict[str, str]:
        """The FHIR ``Coding`` element as a plain dict."""
        return {"system": self.system, "code": self.code, "display": self.display}
