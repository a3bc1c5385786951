"""The SnAr flow reactor: a kinetic model as a truth function for two-objective campaigns.

2,4-Difluoronitrobenzene (1) reacts with pyrrolidine (2) in ethanol to the ortho (3) and
para (4) substitution products, both of which react on with 2 to the bis-adduct (5):
1 + 2 -> 3, 1 + 2 -> 4, 3 + 2 -> 5, 4 + 2 -> 5 (each releasing HF), every step second
order with an Arrhenius rate constant k = k_ref exp(-Ea / R (1/T - 1/T_ref)), T_ref = 90 °C.
The plug-flow reactor is integrated along its residence time; the objectives are the
space-time yield of 3 (maximise) and the E-factor (minimise).

Kinetics from C. A. Hone et al., "Rapid multistep kinetic model generation from transient
flow data", React. Chem. Eng. 2017, 2, 103-108 (doi:10.1039/C6RE00109B); benchmark as in
A. M. Schweidtmann et al., "Machine learning meets continuous flow chemistry", Chem. Eng. J.
2018 (doi:10.1016/j.cej.2018.07.031) and Summit's ``SnarBenchmark``, whose
E-factor (all of the outlet but 3 counted as waste, the solvent as pure ethanol) we keep.
Summit converts °C to K with 273.71; we use 273.15, which changes k by at most 1 % in the
bounds and not at all at 90 °C.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.integrate import solve_ivp

from discovery.exceptions import ConfigurationError, InstrumentError

#: Inputs and their bounds: residence time (min), equivalents of 2, inlet concentration
#: of 1 (mol/L) and temperature (°C).
SNAR_BOUNDS: dict[str, tuple[float, float]] = {
    "tau": (0.5, 2.0),
    "equiv": (1.0, 5.0),
    "conc": (0.1, 0.5),
    "temperature": (30.0, 120.0),
}
#: Hone et al. 2017 (as in Summit), steps 1->3, 1->4, 3->5, 4->5: k_ref at 90 °C, given there in
#: 1e-2 L mol^-1 s^-1, here in L mol^-1 min^-1; activation energies in J/mol.
RATE_CONSTANTS_AT_REFERENCE = np.array([57.9, 2.70, 0.865, 1.63]) * 1e-2 * 60.0
ACTIVATION_ENERGIES = np.array([33.3, 35.3, 38.9, 44.8]) * 1e3
REFERENCE_TEMPERATURE = 90.0 + 273.15  # K
GAS_CONSTANT = 8.314  # J mol^-1 K^-1
#: Molar masses of 1-5 in g/mol, and the density of ethanol at 25 °C in g/L (Summit's values).
MOLAR_MASSES = np.array([159.09, 71.12, 210.21, 210.21, 261.33])
ETHANOL_DENSITY = 789.0
#: E-factor reported when (almost) no 3 leaves the reactor, as Summit caps it.
E_FACTOR_CEILING = 1e3
MINUTES_PER_HOUR = 60.0

#: Change of species 1-5 (rows) per event of each of the four reactions (columns).
_STOICHIOMETRY = np.array(
    [
        [-1, -1, 0, 0],
        [-1, -1, -1, -1],
        [1, 0, -1, 0],
        [0, 1, 0, -1],
        [0, 0, 1, 1],
    ],
    dtype=np.float64,
)


def rate_constants(temperature: np.ndarray | float) -> np.ndarray:
    """Second-order rate constants (L mol^-1 min^-1) at temperatures in °C: (4, n)."""
    kelvin = np.atleast_1d(np.asarray(temperature, dtype=np.float64)) + 273.15
    exponent = (
        -ACTIVATION_ENERGIES[:, None] / GAS_CONSTANT * (1 / kelvin - 1 / REFERENCE_TEMPERATURE)
    )
    return RATE_CONSTANTS_AT_REFERENCE[:, None] * np.exp(exponent)


def snar_concentrations(X: np.ndarray, positions: Sequence[float] = (1.0,)) -> np.ndarray:
    """Concentrations of 1-5 (mol/L) along the reactor for each condition.

    Args:
        X: (n, 4) float64 rows of tau (min, >= 0), equiv, conc (mol/L), temperature (°C).
        positions: fractions of the reactor length, 0 (inlet) to 1 (outlet), increasing.

    Returns:
        (len(positions), n, 5) float64.
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    tau, equiv, conc, temperature = X.T
    n = len(X)
    inlet = np.zeros((5, n))
    inlet[0], inlet[1] = conc, equiv * conc
    k = rate_constants(temperature)

    # Integrating in the fraction of the residence time s = t / tau lets all conditions,
    # whatever their tau, share one solve over s in [0, 1].
    def derivative(_: float, flat: np.ndarray) -> np.ndarray:
        c = flat.reshape(5, n)
        rates = k * c[1] * np.stack([c[0], c[0], c[2], c[3]])
        return (tau * (_STOICHIOMETRY @ rates)).ravel()

    solution = solve_ivp(
        derivative,
        (0.0, 1.0),
        inlet.ravel(),
        method="DOP853",
        t_eval=np.asarray(positions, dtype=np.float64),
        rtol=1e-10,
        atol=1e-13,
    )
    if not solution.success:
        raise InstrumentError(f"snar: integration failed: {solution.message}")
    # Between solver steps the interpolant can dip ~1e-9 mol/L below zero for a used-up species.
    return np.maximum(solution.y.T.reshape(-1, 5, n).transpose(0, 2, 1), 0.0)


