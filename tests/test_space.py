import warnings

import numpy as np
import pandas as pd
import pytest

from discovery import CandidatePool, PoolError

FRAME = pd.DataFrame(
    {
        "name": ["a", "b", "c", "d"],
        "temperature": [300.0, 350.0, 400.0, 450.0],
        "solvent": ["water", "ethanol", "water", "toluene"],
        "yield": [0.1, 0.5, np.nan, 0.9],
    }
)


def test_features_are_encoded_and_scaled_over_the_whole_pool():
    pool = CandidatePool.from_frame(FRAME, id_column="name", objective="yield")
    assert list(pool.ids) == ["a", "b", "c", "d"]
    assert pool.feature_names == [
        "temperature",
        "solvent=ethanol",
        "solvent=toluene",
        "solvent=water",
    ]
    np.testing.assert_allclose(pool.features[:, 0], [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_array_equal(pool.features[:, 3], [1, 0, 1, 0])
    assert pool.features.min() == 0 and pool.features.max() == 1


def test_candidate_carries_its_original_parameters():
    pool = CandidatePool.from_frame(FRAME, id_column="name", objective="yield")
    candidate = pool.candidate(pool.index_of("b"))
    assert candidate.id == "b"
    assert candidate.parameters == {"temperature": 350.0, "solvent": "ethanol"}


def test_missing_objective_column_is_named():
    with pytest.raises(PoolError, match="objective 'toughness' not in the columns"):
        CandidatePool.from_frame(FRAME, objective="toughness")


def test_nan_in_features_is_an_error_naming_the_column():
    frame = FRAME.assign(temperature=[300.0, np.nan, 400.0, 450.0])
    with pytest.raises(
        PoolError, match=r"missing feature values \(NaN\) in 'temperature' \(1 rows\)"
    ):
        CandidatePool.from_frame(frame, id_column="name", objective="yield")


def test_imputation_fills_missing_features_when_asked():
    frame = FRAME.assign(temperature=[300.0, np.nan, 400.0, 500.0])
    pool = CandidatePool.from_frame(frame, id_column="name", objective="yield", impute="mean")
    assert pool.raw_features[1, 0] == pytest.approx(400.0)


def test_empty_pool_is_an_error():
    with pytest.raises(PoolError, match="empty"):
        CandidatePool.from_frame(FRAME.iloc[:0], objective="yield")


def test_duplicate_ids_are_an_error():
    frame = FRAME.assign(name=["a", "a", "c", "d"])
    with pytest.raises(PoolError, match="duplicate ids: \\['a'\\]"):
        CandidatePool.from_frame(frame, id_column="name", objective="yield")


def test_duplicate_feature_rows_are_reported():
    frame = pd.DataFrame({"x": [1.0, 1.0, 2.0], "y": [0.0, 0.1, 0.2]})
    with pytest.warns(UserWarning, match="2 candidates share their feature values"):
        CandidatePool.from_frame(frame, objective="y")


def test_missing_csv_file_is_named(tmp_path):
    with pytest.raises(PoolError, match="file not found"):
        CandidatePool.from_csv(tmp_path / "pool.csv")


def test_fingerprint_identifies_ids_and_features():
    pool = CandidatePool.from_frame(FRAME, id_column="name", objective="yield")
    same = CandidatePool.from_frame(FRAME.copy(), id_column="name", objective="yield")
    other = CandidatePool.from_frame(
        FRAME.assign(temperature=[300.0, 350.0, 400.0, 451.0]), id_column="name", objective="yield"
    )
    assert pool.fingerprint() == same.fingerprint() != other.fingerprint()


def test_designs_outside_the_pool_are_encoded_on_the_pool_scale():
    pool = CandidatePool.from_frame(FRAME, id_column="name", objective="yield")
    inside = pool.encode(FRAME.iloc[[1, 3]])
    np.testing.assert_allclose(inside, pool.features[[1, 3]])
    outside = pool.encode(pd.DataFrame({"temperature": [500.0], "solvent": ["ethanol"]}))
    np.testing.assert_allclose(outside, [[4 / 3, 1, 0, 0]])
    with pytest.raises(PoolError, match=r"'solvent' value\(s\) \['acetone'\] are not among"):
        pool.encode(pd.DataFrame({"temperature": [300.0], "solvent": ["acetone"]}))
    with pytest.raises(PoolError, match=r"parameters \['solvent'\] missing"):
        pool.encode(pd.DataFrame({"temperature": [300.0]}))


def test_infinite_features_and_repeated_names_are_errors_naming_them():
    with pytest.raises(PoolError, match=r"infinite feature values in \['x'\]"):
        CandidatePool.from_frame(pd.DataFrame({"x": [1.0, np.inf, 3.0]}))
    with pytest.raises(PoolError, match=r"features named more than once: \['x'\]"):
        CandidatePool.from_frame(pd.DataFrame({"x": [1, 2, 3]}), features=["x", "x"])
    with pytest.raises(PoolError, match=r"column names appear more than once: \['a'\]"):
        CandidatePool.from_frame(pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"]))


def test_ids_read_from_a_csv_keep_their_leading_zeros(tmp_path):
    table = tmp_path / "pool.csv"
    table.write_text("id,x\n007,0.1\n008,0.2\n9,0.3\n")
    pool = CandidatePool.from_csv(table, id_column="id")
    assert list(pool.ids) == ["007", "008", "9"] and "007" in pool


@pytest.mark.parametrize("value", [np.inf, "hot"])
def test_a_design_outside_the_pool_needs_finite_numbers(value):
    pool = CandidatePool.from_frame(pd.DataFrame({"t": [300.0, 310.0], "s": ["a", "b"]}))
    with pytest.raises(PoolError, match="'t' of a design outside the pool must be a finite"):
        pool.encode(pd.DataFrame({"t": [value], "s": ["a"]}))


def test_the_row_index_written_by_to_csv_is_not_a_feature(tmp_path):
    table = tmp_path / "sorted.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.uniform(size=8), "z": rng.uniform(size=8)})
    frame.assign(y=rng.normal(size=8)).sort_values("y").reset_index(drop=True).to_csv(table)
    with pytest.warns(UserWarning, match="column 'Unnamed: 0' has no header .* features="):
        pool = CandidatePool.from_csv(table, objective="y")
    assert pool.feature_names == ["x", "z"] and pool.options["features"] == ["x", "z"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        named = CandidatePool.from_csv(table, objective="y", features=["Unnamed: 0", "x"])
    assert named.feature_names == ["Unnamed: 0", "x"]


@pytest.mark.parametrize(
    "build",
    [
        lambda path: CandidatePool.from_csv(path, id_column="id"),
        lambda path: CandidatePool.from_frame(
            pd.DataFrame({"id": [1, None, 3], "x": [1.0, 2.0, 3.0]}), id_column="id"
        ),
        lambda path: CandidatePool.from_frame(
            pd.DataFrame({"id": ["a", None, "c"], "x": [1.0, 2.0, 3.0]}), id_column="id"
        ),
    ],
)
def test_a_missing_id_is_refused_naming_its_row(tmp_path, build):
    table = tmp_path / "pool.csv"
    table.write_text("id,x\nA,1\n,2\nC,3\n")
    with pytest.raises(PoolError, match=r"id_column 'id' has no id in rows \[1\]") as error:
        build(table)
    assert "\n" not in str(error.value)
    pool = CandidatePool.from_frame(
        pd.DataFrame({"id": [1, 2, 3], "x": [1.0, 2.0, 3.0]}), id_column="id"
    )
    assert list(pool.ids) == ["1", "2", "3"]


def test_a_text_feature_without_any_value_is_named_when_imputing():
    frame = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0], "notes": pd.Series([None] * 3, dtype=object), "s": ["a", "b", "a"]}
    )
    with pytest.raises(PoolError, match=r"text feature column\(s\) \['notes'\] have no value"):
        CandidatePool.from_frame(frame, impute="most_frequent")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('x,y\n"1,5",1\n"2,5",2\n"3,0",3\n', "'x' holds numbers written as text .*'1,5'"),
        ("x,y\n12 %,1\n15 %,2\n20 %,3\n", "'x' holds numbers written as text .*'12 %'"),
        ("x,y\n0.1,1\n0.2,2\nn.d.,3\n0.4,4\n", "'x' holds numbers .*not a number: 'n.d.'"),
        ("a;b;c\n1;2;3\n4;5;6\n", "'a;b;c' holds numbers written as text .*sep="),
        (
            "name,x\n" + "".join(f"cmpd-{i},{i / 30}\n" for i in range(30)),
            "'name' has 30 distinct values in 30 rows .*exclude=\\['name'\\]",
        ),
    ],
)
def test_text_columns_that_one_hot_encoding_would_spoil_are_warned_of(tmp_path, text, message):
    table = tmp_path / "pool.csv"
    table.write_text(text)
    with pytest.warns(UserWarning, match=message):
        pool = CandidatePool.from_csv(table)
    assert pool.categorical_columns  # still encoded as before: only the warning is new


