"""``benchmarks/sklearn_defaults.py``: ``--datasets`` picks the data sets; California housing is read
from scikit-learn's cache (a small fake file in its format here, no network)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets._base import _pkl_filepath

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sklearn_defaults.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("sklearn_defaults", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_california(home: Path, n: int = 40) -> None:
    """scikit-learn's cache of California housing: (n, 9) float64, target first, households in column 6."""
    rng = np.random.default_rng(0)
    cols = rng.uniform(1.0, 5.0, (n, 9))
    cols[:, 0] = 1e5 * (cols[:, 1] + rng.normal(0, 0.1, n))  # the target (dollars), learnable from column 1
    joblib.dump(cols, _pkl_filepath(str(home), "cal_housing.pkz"), compress=6)


def test_california_housing_runs_from_the_cached_file(bench, tmp_path, capsys):
    _fake_california(tmp_path)
    X, y = bench._california(str(tmp_path))
    assert X.shape == (40, 8) and y.shape == (40,)
    bench.main(["--datasets", "california_housing", "--data-home", str(tmp_path), "--markdown"])
    out = capsys.readouterr().out
    for label in ("fcnet", "sklearn ", "sklearn1"):
        assert f"california_housing seed 0 {label}" in out
    # the one-time first use is measured before the timed runs and reported on its own line
    assert out.index("first use in this process: fcnet") < out.index("california_housing seed 0 fcnet")
    assert "First use in this process (one tiny fit each, not in the times below): fcnet" in out
    assert "| california_housing (R²) |" in out
    assert "digits" not in out and "diabetes" not in out


def test_california_housing_missing_is_skipped(bench, tmp_path, capsys):
    bench.main(["--datasets", "california_housing", "--data-home", str(tmp_path)])
    out = capsys.readouterr().out
    assert "california_housing: not on disk" in out and "seed 0" not in out


def test_unknown_dataset_is_refused(bench, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--datasets", "mnist"])
    assert exc.value.code == 2 and "invalid choice: 'mnist'" in capsys.readouterr().err


def test_libraries_and_fcnet_params_pick_what_runs(bench, tmp_path, capsys, monkeypatch):
    _fake_california(tmp_path)
    seen = []
    original = bench.FCNetRegressor.fit

    def spy(self, X, y, sample_weight=None):
        seen.append((self.hidden, self.init))
        return original(self, X, y, sample_weight)

    monkeypatch.setattr(bench.FCNetRegressor, "fit", spy)
    bench.main(["--datasets", "california_housing", "--data-home", str(tmp_path), "--libraries", "fcnet",
                "--fcnet-params", '{"hidden": [7], "init": "xavier", "max_iter": 3}', "--markdown"])
    out = capsys.readouterr().out
    assert "seed 0 fcnet" in out and "seed 0 sklearn" not in out
    assert seen == [((7,), "xavier")] * 5  # the five folds, with the parameters given (a list made a tuple)
    assert out.rstrip().endswith("| — | — | 3 | — |")  # the libraries not run are dashes, epochs max_iter


def test_fcnet_params_must_be_an_object(bench, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--fcnet-params", "[128]"])
    assert exc.value.code == 2 and "--fcnet-params must be a JSON object" in capsys.readouterr().err


def test_more_data_sets_run_only_when_named(bench, capsys):
    assert set(bench.EXTRA).isdisjoint(bench.DATASETS)  # the default run stays the four of the comparison
    bench.main(["--datasets", "iris", "--libraries", "fcnet", "--markdown"])
    out = capsys.readouterr().out
    assert "iris               seed 0 fcnet" in out and "| iris (accuracy) |" in out