def snar_outcomes_array(X: np.ndarray) -> np.ndarray:
    """Space-time yield of 3 (kg m^-3 h^-1) and E-factor at the outlet.

    Args:
        X: (n, 4) float64 rows of tau (min, > 0), equiv, conc (mol/L), temperature (°C).

    Returns:
        (n, 2) float64 columns sty, e_factor.
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    outlet = snar_concentrations(X)[-1]
    product = MOLAR_MASSES[2] * outlet[:, 2]  # g/L, which is kg/m^3
    sty = product * MINUTES_PER_HOUR / X[:, 0]
    waste = ETHANOL_DENSITY + outlet @ MOLAR_MASSES - product
    has_product = product > waste / E_FACTOR_CEILING
    e_factor = np.full(len(X), E_FACTOR_CEILING)
    e_factor[has_product] = waste[has_product] / product[has_product]
    return np.column_stack([sty, e_factor])


def snar_outcomes(tau: float, equiv: float, conc: float, temperature: float) -> dict[str, float]:
    """``{"sty": ..., "e_factor": ...}`` for one condition (units as in :data:`SNAR_BOUNDS`)."""
    sty, e_factor = snar_outcomes_array(np.array([[tau, equiv, conc, temperature]]))[0]
    return {"sty": float(sty), "e_factor": float(e_factor)}


def snar_measure(parameters: Mapping[str, float]) -> dict[str, float]:
    """The outcomes at a condition given by name, each checked against :data:`SNAR_BOUNDS`.

    Raises:
        ConfigurationError (a ValueError): a parameter missing, not a number or out of bounds.
    """
    values = {}
    for name, (low, high) in SNAR_BOUNDS.items():
        if name not in parameters:
            raise ConfigurationError(
                f"snar: parameter '{name}' missing; expected {sorted(SNAR_BOUNDS)}"
            )
        try:
            value = float(parameters[name])
        except (TypeError, ValueError) as error:
            raise ConfigurationError(
                f"snar: parameter '{name}' = {parameters[name]!r} is not a number"
            ) from error
        if not low <= value <= high:  # also refuses NaN
            raise ConfigurationError(
                f"snar: parameter '{name}' = {value} outside its bounds [{low}, {high}]"
            )
        values[name] = value
    return snar_outcomes(**values)
