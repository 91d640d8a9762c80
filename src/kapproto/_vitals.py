"""Vital-sign readings, refused only when physically impossible."""

from __future__ import annotations

import datetime as dt
from functools import cache

import attrs

from kapproto._data import load_data
from kapproto._validators import aware
from kapproto.exceptions import ValidationError
from kapproto.units import (
    FRACTION,
    FREQUENCY,
    PRESSURE,
    Fraction,
    Frequency,
    Kind,
    Pressure,
    kind_field,
)

__all__ = ["VITAL_FIELDS", "VitalSigns", "vital_ranges"]

VITAL_FIELDS = ("systolic", "diastolic", "heart_rate", "respiratory_rate", "spo2")
"""The measured fields of :class:`VitalSigns`, in order."""

_KINDS: dict[str, Kind] = {
    "systolic": PRESSURE,
    "diastolic": PRESSURE,
    "heart_rate": FREQUENCY,
    "respiratory_rate": FREQUENCY,
    "spo2": FRACTION,
}


@cache
def vital_ranges() -> dict[str, tuple[float, float, str]]:
    """Physically possible range of each vital sign: ``field -> (low_exclusive, high, source)``.

    Read from ``data/vitals.toml``; magnitudes in the kind's canonical unit.
    """
    data = load_data("vitals.toml")["ranges"]
    out: dict[str, tuple[float, float, str]] = {}
    for name, entry in data.items():
        kind = _KINDS[name]
        low = kind.quantity(entry["min_exclusive"], entry["unit"]).magnitude
        high = kind.quantity(entry["max"], entry["unit"]).magnitude
        out[name] = (float(low), float(high), entry["source"])
    return out


def _bounds() -> tuple[tuple[float, float], ...]:
    """``(low_exclusive, high)`` of each field of :data:`VITAL_FIELDS`, in order."""
    ranges = vital_ranges()
    _BOUNDS[:] = [(ranges[name][0], ranges[name][1]) for name in VITAL_FIELDS]
    return tuple(_BOUNDS)


# filled by _bounds() on first use (reading the data file at import would slow `import kapproto`)
_BOUNDS: list[tuple[float, float]] = []


@attrs.frozen
class VitalSigns:
    """One set of vital-sign readings taken at one time.

    Each reading is optional, but at least one must be present. A reading
    outside its physically possible range (see :func:`~kapproto._vitals.vital_ranges`) is an
    input error, not a finding.

    Attributes:
        time: When the readings were taken (timezone-aware).
        systolic: Systolic blood pressure, a PRESSURE in mm[Hg].
        diastolic: Diastolic blood pressure, a PRESSURE in mm[Hg].
        heart_rate: Heart rate, a FREQUENCY in /min.
        respiratory_rate: Respiratory rate, a FREQUENCY in /min.
        spo2: Peripheral oxygen saturation, a FRACTION in %.

    Example:
        >>> import datetime as dt
        >>> from kapproto import quantity
        >>> t = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
        >>> VitalSigns(t, systolic=quantity("128 mmHg"), diastolic=quantity("82 mmHg")).has_bp
        True
    """

    time: dt.datetime = attrs.field(validator=aware)
    systolic: Pressure | None = kind_field(PRESSURE, optional=True, default=None)
    diastolic: Pressure | None = kind_field(PRESSURE, optional=True, default=None)
    heart_rate: Frequency | None = kind_field(FREQUENCY, optional=True, default=None)
    respiratory_rate: Frequency | None = kind_field(FREQUENCY, optional=True, default=None)
    spo2: Fraction | None = kind_field(FRACTION, optional=True, default=None)

    def __attrs_post_init__(self) -> None:
        # the common case, checked without building messages: every reading possible
        (sbp_range, dbp_range, hr_range, rr_range, spo2_range) = _BOUNDS or _bounds()
        sbp, dbp, hr, rr, spo2 = (
            self.systolic,
            self.diastolic,
            self.heart_rate,
            self.respiratory_rate,
            self.spo2,
        )
        if (
            (sbp is None or sbp_range[0] < sbp._magnitude <= sbp_range[1])
            and (dbp is None or dbp_range[0] < dbp._magnitude <= dbp_range[1])
            and (hr is None or hr_range[0] < hr._magnitude <= hr_range[1])
            and (rr is None or rr_range[0] < rr._magnitude <= rr_range[1])
            and (spo2 is None or spo2_range[0] < spo2._magnitude <= spo2_range[1])
            and not (sbp is None and dbp is None and hr is None and rr is None and spo2 is None)
            and (sbp is None or dbp is None or dbp._magnitude <= sbp._magnitude)
        ):
            return
        self._refuse()

    def _refuse(self) -> None:
        problems: list[tuple[str, str]] = []
        present = 0
        ranges = vital_ranges()
        for name in VITAL_FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            present += 1
            low, high, _source = ranges[name]
            mag = value.magnitude
            if not low < mag <= high:
                unit = _KINDS[name].canonical
                problems.append(
                    (
                        f"$.{name}",
                        f"{name}={mag:g} {unit} is not physically possible; "
                        f"expected above {low:g} and at most {high:g} {unit}",
                    )
                )
        if present == 0:
            problems.append(("$", "a vital-signs entry needs at least one reading"))
        if (
            self.systolic is not None
            and self.diastolic is not None
            and self.diastolic.magnitude > self.systolic.magnitude
        ):
            problems.append(
                (
                    "$.diastolic",
                    f"diastolic {self.diastolic.magnitude:g} mm[Hg] is above systolic "
                    f"{self.systolic.magnitude:g} mm[Hg] in the same reading",
                )
            )
        if problems:
            raise ValidationError(problems=problems)

    @property
    def has_bp(self) -> bool:
        """Whether both systolic and diastolic were recorded."""
        return self.systolic is not None and self.diastolic is not None
