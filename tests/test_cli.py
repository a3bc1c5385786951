import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from discovery.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(autouse=True)
def in_a_temporary_folder(tmp_path, monkeypatch):
    """A run without --out writes results/<campaign>.csv where it starts: not in the checkout."""
    monkeypatch.chdir(tmp_path)


def run(*args):
    return runner.invoke(app, ["run", *map(str, args), "--no-progress"])


def test_run_writes_the_history_and_prints_the_summary(tmp_path):
    out = tmp_path / "lj.csv"
    store = tmp_path / "lj.sqlite"
    result = run(
        ROOT / "campaigns" / "lennard_jones.py",
        "--budget",
        6,
        "--seed",
        1,
        "--out",
        out,
        "--store",
        store,
    )
    assert result.exit_code == 0, result.output
    assert "best energy" in result.output and "closest r to the minimum" in result.output
    assert "model seconds per iteration" in result.output  # fit and choice, not experiments
    history = pd.read_csv(out)
    assert {"iteration", "candidate_id", "energy", "best_so_far"} <= set(history.columns)
    assert len(history) == 6 and history["candidate_id"].is_unique


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return lines[0]


def test_a_missing_campaign_file_is_one_line(tmp_path):
    line = one_line_error(run(tmp_path / "nope.py"))
    assert line.startswith("error: campaign file not found")


def test_a_file_without_a_campaign_is_named(tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    line = one_line_error(run(empty))
    assert "defines no campaign" in line and "make_campaign()" in line


def test_a_make_campaign_that_needs_arguments_is_named(tmp_path):
    needy = tmp_path / "needy.py"
    needy.write_text("def make_campaign(client):\n    raise AssertionError('not called')\n")
    line = one_line_error(run(needy))
    assert "make_campaign() needs ['client']" in line and "give them defaults" in line


def test_no_workers_is_refused_on_any_campaign(tmp_path):
    store = tmp_path / "cb.sqlite"
    line = one_line_error(
        run(ROOT / "campaigns" / "crossed_barrel.py", "--workers", 0, "--store", store)
    )
    assert "workers: must be >= 1, got 0" in line and not store.exists()


def test_an_interrupted_run_says_where_its_results_are_and_how_to_go_on(tmp_path):
    interrupted = tmp_path / "interrupted.py"
    interrupted.write_text(
        "from campaigns.lennard_jones import make_campaign as lennard_jones\n"
        "def make_campaign():\n"
        "    campaign = lennard_jones()\n"
        "    calls = []\n"
        "    def stop(candidate):\n"
        "        calls.append(1)\n"
        "        if len(calls) == 3:\n"
        "            raise KeyboardInterrupt\n"
        "        return 1.0\n"
        "    campaign.oracle.function = stop\n"
        "    return campaign\n"
    )
    store = tmp_path / "s.sqlite"
    result = run(interrupted, "--store", store)
    assert result.exit_code == 130
    assert f"every result so far is stored in {store}" in " ".join(result.output.split())


def test_a_budget_below_the_initial_design_is_refused(tmp_path):
    line = one_line_error(
        run(ROOT / "campaigns" / "lennard_jones.py", "--budget", 1, "--store", tmp_path / "s")
    )
    assert "budget (1) is smaller than the initial design (n_initial=2)" in line


def test_an_error_inside_the_campaign_file_is_one_line_and_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pandas as pd\n"
        "from discovery import CandidatePool\n"
        "pool = CandidatePool.from_frame(pd.DataFrame({'x': [1.0, None]}), objective='y')\n"
    )
    line = one_line_error(run(bad))
    assert line == "error: pool: objective 'y' not in the columns ['x']"
    debug = runner.invoke(app, ["run", str(bad), "--debug"])
    assert "Traceback" in debug.output


