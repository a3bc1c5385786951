"""The report as one self-contained HTML page: figures as inline SVG, no script, no
network, readable in any browser on a laptop or on the lab's PC."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from discovery.campaign_plots import CampaignPlots
from discovery.history import budget_spent, ranking_rewards, strategy_text
from discovery.plots import failed_mask
from discovery.report.health import Check
from discovery.report.load import StoredCampaign
from discovery.search_space import Space

#: Rows of the top-candidates table.
TOP_ROWS = 10

TITLES = {
    "best_so_far": ("Best so far", "The best value after each experiment (the hypervolume of "
                    "the front for several objectives); the grey band, where shown, is random "
                    "search over the same pool (5th to 95th percentile of 300 random orders)."),
    "measured": ("Every measurement", "Each measured value in order, coloured by what chose "
                 "it: the initial design, an acquisition, or a portfolio's arm; crosses mark "
                 "failed experiments."),
    "parity": ("Model quality", "Left: the campaign's surrogate in five folds, each "
               "measurement predicted by a model that never saw it (a GP keeps the "
               "hyper-parameters fitted on all measurements, as Ax's cross-validation does; "
               "error bars: one standard deviation), against the mean baseline's error. "
               "Right: the share of measurements inside each central interval against the "
               "share expected."),
    "space_map": ("Where the search went", "The measured designs, each numbered by its "
                  "experiment and joined in order, and crosses where experiments failed, over "
                  "the model's predicted landscape, in the first two principal components of "
                  "the features (the features themselves in two dimensions)."),
    "importance": ("Which inputs matter", "How much the model's error grows when one input is "
                   "shuffled (ten repeats); for a GP, its inverse length scales beside. With few "
                   "measurements these ranks are shaky: read them as hints, not findings."),
    "pareto": ("Pareto front", "Every feasible measurement of the first two objectives; the "
               "front in red, its staircase bounding the region it dominates, and the star at "
               "the reference point the hypervolume is measured from (neither is drawn for an "
               "objective matched to a target, whose front is a distance from it)."),
    "arms": ("The portfolio's arms", "How often each arm was picked, the reward its "
             "experiments earned, and its final probability."),
    "failures": ("Faults and retries", "Failed experiments by error class, and experiments "
                 "that ran after a retry."),
}  # fmt: skip

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222;
       padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
.plot { margin: 1.5rem 0; } .plot svg { width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9rem; }
.verdict { font-weight: bold; padding: 0.1rem 0.5rem; border-radius: 0.3rem; }
.ok { background: #d4edda; } .warning { background: #fff3cd; } .problem { background: #f8d7da; }
.not-yet { background: #e2e3e5; }
pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; font-size: 0.8rem; }
.note { background: #fff3cd; padding: 0.5rem 1rem; }
"""


def render_page(
    campaign: StoredCampaign,
    figures: dict[str, Figure],
    checks: list[Check],
    plots: CampaignPlots,
    refresh_seconds: float | None = None,
) -> str:
    """The whole report as one HTML string."""
    config, result = campaign.config, campaign.result
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    state = campaign.state
    if state == "stopped":
        state = "stopped before its end, and no process is running it (run it again to resume)"
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(config.name)}: campaign report</title>",
        f"<style>{STYLE}</style>",
    ]
    if refresh_seconds:
        head.append(f'<meta http-equiv="refresh" content="{max(1, round(refresh_seconds))}">')
    body = [
        "</head><body>",
        f"<h1>{_e(config.name)}</h1>",
        f'<p class="sub">{state}; report of {_e(str(campaign.path))} made {now}'
        + (f", refreshed every {refresh_seconds:g} s" if refresh_seconds else "")
        + "</p>",
        _summary(campaign),
    ]
    if campaign.pool_note:
        body.append(
            f'<p class="note">Figures that need the designs are left out: {_e(campaign.pool_note)}</p>'
        )
    if result.measured.empty:
        ended = failed_mask(result.history)
        words = (
            "No experiment has succeeded: the checks and the faults below say why."
            if ended.any()
            else "No measurements yet: the figures appear as results arrive."
        )
        body.append(f'<p class="note" id="no-measurements">{words}</p>')
    if checks:
        body.append("<h2>Health checks</h2>" + _checks(checks))
    for name, figure in figures.items():
        title, caption = TITLES[name]
        body.append(
            f'<figure class="plot" id="figure-{name}"><h2>{title}</h2>'
            f"{svg_of(figure)}<figcaption>{caption}</figcaption></figure>"
        )
    if not result.measured.empty:
        body.append("<h2>Top candidates</h2>" + _top_table(campaign))
    body.append(
        "<h2>Configuration</h2><pre>" + _e(json.dumps(config.to_dict(), indent=2)) + "</pre>"
    )
    body.append("</body></html>")
    return "\n".join(head + body)


