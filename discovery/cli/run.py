"""``discovery run CAMPAIGN_FILE``: run (or resume) a campaign defined in a Python file."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from discovery.cli.app import app, command_boundary, console, errors, key_value_table
from discovery.exceptions import CampaignFileError, ConfigurationError

if TYPE_CHECKING:  # the library is imported where used: `discovery --help` starts at once
    from discovery.campaign import Campaign
    from discovery.history import CampaignResult


def load_campaign_module(path: Path) -> Any:
    """Import a campaign file as a module; modules in its folder can be imported by it.

    Raises:
        CampaignFileError: the file is missing or is not a Python file.
    """
    if not path.is_file():
        raise CampaignFileError(f"campaign file not found: {path}")
    if path.suffix != ".py":
        raise CampaignFileError(f"campaign file must be a Python file (.py): {path}")
    spec = importlib.util.spec_from_file_location(f"discovery_campaign_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    folder = str(path.resolve().parent)
    if folder not in sys.path:  # as for a script: modules beside the file import
        sys.path.insert(0, folder)
    spec.loader.exec_module(module)
    return module


def campaign_from_module(module: Any, path: Path) -> Campaign:
    """The module's ``campaign`` object, or what its ``make_campaign()`` returns.

    Raises:
        CampaignFileError: neither is defined, or it is not a Campaign.
    """
    from discovery.campaign import Campaign

    if hasattr(module, "campaign"):
        campaign = module.campaign
    elif callable(getattr(module, "make_campaign", None)):
        required = [
            name
            for name, parameter in inspect.signature(module.make_campaign).parameters.items()
            if parameter.default is parameter.empty
            and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        ]
        if required:
            raise CampaignFileError(
                f"campaign file {path}: make_campaign() needs {required}, and `discovery run` "
                "calls it with none; give them defaults, or run the file with python"
            )
        campaign = module.make_campaign()
    else:
        raise CampaignFileError(
            f"campaign file {path} defines no campaign: add a module-level `campaign = "
            "Campaign(...)` or a `make_campaign()` function that returns one"
        )
    if not isinstance(campaign, Campaign):
        raise CampaignFileError(
            f"campaign file {path}: `campaign` must be a discovery.Campaign, "
            f"got {type(campaign).__name__}"
        )
    return campaign


#: Designs with more parameters than this (e.g. computed features) are not printed.
MAX_PARAMETERS_SHOWN = 8


def summary_table(campaign: Campaign, result: CampaignResult, extra: dict[str, Any]) -> Table:
    from discovery.history import reward_lines, strategy_text

    summary = result.summary()
    config = campaign.config
    if config.outcomes is not None:
        return _outcomes_table(campaign, result, summary, extra)
    best = summary["best_value"]
    rewards = reward_lines(result.history, config.optimum)
    rows = {
        "strategy": f"{strategy_text(config)}, batch {config.batch_size}, seed {config.seed}",
        **({"default chosen": campaign.auto_choice.reason} if campaign.auto_choice else {}),
        "experiments": experiments_text(summary),
        **(rewards if config.goal == "cumulative" else {}),
        f"best {config.objective}": "-" if best is None else f"{best:.6g}",
        "best candidate": "-" if best is None else str(summary["best_candidate"]),
        "found at": "-"
        if best is None
        else "told, not chosen"
        if summary["found_at_iteration"] is None
        else f"iteration {summary['found_at_iteration']}, "
        f"experiment {summary['found_at_experiment']}",
        **rewards,
        "model seconds per iteration": f"{summary['seconds_per_iteration']:.3f} (fit and choice)",
        "wall time": f"{summary['wall_seconds']:.1f} s",
        "stopped because": summary["stopped_because"],
    }
    if best is not None:
        design = best_design(campaign, result, summary["best_candidate"])
        if len(design) <= MAX_PARAMETERS_SHOWN:  # computed features say little
            rows["best design"] = ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in design.items()
            )
    if result.policy:
        rows[f"arms ({config.acquisition})"] = arm_lines(result.arms())
    rows.update({str(k): str(v) for k, v in extra.items()})
    return key_value_table(f"{config.name}: {config.objective} ({config.direction})", rows)


def experiments_text(summary: dict[str, Any]) -> str:
    """The experiments spent, how many failed or are not finished (asked and not told),
    and the measurements told for designs outside the pool beside them."""
    parts = [f"{summary['failed']} failed"]
    if summary["open"]:
        parts.append(f"{summary['open']} not finished")
    if summary["told"]:
        parts.append(f"and {summary['told']} told")
    return f"{summary['experiments']} ({', '.join(parts)})"


def _outcomes_table(
    campaign: Campaign, result: CampaignResult, summary: dict[str, Any], extra: dict[str, Any]
) -> Table:
    """The summary of a campaign with several objectives or outcome constraints."""
    from discovery.history import outcome_lines, strategy_text

    config = campaign.config
    rows = {
        "strategy": f"{strategy_text(config)}, batch {config.batch_size}, seed {config.seed}",
        "experiments": experiments_text(summary),
        **outcome_lines(result.history, config.outcomes),
        "model seconds per iteration": f"{summary['seconds_per_iteration']:.3f} (fit and choice)",
        "wall time": f"{summary['wall_seconds']:.1f} s",
        "stopped because": summary["stopped_because"],
        **{str(k): str(v) for k, v in extra.items()},
    }
    return key_value_table(f"{config.name}: {', '.join(config.outcomes.names)}", rows)


def best_design(campaign: Campaign, result: CampaignResult, candidate_id: str) -> dict[str, Any]:
    """The parameter values of a candidate: from the pool, or a space's history columns."""
    from discovery.search_space import Space

    if isinstance(campaign.pool, Space):
        row = result.history.loc[result.history["candidate_id"] == candidate_id].iloc[0]
        return {name: row[name] for name in campaign.pool.names}
    return campaign.pool.candidate(campaign.pool.index_of(candidate_id)).parameters


