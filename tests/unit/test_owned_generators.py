"""No process-wide random state: models, trainers and estimators own their generators."""

from __future__ import annotations

import threading

import numpy as np

from fcnet import backend


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6))
    return x, (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)


def _weights(clf):
    return [p.data.copy() for p in clf._trainer.model.parameters()]


def test_fits_in_parallel_threads_equal_a_single_fit():
    from fcnet.sklearn import FCNetClassifier

    x, y = _data()

    def make():
        return FCNetClassifier(hidden=[16], dropout=0.3, epochs=8, batch_size=8, random_state=0)

    single = _weights(make().fit(x, y))
    results: list = [None] * 3

    def fit(i):
        results[i] = _weights(make().fit(x, y))

    threads = [threading.Thread(target=fit, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert all(np.array_equal(a, b) for a, b in zip(r, single, strict=True))


def test_training_never_reads_or_swaps_the_default_generator(tmp_path):
    from fcnet.sklearn import FCNetClassifier
    from fcnet.train.recipe import run

    backend.manual_seed(123)
    before = backend.default_generator().bit_generator.state
    x, y = _data()
    FCNetClassifier(hidden=[4], dropout=0.2, epochs=2, random_state=1).fit(x, y)
    run({"data": "digits", "subset": 60, "hidden": [4], "dropout": 0.2, "epochs": 2}, tmp_path / "r",
        progress=False, log=lambda m: None, plots=False)
    assert backend.default_generator().bit_generator.state == before
    import json

    state = json.loads((tmp_path / "r" / "checkpoint" / "state.json").read_text())
    assert "default_rng" not in state and len(state["dropout_rngs"]) == 1