def svg_of(figure: Figure) -> str:
    """The figure as an inline ``<svg>`` element that scales with the page."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, count=1, flags=re.DOTALL)
    return re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r'<svg\1 role="img"', text, count=1)


def _summary(campaign: StoredCampaign) -> str:
    config, result = campaign.config, campaign.result
    history = result.history
    if config.outcomes is not None:
        aims = ", ".join(f"{o.name} ({o.direction})" for o in config.outcomes.objectives)
        aims += "".join(f"; {c}" for c in config.outcomes.constraints)
    else:
        aims = f"{config.objective} ({config.direction})"
    rows = {
        "objective": aims,
        "space": _space_words(result.pool),
        "strategy": f"{strategy_text(config)}, seed {config.seed}",
        "budget used": f"{budget_spent(history)} of {config.budget} experiments",
        "best result": _best_words(result),
        "wall time": f"{result.wall_seconds:.0f} s",
        "failures": str(int(failed_mask(history).sum())),
    }
    return (
        "<table>"
        + "".join(f"<tr><th>{k}</th><td>{_e(v)}</td></tr>" for k, v in rows.items())
        + "</table>"
    )


def _best_words(result: Any) -> str:
    """The best result in words: its value, or with several measured properties each of
    them by name (and its desirability where that ranks it), with its candidate and
    experiment; for a Pareto front, the front's size and hypervolume, as no one design
    is best."""
    outcomes, history = result.outcomes, result.history
    if outcomes is not None and outcomes.is_pareto:
        size = int(history["pareto"].sum())
        if not size:
            return "none yet"
        hypervolume = float(history["hypervolume"].iloc[-1])
        designs = "design" if size == 1 else "designs"
        return f"Pareto front of {size} {designs}, hypervolume {hypervolume:.6g}"
    best = result.best
    if best is None:
        return "none yet"
    found = f"({best['candidate_id']}, experiment {int(best.name) + 1})"
    if outcomes is None or list(outcomes.outputs) == [result.objective]:
        return f"{best[result.objective]:.6g} {found}"
    shown = [f"{name} {best[name]:.6g}" for name in outcomes.outputs]
    if outcomes.ranks_by_desirability:
        shown.append(f"desirability {best['desirability']:.3g}")
    return f"{', '.join(shown)} {found}"


def _space_words(pool: Any) -> str:
    if pool is None:
        return "unavailable"
    if isinstance(pool, Space):
        return f"declared space: {', '.join(pool.names)}"
    return f"pool of {len(pool):,} candidates, {len(pool.feature_names)} features"


def _checks(checks: list[Check]) -> str:
    items = [
        f'<tr><td><span class="verdict {c.verdict.replace(" ", "-")}">{_e(c.verdict)}</span></td>'
        f"<td>{_e(c.name)}</td><td>{_e(c.detail)}</td></tr>"
        for c in checks
    ]
    return '<table id="health">' + "".join(items) + "</table>"


def _top_table(campaign: StoredCampaign) -> str:
    result = campaign.result
    measured = result.measured
    if result.outcomes is not None:
        measured = measured[measured["feasible"]]
    rewards = ranking_rewards(
        measured, result.objective, result.maximize, result.closest_to, result.outcomes
    )
    order = np.argsort(-rewards, kind="stable")
    top = measured.iloc[order[:TOP_ROWS]]
    columns = [
        "candidate_id",
        *(result.outcomes.outputs if result.outcomes else [result.objective]),
    ]
    table = top[columns].copy()
    table.insert(0, "experiment", top.index + 1)
    # A pool's feature may share its name with a measured property (a structure's
    # unrelaxed density beside the measured one): both are shown, told apart.
    parameters = _parameters(result.pool, top)
    table = table.join(
        parameters.rename(columns={c: f"{c} (parameter)" for c in table if c in parameters})
    )
    return table.to_html(index=False, float_format=lambda v: f"{v:.6g}", border=0, na_rep="")


def _parameters(pool: Any, rows: pd.DataFrame) -> pd.DataFrame:
    """Each row's design parameters (from the pool, or the history's own columns)."""
    if pool is None:
        return pd.DataFrame(index=rows.index)
    if isinstance(pool, Space):
        return rows[[n for n in pool.names if n in rows]]
    found = {
        index: pool.candidate(pool.index_of(cid)).parameters
        for index, cid in rows["candidate_id"].astype(str).items()
        if cid in pool
    }
    return pd.DataFrame.from_dict(found, orient="index").reindex(rows.index)


def _e(text: str) -> str:
    return html.escape(str(text))
