"""``discovery report``: a campaign's store as one self-contained HTML page.

Summary, health checks, figures (best so far, every measurement, model quality, where
the search went, which inputs matter, Pareto front, portfolio arms, faults), the top
candidates and the configuration. The store is read in one read-only snapshot, so a
campaign running in another process is neither blocked nor changed.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from discovery.campaign_plots import CampaignPlots
from discovery.report.health import Check, health_checks
from discovery.report.load import StoredCampaign, load_campaign
from discovery.report.page import render_page
from discovery.store import check_not_the_store

__all__ = ["Check", "ReportInfo", "StoredCampaign", "load_campaign", "write_report"]


@dataclass(frozen=True)
class ReportInfo:
    """What one report holds: where it was written, its size, the figures drawn, how
    long it took, and whether the campaign is still running; ``state`` says "running",
    "finished", or "stopped" (before its end, with no process running it)."""

    path: Path
    bytes: int
    figures: tuple[str, ...]
    seconds: float
    is_running: bool
    state: str = "finished"


def write_report(
    store: str | Path, output: str | Path | None = None, refresh_seconds: float | None = None
) -> ReportInfo:
    """Write the report of the campaign in ``store`` to ``output`` (by default the
    store's name with ``.html``); the file is replaced whole, never half-written.

    Args:
        store: the campaign's store file.
        output: the HTML file to write.
        refresh_seconds: make the page reload itself this often while the campaign
            runs (a live view); the page of a finished campaign never reloads.

    Raises:
        StoreError: the file is missing, not a store, from a newer version, or empty;
            or ``output`` is the store itself.
    """
    started = time.perf_counter()
    target = Path(output) if output is not None else Path(store).with_suffix(".html")
    check_not_the_store(target, store)
    campaign = load_campaign(store)
    plots = CampaignPlots(campaign.result, seed=campaign.config.seed)
    figures, checks = {}, []
    if not campaign.result.history.empty:
        # With no measurement yet, what can be shown is why: the checks (failures among
        # them) and the figure of faults and retries.
        names = plots.available()
        if campaign.result.measured.empty:
            names = [name for name in names if name == "failures"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # model-fit chatter belongs in the campaign's log
            checks = health_checks(plots)
            figures = {name: getattr(plots, name)() for name in names}
    refresh = refresh_seconds if campaign.is_running else None
    page = render_page(campaign, figures, checks, plots, refresh)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, target)
    return ReportInfo(
        target,
        len(page.encode()),
        tuple(figures),
        time.perf_counter() - started,
        campaign.is_running,
        campaign.state,
    )
