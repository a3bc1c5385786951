"""Write pools of many numeric descriptors for benchmarking: composition features.

A campaign over compositions that uses :func:`discovery.features.pool_from_compositions`
searches a pool of 41 numeric columns. The shipped tables have two such pools (the
steels' 14 atomic fractions, the formation enthalpies' 41 features); this script writes
more, from the shared data, as CSV files ``discovery benchmark`` reads:

- ``expt_gap_max.csv``: Matbench's experimental band gaps (4604 compositions), the gap
  maximised (the search for wide-gap compounds);
- ``oer_plate_X_composition.csv``: each OER library's compositions (its six metal
  loadings written as a formula), the overpotential minimised, described by composition
  features instead of the loadings.

Element properties some element lacks are filled with the column's mean, as
``pool_from_compositions`` does. Run:

    python benchmarks/composition_tables.py ../shared/datasets OUT_FOLDER
    discovery benchmark OUT_FOLDER/expt_gap_max.csv --objective "gap expt" --direction max ...
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from discovery.features import composition_features

OER_PLATES = ("a_3496", "b_3851", "c_3860", "d_4098")


def with_features(formulas: pd.Series, objective: pd.Series) -> pd.DataFrame:
    """Composition features of ``formulas`` (gaps filled with means) and the objective."""
    features = composition_features(formulas.tolist())
    features = features.fillna(features.mean())
    return pd.concat([features, objective.reset_index(drop=True)], axis=1)


def oer_formula(row: pd.Series) -> str:
    """A loading row written as a formula: ``ni_load=0.1, fe_load=0.9`` -> ``Ni0.1Fe0.9``."""
    parts = [
        f"{column.removesuffix('_load').capitalize()}{amount:g}"
        for column, amount in row.items()
        if amount > 0
    ]
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared", type=Path, help="the shared datasets folder")
    parser.add_argument("out", type=Path, help="where the CSV files go")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    gaps = pd.read_csv(args.shared / "matbench_expt_gap" / "data.csv")
    table = with_features(gaps["composition"], gaps["gap expt"])
    table.to_csv(args.out / "expt_gap_max.csv", index=False)
    print(f"expt_gap_max.csv: {len(table)} rows, {table.shape[1] - 1} features")

    for plate in OER_PLATES:
        frame = pd.read_csv(args.shared / "rohr2020_oer_plates" / f"oer_plate_{plate}.csv")
        loads = frame.drop(columns="overpotential")
        formulas = loads.apply(oer_formula, axis=1)
        table = with_features(formulas, frame["overpotential"])
        name = f"oer_plate_{plate[0]}_composition.csv"
        table.to_csv(args.out / name, index=False)
        print(f"{name}: {len(table)} rows, {table.shape[1] - 1} features")


if __name__ == "__main__":
    main()