def test_running_again_resumes_and_status_export_show_the_store(tmp_path):
    campaign_file, store = ROOT / "campaigns" / "lennard_jones.py", tmp_path / "lj.sqlite"
    first = run(campaign_file, "--budget", 5, "--store", store, "--out", tmp_path / "a.csv")
    assert first.exit_code == 0, first.output
    more = run(campaign_file, "--budget", 8, "--store", store, "--out", tmp_path / "b.csv")
    assert more.exit_code == 0, more.output
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert list(b["candidate_id"][:5]) == list(a["candidate_id"]) and len(b) == 8

    status = runner.invoke(app, ["status", str(store)])
    assert status.exit_code == 0, status.output
    assert "8 of 8 experiments" in status.output and "best energy" in status.output

    exported = tmp_path / "export.json"
    result = runner.invoke(app, ["export", str(store), "--format", "json", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    rows = pd.read_json(exported)
    assert list(rows["candidate_id"].astype(str)) == list(b["candidate_id"].astype(str))
    assert {"idempotency_key", "attempts", "handle_json", "energy"} <= set(rows.columns)
    energies = [row["energy"] for row in json.loads(exported.read_text())]
    assert energies == list(b["energy"])  # every digit, as the CSV has them

    for command in (["export", str(store)], ["report", str(store)], ["ask", str(store)]):
        for journal in ("", "-wal"):
            refused = runner.invoke(app, [*command, "-o", f"{store}{journal}"])
            assert "is the campaign's store" in one_line_error(refused)
    assert "8 of 8 experiments" in runner.invoke(app, ["status", str(store)]).output


def test_run_continues_in_the_store_the_campaign_file_names(tmp_path):
    source = (ROOT / "campaigns" / "lennard_jones.py").read_text()
    store = tmp_path / "lab-data.sqlite"
    campaign_file = tmp_path / "named.py"
    campaign_file.write_text(
        f"{source}\ncampaign = make_campaign().replace(store={str(store)!r})\n"
    )
    assert run(campaign_file, "--budget", 4).exit_code == 0
    more = run(campaign_file, "--budget", 6)
    assert more.exit_code == 0, more.output
    from discovery.store import CampaignStore

    assert len(CampaignStore(store, read_only=True).jobs()) == 6
    assert not list(tmp_path.glob("named-seed*.sqlite"))


def test_another_seed_on_the_same_store_is_refused_in_one_line(tmp_path):
    campaign_file, store = ROOT / "campaigns" / "lennard_jones.py", tmp_path / "lj.sqlite"
    assert run(campaign_file, "--budget", 3, "--store", store).exit_code == 0
    line = one_line_error(run(campaign_file, "--budget", 3, "--seed", 4, "--store", store))
    assert "seed=0 (--seed 0), not seed=4" in line and "--new" in line
    fresh = run(campaign_file, "--budget", 3, "--seed", 4, "--store", store, "--new")
    assert fresh.exit_code == 0, fresh.output
    assert len(list(tmp_path.glob("lj-*.sqlite"))) == 1


def test_ask_and_tell_through_the_command_line(tmp_path):
    from discovery import Campaign
    from tests.test_resume import FRAME, POOL

    store = tmp_path / "manual.sqlite"
    Campaign(POOL, None, "y", surrogate="forest", n_initial=3, store=store).ask(3)
    suggestions = tmp_path / "ask.csv"
    asked = runner.invoke(app, ["ask", str(store), "-k", "2", "-o", str(suggestions)])
    assert asked.exit_code == 0, asked.output
    table = pd.read_csv(suggestions, dtype={"candidate_id": str})
    assert list(table["status"]) == ["pending"] * 3 + ["new"] * 2
    results = tmp_path / "results.csv"
    table.assign(y=[FRAME.loc[int(i), "y"] for i in table["candidate_id"]])[
        ["candidate_id", "y"]
    ].to_csv(results, index=False)
    told = runner.invoke(app, ["tell", str(store), str(results)])
    assert told.exit_code == 0, told.output
    from discovery.store import CampaignStore

    assert len(CampaignStore(store, read_only=True).measurements()) == 5
    again = runner.invoke(app, ["tell", str(store), str(results)])
    assert one_line_error(again).startswith("error: tell: candidate")


def test_status_on_a_file_that_is_not_a_store_is_one_line(tmp_path):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("not a database " * 200)
    line = one_line_error(runner.invoke(app, ["status", str(bad)]))
    assert "not a readable SQLite file" in line


def test_workers_run_an_asynchronous_campaign_on_a_pool(tmp_path):
    result = run(
        ROOT / "campaigns" / "lennard_jones.py",
        "--budget",
        8,
        "--workers",
        3,
        "--executor",
        "thread",
        "--store",
        tmp_path / "lj.sqlite",
        "--out",
        tmp_path / "lj.csv",
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "lj.csv")["candidate_id"].is_unique


def test_bad_executor_settings_are_one_line_before_any_experiment(tmp_path):
    campaign_file, store = ROOT / "campaigns" / "lennard_jones.py", tmp_path / "s.sqlite"
    assert "workers: must be >= 1, got 0" in one_line_error(
        run(campaign_file, "--workers", 0, "--store", store)
    )
    assert "executor: unknown name 'gpu'" in one_line_error(
        run(campaign_file, "--executor", "gpu", "--store", store)
    )
    assert not store.exists()


def test_a_lambda_oracle_on_a_process_pool_is_refused_before_any_experiment(tmp_path):
    store = tmp_path / "ng.sqlite"
    result = run(
        ROOT / "campaigns" / "noble_gas_crystal.py",
        "--budget",
        6,
        "--workers",
        2,
        "--executor",
        "process",
        "--store",
        store,
    )
    line = one_line_error(result)
    assert "<lambda> cannot be sent to another process" in line and "--executor thread" in line
    assert not store.exists()


def test_a_results_file_with_a_bad_row_is_refused_whole_and_then_told_whole(tmp_path):
    from discovery import Campaign
    from discovery.store import CampaignStore
    from tests.test_resume import POOL

    store = tmp_path / "manual run #1.sqlite"  # a name a file URI must quote
    asked = Campaign(POOL, None, "y", surrogate="forest", n_initial=3, store=store).ask(3)
    ids = list(asked["candidate_id"])
    results = tmp_path / "results.csv"
    results.write_text(f'candidate_id,y\n{ids[0]},40\n{ids[1]},"12,5"\n{ids[2]},30\n')
    line = one_line_error(runner.invoke(app, ["tell", str(store), str(results)]))
    assert f"value for '{ids[1]}' is not a number: '12,5'" in line
    assert "nothing in results.csv was recorded" in line
    assert CampaignStore(store, read_only=True).measurements() == []
    results.write_text(f"candidate_id,y\n{ids[0]},40\n{ids[1]},12.5\n{ids[2]},30\n")
    told = runner.invoke(app, ["tell", str(store), str(results)])
    assert told.exit_code == 0, told.output
    assert [v for _, v, _ in CampaignStore(store, read_only=True).measurements()] == [40, 12.5, 30]


def test_ask_on_a_wide_descriptor_pool_prints_a_readable_table(tmp_path):
    """A pool of 40 descriptors printed 43 columns squeezed to a letter or two each, on a
    terminal 80 characters wide: the columns that fit are shown whole."""
    import numpy as np

    from discovery import Campaign, CandidatePool

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((30, 40)), columns=[f"descriptor_{i}" for i in range(40)])
    store = tmp_path / "wide.sqlite"
    pool = CandidatePool.from_frame(frame)
    Campaign(pool, None, "y", n_initial=2, budget=10, store=store).ask(1)
    suggestions = tmp_path / "ask.csv"
    asked = runner.invoke(app, ["ask", str(store), "-k", "2", "-o", str(suggestions)])
    assert asked.exit_code == 0, asked.output
    assert "descriptor_0" in asked.output and "descriptor_39" not in asked.output
    assert "more parameter columns, all in" in asked.output
    assert all(len(line) <= 80 for line in asked.output.splitlines())
    assert "descripto…" not in asked.output
    assert pd.read_csv(suggestions).shape == (3, 43)  # one pending, two new


def test_run_refuses_a_history_file_that_would_replace_the_store_or_the_campaign(tmp_path):
    """--out naming the store wrote the history CSV over it, exit code 0: every
    measurement lost."""
    source = ROOT / "campaigns" / "lennard_jones.py"
    campaign_file = tmp_path / "lj.py"
    campaign_file.write_text(source.read_text())
    store = tmp_path / "lj.sqlite"
    line = one_line_error(run(campaign_file, "--budget", 3, "--store", store, "--out", store))
    assert "is the campaign's store" in line
    assert not store.exists()  # refused before the campaign began
    line = one_line_error(run(campaign_file, "--budget", 3, "--out", campaign_file))
    assert "is the campaign file" in line
    assert campaign_file.read_text() == source.read_text()
    assert "is a folder" in one_line_error(run(campaign_file, "--out", tmp_path))


def test_ask_refuses_an_output_it_cannot_write_before_recording_suggestions(tmp_path):
    """A mistyped folder recorded two suggestions against the budget, then failed; asking
    again handed out two more."""
    from discovery import Campaign
    from discovery.store import CampaignStore
    from tests.test_resume import POOL

    store = tmp_path / "manual.sqlite"
    Campaign(POOL, None, "y", surrogate="forest", n_initial=3, store=store).ask(1)
    asked = runner.invoke(app, ["ask", str(store), "-k", "2", "-o", "no_such_folder/a.csv"])
    assert "folder no_such_folder does not exist" in one_line_error(asked)
    assert len(CampaignStore(store, read_only=True).jobs()) == 1


def test_a_budget_below_what_was_spent_is_refused_and_the_stored_one_kept(tmp_path):
    """--budget 2 after 4 experiments printed a finished summary and lowered the store's
    budget to 2: status then read "4 of 2"; the campaign file's own budget, run again
    after a larger --budget, lowered it the same way."""
    from discovery.store import CampaignStore

    campaign_file, store = ROOT / "campaigns" / "lennard_jones.py", tmp_path / "lj.sqlite"
    assert run(campaign_file, "--budget", 4, "--store", store).exit_code == 0
    line = one_line_error(run(campaign_file, "--budget", 2, "--store", store))
    assert "--budget 2 is below the 4 experiments" in line
    assert run(campaign_file, "--budget", 17, "--store", store).exit_code == 0
    assert run(campaign_file, "--store", store).exit_code == 0  # the file's budget is 15
    stored = json.loads(CampaignStore(store, read_only=True).campaign_row()["config_json"])
    assert stored["budget"] == 17


def test_status_export_report_and_a_larger_budget_read_a_store_of_an_older_schema(tmp_path):
    """A store written by an older discovery (schema 3): status, export and report failed
    with "cannot commit - no transaction is active", and a run with --budget with
    "IndexError: No item with that key"; only a run without --budget migrated it."""
    from tests.test_store import back_to_schema, schema_of

    campaign_file, store = ROOT / "campaigns" / "lennard_jones.py", tmp_path / "lj.sqlite"
    assert run(campaign_file, "--budget", 4, "--store", store).exit_code == 0
    back_to_schema(store, 3)
    status = runner.invoke(app, ["status", str(store)])
    assert status.exit_code == 0, status.output
    assert "4 of 4 experiments" in status.output
    exported = runner.invoke(app, ["export", str(store), "-o", str(tmp_path / "lj.csv")])
    assert exported.exit_code == 0, exported.output
    assert len(pd.read_csv(tmp_path / "lj.csv")) == 4
    report = runner.invoke(app, ["report", str(store), "-o", str(tmp_path / "lj.html")])
    assert report.exit_code == 0, report.output
    assert schema_of(store) == 3  # only read
    more = run(campaign_file, "--budget", 6, "--store", store, "--out", tmp_path / "more.csv")
    assert more.exit_code == 0, more.output
    assert len(pd.read_csv(tmp_path / "more.csv")) == 6


def test_a_budget_on_an_empty_store_file_starts_the_campaign(tmp_path):
    """An empty file (made with touch, or by a run killed before its first write) given
    with --budget failed with "no such table: jobs"; without --budget it ran."""
    campaign_file, store = ROOT / "campaigns" / "lennard_jones.py", tmp_path / "lj.sqlite"
    store.touch()
    result = run(campaign_file, "--budget", 4, "--store", store, "--out", tmp_path / "lj.csv")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "lj.csv")) == 4


