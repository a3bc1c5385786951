"""The datasets shipped with the package (where each table lives and how to read it) and
where results go by default.

Only names and paths, no data: the command line lists the datasets in its help without
loading pandas or the library (``datasets.py`` reads the tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from discovery.exceptions import ConfigurationError

#: Where a benchmark writes its results, table and figures unless told otherwise.
DEFAULT_OUT = Path("results") / "benchmark"
DATA = Path(__file__).resolve().parents[1] / "data"
DIRECTIONS = ("max", "min")


@dataclass(frozen=True)
class DatasetEntry:
    """Where a shipped dataset lives and how to read it."""

    name: str
    file: str
    features: tuple[str, ...]
    objective: str
    direction: str
    id_column: str | None = None
    aliases: tuple[str, ...] = ()
    #: The column of chemical formulas whose composition features
    #: (:func:`discovery.features.composition_features`) are the design columns, computed
    #: as the table is read; ``features`` is then empty.
    composition: str | None = None


#: The OER libraries of Rohr et al. (2020): each file's number, and its six elements in
#: column order (the columns are "<element>_load", cation fractions).
OER_PLATES = {
    "a": ("3496", "ni fe co mn ce la"),
    "b": ("3851", "ni fe co ta mn cu"),
    "c": ("3860", "sn fe co ta mn cu"),
    "d": ("4098", "sn sb co ca ni mn"),
}

#: Olympus's experimental tables shipped as pools: name, design columns, objective,
#: direction (see ``data/olympus/README.md``).
OLYMPUS_TABLES = (
    ("alkox", "catalase peroxidase alcohol_oxidase ph", "conversion", "max"),
    ("fullerenes", "reaction_time sultine temperature", "product", "max"),
    ("hplc", "sample_loop additional_volume tubing_volume sample_flow push_speed wait_time",
     "peak_area", "max"),
    ("photo_pce10", "mat_1 mat_2 mat_3 mat_4", "degradation", "min"),
    ("suzuki", "temperature pd_mol arbpin k3po4", "yield", "max"),
)  # fmt: skip

#: The elements of Matbench's steels, the columns of their atomic fractions
#: (``data/matbench_steels/README.md``).
STEEL_ELEMENTS = tuple("Fe Cr Ni Co Mo Al C Si Ti V Mn W N Nb".split())

#: The shipped datasets, by the name ``discovery benchmark`` takes.
DATASETS: dict[str, DatasetEntry] = {
    entry.name: entry
    for entry in (
        DatasetEntry(
            "crossed_barrel", "crossed_barrel/pool.csv", ("n", "theta", "r", "t"),
            "toughness", "max", aliases=("liang2021_crossed_barrel",),
        ),
        DatasetEntry(
            "perovskite", "perovskite/pool.csv", ("CsPbI", "FAPbI", "MAPbI"),
            "Instability index", "min", aliases=("liang2021_perovskite",),
        ),
        DatasetEntry(
            "autoam", "autoam/pool.csv",
            ("Prime Delay", "Print Speed", "X Offset Correction", "Y Offset Correction"),
            "Score", "max", aliases=("liang2021_autoam",),
        ),
        DatasetEntry(
            "agnp", "agnp/pool.csv",
            ("QAgNO3(%)", "Qpva(%)", "Qtsc(%)", "Qseed(%)", "Qtot(uL/min)"),
            "loss", "min", aliases=("liang2021_agnp",),
        ),
        DatasetEntry(
            "edbo_suzuki_miyaura", "edbo_suzuki_miyaura/experiment_index.csv",
            ("Electrophile_SMILES", "Nucleophile_SMILES", "Ligand_SMILES", "Base_SMILES",
             "Solvent_SMILES"),
            "yield", "max", id_column="entry", aliases=("suzuki_miyaura",),
        ),
        DatasetEntry(
            "edbo_buchwald_hartwig", "edbo_buchwald_hartwig/experiment_index.csv",
            ("Aryl_halide_SMILES", "Additive_SMILES", "Base_SMILES", "Ligand_SMILES"),
            "yield", "max", id_column="entry", aliases=("buchwald_hartwig",),
        ),
        DatasetEntry(
            "edbo_direct_arylation", "edbo_direct_arylation/experiment_index.csv",
            ("Base_SMILES", "Ligand_SMILES", "Solvent_SMILES", "Concentration", "Temp_C"),
            "yield", "max", id_column="entry", aliases=("direct_arylation",),
        ),
        *(
            DatasetEntry(
                f"oer_plate_{plate}", f"oer_plates/oer_plate_{plate}_{number}.csv",
                tuple(f"{element}_load" for element in elements.split()),
                "overpotential", "min", aliases=(f"rohr2020_oer_plate_{plate}",),
            )
            for plate, (number, elements) in OER_PLATES.items()
        ),
        *(
            DatasetEntry(
                f"olympus_{name}", f"olympus/olympus_{name}.csv", tuple(columns.split()),
                objective, direction,
            )
            for name, columns, objective, direction in OLYMPUS_TABLES
        ),
        DatasetEntry(
            "matbench_steels", "matbench_steels/pool.csv", STEEL_ELEMENTS,
            "yield strength", "max", id_column="id", aliases=("steels",),
        ),
        DatasetEntry(
            "expt_formation_enthalpy_kim2017", "expt_formation_enthalpy_kim2017/pool.csv", (),
            "e_form expt", "min", id_column="composition", composition="composition",
            aliases=("formation_enthalpy",),
        ),
    )
}  # fmt: skip

#: Other names a shipped dataset answers to (its Liang et al. folder name, say).
ALIASES = {alias: entry.name for entry in DATASETS.values() for alias in entry.aliases}


def dataset_names() -> list[str]:
    """The shipped datasets' names."""
    return sorted(DATASETS)


def shipped_name(name: str) -> str | None:
    """The shipped dataset ``name`` stands for, or None where it names a CSV file.

    Raises:
        ConfigurationError: neither a shipped dataset nor a ``.csv`` file, or a CSV
            file that does not exist.
    """
    key = ALIASES.get(name, name)
    if key in DATASETS:
        return key
    path = Path(name)
    if path.suffix.lower() != ".csv":
        raise ConfigurationError(
            f"unknown dataset '{name}': expected one of {dataset_names()} or a .csv file"
        )
    if not path.is_file():
        raise ConfigurationError(f"dataset file not found: {path}")
    return None