def test_ordinary_categories_and_labels_are_not_warned_of():
    solvents = pd.DataFrame(
        {"t": np.arange(40.0), "solvent": ["water", "ethanol", "toluene", "DMF"] * 10}
    )
    labels = pd.DataFrame({"t": [1.0, 2.0, 3.0], "code": pd.Categorical(["101", "205", "307"])})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CandidatePool.from_frame(FRAME, id_column="name", objective="yield")
        CandidatePool.from_frame(solvents)
        CandidatePool.from_frame(labels)


def test_a_design_outside_the_pool_is_encoded_in_the_pools_feature_order():
    """With a text column before a number, a told design's features came out in the
    parameters' order (solvent, T) where the pool's are (T, solvent=...): legacy
    measurements trained the models on scrambled features."""
    frame = pd.DataFrame({"solvent": ["water", "THF", "water", "THF"], "T": [20.0, 40, 60, 80]})
    pool = CandidatePool.from_frame(frame)
    for row in range(4):
        own = pd.DataFrame([pool.candidate(row).parameters])
        np.testing.assert_allclose(pool.encode(own)[0], pool.features[row])


def test_a_number_column_named_like_a_category_keeps_its_values_when_encoding():
    frame = pd.DataFrame({"k=z": [1.0, 2.0, 3.0, 4.0], "k": ["p", "q", "p", "q"]})
    pool = CandidatePool.from_frame(frame)
    for row in range(4):
        own = pd.DataFrame([pool.candidate(row).parameters])
        np.testing.assert_allclose(pool.encode(own)[0], pool.features[row])


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"a": ["b=c", "x", "x"], "a=b": ["c", "d", "e"]}),
        pd.DataFrame({"a": ["b", "x", "x"], "a=b": [1.0, 2.0, 3.0]}),
    ],
)
def test_features_that_would_share_a_name_are_refused(frame):
    """Two features named "a=b=c" (or "a=b"): a design told from outside the pool put one
    column's values in both places."""
    with pytest.raises(PoolError, match=r"two features would both be named \['a=b"):
        CandidatePool.from_frame(frame)


@pytest.mark.parametrize("gap", [0.0, np.nan])
def test_a_feature_wider_than_a_float_holds_is_refused(gap):
    """A column from -1e308 to 1e308 was scaled by a range of inf: every candidate's
    value became 0 and the model never saw the feature."""
    frame = pd.DataFrame({"x": [-1e308, gap, 1e308, 5.0], "t": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(PoolError, match=r"\['x'\] span a range wider than a float holds"):
        CandidatePool.from_frame(frame, impute="mean")


def test_a_comparison_on_a_text_column_is_refused_by_name():
    from discovery.constraints import Exclusion

    pool = CandidatePool.from_frame(
        pd.DataFrame({"solvent": ["water", "THF", "DMF"], "T": [50, 120, 80]})
    )
    with pytest.raises(PoolError, match=r"compares 'solvent' with a number.*holds text"):
        pool.without(Exclusion({"solvent": (">", 100)}))
    assert len(pool.without(Exclusion({"solvent": ["water"], "T": ("<", 60)}))) == 2