MARKUP_CAMPAIGN = """
import pandas as pd
from discovery import Campaign, CandidatePool, FunctionOracle
frame = pd.DataFrame({{"x": [i / 11 for i in range(12)], "buffer": ["PBS [/1x]", "Tris"] * 6}})
oracle = FunctionOracle(lambda c: -(c.parameters["x"] - 0.3) ** 2, output={objective!r})
campaign = Campaign(CandidatePool.from_frame(frame), oracle, objective={objective!r},
                    surrogate="forest", budget=4, n_initial=3, seed=0, name="run [b]1[/b]")
"""


@pytest.mark.parametrize("objective", ["rate [/s]", "conc [mol/L]"])
def test_names_and_values_in_brackets_are_printed_as_written(tmp_path, objective):
    """Printed as Rich markup, an objective "rate [/s]" failed run's summary and status
    with a MarkupError, and "conc [mol/L]" was shown as "conc "."""
    campaign_file, store = tmp_path / "units.py", tmp_path / "units[1].sqlite"
    campaign_file.write_text(MARKUP_CAMPAIGN.format(objective=objective))
    result = run(campaign_file, "--store", store, "--out", tmp_path / "units.csv")
    assert result.exit_code == 0, result.output
    for command in (result, runner.invoke(app, ["status", str(store)])):
        assert command.exit_code == 0, command.output
        assert f"run [b]1[/b]: {objective} (max)" in command.output
        assert f"best {objective}" in command.output
    assert "buffer=PBS [/1x]" in result.output or "buffer=Tris" in result.output
    assert f"campaign stored in {store}" in " ".join(result.output.split())