def arm_lines(report) -> str:
    """One line per arm: picks, reward earned, final probability."""
    return "\n".join(
        f"{row.arm}: {row.picks} picks, reward {row.reward:.4g}, p={row.probability:.2f}"
        for row in report.itertuples()
    )


def default_store(campaign_file: Path, seed: int) -> Path:
    """Where a campaign file's runs are stored by default: beside it, one file per seed."""
    return campaign_file.with_name(f"{campaign_file.stem}-seed{seed}.sqlite")


def use_executor(campaign: Campaign, name: str, workers: int | None, scheduler: str | None) -> None:
    """Run the campaign's oracle calls on the named executor.

    Raises:
        ConfigurationError: the oracle does not run on an executor, an unknown name,
            workers < 1, or an unreachable scheduler.
    """
    from discovery.executors import resolve_executor

    if not hasattr(campaign.oracle, "executor"):
        raise ConfigurationError(
            f"--executor: oracle {type(campaign.oracle).__name__} does not run on an executor"
        )
    campaign.oracle.executor = resolve_executor(name, workers, scheduler)


def check_history_file(out: Path, store: Path, campaign_file: Path) -> None:
    """Refuse, before any experiment, a history file that would replace the store or the
    campaign file, or that cannot be written; make its folder.

    Raises:
        StoreError: ``out`` is the store or one of its journal files.
        ConfigurationError: ``out`` is the campaign file or a folder, or its folder
            cannot be made.
    """
    from discovery.store import check_not_the_store

    check_not_the_store(out, store)
    if out.resolve() == campaign_file.resolve():
        raise ConfigurationError(
            f"--out {out} is the campaign file; writing the history would replace it"
        )
    if out.is_dir():
        raise ConfigurationError(f"--out {out} is a folder; name a CSV file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(
            f"--out {out}: cannot make its folder ({error.strerror})"
        ) from None


def check_budget_not_spent(budget: int, store: Path) -> None:
    """Refuse a --budget below the experiments the store already holds: the campaign
    stopped at once, and the store's budget was lowered to one it was past.

    Raises:
        ConfigurationError: ``budget`` is below what was spent.
    """
    from discovery.exceptions import StoreError
    from discovery.store import CampaignStore

    if not store.is_file():
        return
    try:
        reader = CampaignStore(store, read_only=True)
    except StoreError:
        return  # not a store: the campaign itself says what is wrong
    try:  # a file with no campaign yet (made empty, or a run killed at once) spent none
        spent = 0 if reader.campaign_row() is None else len(reader.jobs())
    finally:
        reader.close()
    if budget < spent:
        raise ConfigurationError(
            f"--budget {budget} is below the {spent} experiments {store} already holds; "
            f"give a budget above {spent} to continue the campaign"
        )


@app.command()
def run(
    campaign_file: Annotated[Path, typer.Argument(help="Python file defining the campaign.")],
    budget: Annotated[int | None, typer.Option(help="Total experiments.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of every random choice.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Experiments per iteration.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="History CSV; default results/<file name>.csv.")
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            help="Campaign store; default the file's own store=..., else "
            "<file name>-seed<S>.sqlite beside the file."
        ),
    ] = None,
    new: Annotated[
        bool, typer.Option("--new", help="Start afresh; an existing store is renamed, not lost.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="Keep this many experiments in flight (asynchronous campaign)."),
    ] = None,
    executor: Annotated[
        str | None, typer.Option(help="Where oracle calls run: thread, process or dask.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show the progress bar.")] = True,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of errors.")] = False,
) -> None:
    """Run the campaign in CAMPAIGN_FILE, print a summary and write its history.

    Every step is stored as it happens; the same command again resumes the
    campaign where it stopped (or continues it, given a larger --budget).
    """
    with command_boundary(debug):
        module = load_campaign_module(campaign_file)
        campaign = campaign_from_module(module, campaign_file)
        changes = {"budget": budget, "seed": seed, "batch_size": batch_size}
        changes = {k: v for k, v in changes.items() if v is not None}
        if workers is not None and workers < 1:
            raise ConfigurationError(f"--workers: must be >= 1, got {workers}")
        if workers is not None or executor is not None or scheduler is not None:
            changes["max_in_flight"] = workers or 1
            if executor or scheduler or hasattr(campaign.oracle, "executor"):
                name = executor or ("dask" if scheduler else "thread")
                use_executor(campaign, name, workers, scheduler)
        store = (
            store
            or campaign.store_path  # the file's own store: its measurements are not run again
            or default_store(campaign_file, changes.get("seed", campaign.config.seed))
        )
        out = out or Path("results") / f"{campaign_file.stem}.csv"
        check_history_file(out, store, campaign_file)
        if budget is not None and not new:
            check_budget_not_spent(budget, store)
        campaign = campaign.replace(store=store, **changes)
        try:
            result = campaign.run(progress=progress, new=new)
        except KeyboardInterrupt:
            errors.print(
                Text(
                    f"interrupted: every result so far is stored in {store}; the same command "
                    "again resumes the campaign (`discovery export` writes its history now)"
                )
            )
            raise typer.Exit(code=130) from None
        summarize = getattr(module, "summarize", None)
        extra = summarize(result) if callable(summarize) else {}
        result.history.to_csv(out, index=False)
    console.print(summary_table(campaign, result, extra))
    console.print(Text(f"history written to {out}; campaign stored in {store}"))
