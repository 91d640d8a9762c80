"""An application that shares its own pint registry with kapproto (docs/howto/share-registry.md)."""

import pint

import kapproto.units

# 1. The application's registry, built once, as pint recommends.
ureg = pint.UnitRegistry()

# 2. Hand it to kapproto before kapproto builds its first quantity.
kapproto.units.use_registry(ureg)

# 3. Quantities from either side now mix.
from kapproto import DoseSpec, Route, format_quantity, quantity  # noqa: E402

weight = ureg.Quantity(176, "pound")  # the app's own quantity
dose = DoseSpec(quantity("0.5 mg/kg"), Route.INTRAMUSCULAR).dose_for(weight)
print(format_quantity(dose))
print(dose + ureg.Quantity(2, "milligram"))
print(kapproto.units.get_registry() is ureg)