def test_ask_shows_a_value_in_brackets_as_written(tmp_path):
    """A pool value "PBS [/1x]": ask recorded its suggestions, then failed to show them."""
    from discovery import Campaign, CandidatePool

    frame = pd.DataFrame({"temperature": range(300, 310), "buffer": ["PBS [/1x]", "Tris"] * 5})
    store = tmp_path / "ask.sqlite"
    pool = CandidatePool.from_frame(frame)
    Campaign(pool, None, "y", n_initial=4, budget=6, store=store).ask(1)
    asked = runner.invoke(app, ["ask", str(store), "-k", "3"])
    assert asked.exit_code == 0, asked.output
    assert "PBS [/1x]" in asked.output


@pytest.mark.parametrize("name", ["data[old].sqlite", "missing[/1].sqlite"])
def test_an_error_naming_a_file_in_brackets_shows_its_name(tmp_path, name):
    """A missing "data[old].sqlite" was reported as "data.sqlite"; "missing[/1].sqlite"
    made the error printer itself fail."""
    result = runner.invoke(app, ["status", name])
    assert result.exit_code == 2
    assert one_line_error(result) == f"error: store {name}: no such file"


def test_a_folder_given_as_the_store_is_said_to_be_a_folder(tmp_path):
    """status and report on a folder said "no such file"."""
    for command in ("status", "report"):
        line = one_line_error(runner.invoke(app, [command, str(tmp_path)]))
        assert line == f"error: store {tmp_path} is a folder, not a store file"


