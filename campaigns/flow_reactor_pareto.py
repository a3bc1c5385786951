"""Trade space-time yield against waste in a SnAr flow reactor: a Pareto front.

The reactor of flow_reactor.py (2,4-difluoronitrobenzene and pyrrolidine in ethanol,
kinetics of Hone et al. 2017, simulators/snar.py) with its two outcomes as two
objectives: maximise the space-time yield of the ortho product (kg m^-3 h^-1) and
minimise the E-factor (kg of waste per kg of product). Running hot and concentrated
makes more product per hour but also more of the bis-adduct, so no setting is best at
both: the campaign maps the front of the trade-off. One GP per objective and BoTorch's
qLogNEHVI propose each next setting of the four continuous inputs; the reference point
(the worst yield and E-factor still worth having) is the user's: no yield, and an
E-factor of 100.

    discovery run campaigns/flow_reactor_pareto.py --budget 40
"""

from __future__ import annotations

from flow_reactor import measure, reactor_space

from discovery import Campaign, CampaignResult, FunctionOracle, Objective

#: Space-time yield (kg m^-3 h^-1) and E-factor beyond which a setting is not wanted.
REFERENCE_POINT = (0.0, 100.0)


def make_campaign(seed: int = 0) -> Campaign:
    return Campaign(
        reactor_space(),
        FunctionOracle(measure),
        objectives=[Objective("sty", "max"), Objective("e_factor", "min")],
        reference_point=REFERENCE_POINT,
        surrogate="gp",
        n_initial=6,
        budget=40,
        seed=seed,
        name="snar-pareto",
    )


def summarize(result: CampaignResult) -> dict[str, str]:
    """The ends of the measured front: its lowest E-factor and its highest yield."""
    front = result.pareto_front().sort_values("sty")
    if front.empty:
        return {}
    cleanest, fastest = front.iloc[0], front.iloc[-1]
    return {
        "cleanest on the front": f"E-factor {cleanest['e_factor']:.3g} at "
        f"space-time yield {cleanest['sty']:.4g}",
        "fastest on the front": f"space-time yield {fastest['sty']:.4g} at "
        f"E-factor {fastest['e_factor']:.3g}",
    }
