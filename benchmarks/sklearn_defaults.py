"""FCNetClassifier/FCNetRegressor against scikit-learn's MLPClassifier/MLPRegressor, all at their defaults.

Each library first fits once on 40 rows, timed on its own line ("first use": for fcnet, loading Numba's
compiled kernels, paid once per process); then each data set: ``make_pipeline(StandardScaler(),
estimator(random_state=seed))`` scored by 5-fold
``cross_validate`` (scikit-learn's own unshuffled folds), the two estimators run one after the
other for each seed in one process, warnings silenced.  California housing is used only when
scikit-learn's copy is already on disk (it is a download; ``--data-home`` says where scikit-learn's
cache is, ``sklearn.datasets.get_data_home()`` by default).

    python benchmarks/sklearn_defaults.py [--datasets diabetes ...] [--seeds 0 1 2] [--markdown]
    (also --datasets iris wine friedman1, which only run when named)
        [--libraries fcnet sklearn sklearn1] [--fcnet-params '{"hidden": [128], "init": "xavier"}']

``--libraries`` runs only some of the three (scores do not depend on the others); ``--fcnet-params`` gives
fcnet's estimator parameters other than its defaults (a JSON object; lists become tuples), to compare
defaults old and new.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext

import numpy as np
from sklearn.model_selection import cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from fcnet.sklearn import FCNetClassifier, FCNetRegressor
from sklearn import datasets


def _california(data_home: str | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """scikit-learn's cached copy of California housing, or None when it is not on disk."""
    try:
        return datasets.fetch_california_housing(data_home=data_home, return_X_y=True, download_if_missing=False)
    except OSError:
        return None


# name -> (loader, fcnet estimator, scikit-learn estimator)
DATASETS: dict[str, tuple[Callable[[str | None], tuple[np.ndarray, np.ndarray] | None], type, type]] = {
    "digits": (lambda home: datasets.load_digits(return_X_y=True), FCNetClassifier, MLPClassifier),
    "breast_cancer": (lambda home: datasets.load_breast_cancer(return_X_y=True), FCNetClassifier, MLPClassifier),
    "diabetes": (lambda home: datasets.load_diabetes(return_X_y=True), FCNetRegressor, MLPRegressor),
    "california_housing": (_california, FCNetRegressor, MLPRegressor),
}
# more data sets, run only when named: scikit-learn's other small bundled ones and Friedman's regression #1
EXTRA: dict[str, tuple[Callable[[str | None], tuple[np.ndarray, np.ndarray] | None], type, type]] = {
    "iris": (lambda home: datasets.load_iris(return_X_y=True), FCNetClassifier, MLPClassifier),
    "wine": (lambda home: datasets.load_wine(return_X_y=True), FCNetClassifier, MLPClassifier),
    "friedman1": (lambda home: datasets.make_friedman1(n_samples=1000, random_state=0), FCNetRegressor, MLPRegressor),
}


LIBRARIES = ("fcnet", "sklearn", "sklearn1")


def _first_use() -> dict[str, float]:
    """Seconds of each library's first fit in this process, on 40 rows for 2 epochs (imports excluded).

    fcnet's is mostly Numba's: its compiled kernels are loaded from the disk cache, and Numba sets up
    its CPU target, on the first call.  Paid once per process, whatever is fitted after it; the timed
    runs below come after it, and the report gives it on its own line.
    """
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)), np.arange(40) % 2
    out = {}
    for label, cls in (("fcnet", FCNetClassifier), ("sklearn", MLPClassifier)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            cls(max_iter=2, random_state=0).fit(X, y)
            out[label] = time.perf_counter() - t0
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", choices=[*DATASETS, *EXTRA], default=list(DATASETS),
                    help="data sets to run (default: the first four; california_housing only when on disk)")
    ap.add_argument("--data-home", default=None, help="scikit-learn's data cache (default: its get_data_home())")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--libraries", nargs="+", choices=LIBRARIES, default=list(LIBRARIES),
                    help="which to run (default: all three)")
    ap.add_argument("--fcnet-params", type=json.loads, default={},
                    help="fcnet estimator parameters as a JSON object, e.g. '{\"hidden\": [128]}'")
    args = ap.parse_args(argv)
    if not isinstance(args.fcnet_params, dict):
        ap.error("--fcnet-params must be a JSON object, e.g. '{\"hidden\": [128]}'")
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in args.fcnet_params.items()}
    sets: list[tuple[str, tuple[np.ndarray, np.ndarray], type, type]] = []
    for name in args.datasets:
        load, ours, theirs = {**DATASETS, **EXTRA}[name]
        data = load(args.data_home)
        if data is None:
            print(f"{name}: not on disk (scikit-learn downloads it); skipped")
            continue
        sets.append((name, data, ours, theirs))
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    first = _first_use()
    print(f"first use in this process: fcnet {first['fcnet']:.2f} s, scikit-learn {first['sklearn']:.2f} s "
          "(one tiny fit each, before the timed runs)", flush=True)
    rows = []
    for name, (X, y), ours, theirs in sets:
        res: dict[str, list[tuple[float, float, float]]] = {label: [] for label in LIBRARIES}
        for seed in args.seeds:
            for label, cls in (("fcnet", ours), ("sklearn", theirs), ("sklearn1", theirs)):
                if label not in args.libraries:
                    continue
                kw = params if label == "fcnet" else {}
                # sklearn1: MLP with one BLAS thread, as fcnet uses for matrices this small
                limit = threadpool_limits(limits=1, user_api="blas") if label == "sklearn1" else nullcontext()
                with warnings.catch_warnings(), limit:
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    cv = cross_validate(make_pipeline(StandardScaler(), cls(random_state=seed, **kw)), X, y, cv=5,
                                        return_estimator=True)
                    secs = time.perf_counter() - t0
                iters = float(np.mean([e[-1].n_iter_ for e in cv["estimator"]]))
                res[label].append((float(cv["test_score"].mean()), secs, iters))
                print(f"{name:18s} seed {seed} {label:8s} score {res[label][-1][0]:.4f}  {secs:7.2f} s  "
                      f"epochs {iters:.0f}", flush=True)
        rows.append((name, res))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if args.markdown:
        print(f"\nFirst use in this process (one tiny fit each, not in the times below): fcnet {first['fcnet']:.2f} s, "
              f"scikit-learn {first['sklearn']:.2f} s.")
        metric = {"digits": "accuracy", "breast_cancer": "accuracy", "iris": "accuracy", "wine": "accuracy"}
        print("\n| data set (5-fold CV score) | fcnet score | scikit-learn score | fcnet s | scikit-learn s "
              "| scikit-learn s, 1 BLAS thread | fcnet epochs | scikit-learn epochs |")
        print("|---|---|---|---|---|---|---|---|")
        def cell(r: list[tuple[float, float, float]], col: int, fmt: str, total: bool = False) -> str:
            if not r:
                return "—"
            a = np.array(r)[:, col]
            return format(a.sum() if total else a.mean(), fmt)

        for name, res in rows:
            f, s, s1 = res["fcnet"], res["sklearn"], res["sklearn1"]
            print(f"| {name} ({metric.get(name, 'R²')}) | {cell(f, 0, '.4f')} | {cell(s, 0, '.4f')} | "
                  f"{cell(f, 1, '.1f', True)} | {cell(s, 1, '.1f', True)} | {cell(s1, 1, '.1f', True)} | "
                  f"{cell(f, 2, '.0f')} | {cell(s, 2, '.0f')} |")


if __name__ == "__main__":
    main()