def test_an_output_that_cannot_be_written_is_one_line_naming_it(tmp_path):
    """export -o into a missing folder or onto a folder, and report -o into a missing
    folder, ended in a raw FileNotFoundError or IsADirectoryError (exit 1); report's named
    a hidden ".x.html.partial" file the user never gave."""
    campaign_file, store = ROOT / "campaigns" / "lennard_jones.py", tmp_path / "lj.sqlite"
    assert run(campaign_file, "--budget", 3, "--store", store).exit_code == 0
    missing = tmp_path / "no_such_folder"
    cases = {
        ("export", missing / "x.csv"): f"folder {missing} does not exist",
        ("export", tmp_path): "is a folder; name a CSV file",
        ("report", missing / "x.html"): f"folder {missing} does not exist",
        ("report", tmp_path): "is a folder; name an HTML file",
    }
    for (command, output), message in cases.items():
        result = runner.invoke(app, [command, str(store), "-o", str(output)])
        assert result.exit_code == 2, result.output
        line = one_line_error(result)
        assert line.startswith(f"error: {command}: -o {output}") and message in line, line
    assert not missing.exists()


def test_a_written_file_in_brackets_is_named_as_written(tmp_path):
    """export and report named the file they wrote "rows.csv" and "page.html"."""
    campaign_file, store = ROOT / "campaigns" / "lennard_jones.py", tmp_path / "lj.sqlite"
    assert run(campaign_file, "--budget", 3, "--store", store).exit_code == 0
    for command, output in (("export", "rows[b].csv"), ("report", "page[b].html")):
        result = runner.invoke(app, [command, str(store), "-o", str(tmp_path / output)])
        assert result.exit_code == 0, result.output
        assert output in " ".join(result.output.split())


def test_tell_reads_ids_that_pandas_takes_for_gaps_as_written(tmp_path):
    """pandas read the ids 'NA', 'None', 'null' and 'N/A' as missing, even as text: those
    candidates could not be told through the command line."""
    from discovery import Campaign, CandidatePool
    from discovery.store import CampaignStore

    ids = ["NA", "None", "null", "N/A", "n0", "n1"]
    frame = pd.DataFrame({"id": ids, "x": [0.1, 0.3, 0.5, 0.7, 0.9, 0.2]})
    pool = CandidatePool.from_frame(frame, id_column="id")
    store = tmp_path / "na.sqlite"
    Campaign(pool, None, "f", surrogate="forest", budget=6, n_initial=2, store=store).tell(
        "n0", 1.0
    )
    results = tmp_path / "results.csv"
    results.write_text("candidate_id,f\nn1,\n")  # a value left empty is still missing
    line = one_line_error(runner.invoke(app, ["tell", str(store), str(results)]))
    assert "value for 'n1' is missing" in line
    results.write_text("candidate_id,f\nNA,0.5\nNone,0.7\nnull,0.1\nN/A,0.3\n")
    told = runner.invoke(app, ["tell", str(store), str(results)])
    assert told.exit_code == 0, told.output
    measured = CampaignStore(store, read_only=True).measurements()
    assert [c for c, _, _ in measured] == ["n0", "NA", "None", "null", "N/A"]


def test_a_store_in_a_missing_folder_is_one_line_naming_the_folder(tmp_path):
    """It was "not a readable SQLite file (unable to open database file)"."""
    campaign_file = ROOT / "campaigns" / "lennard_jones.py"
    line = one_line_error(run(campaign_file, "--store", "runs/a.sqlite", "--budget", 3))
    missing = tmp_path.resolve() / "runs"
    assert line == f"error: store runs/a.sqlite: the folder {missing} does not exist"
