"""Hostile student files: each gets a clear verdict within the limits, never a traceback from fcnet."""

from __future__ import annotations

import time

import pytest

from fcnet.exercise import Limits, grade
from fcnet.exercise.grading import set_lang

from .helpers import write

HOSTILE = {  # file body → the symptom every test must report
    "loop": ("import numpy as np\n\ndef clip_grad_norm(grads, max_norm):\n    while True:\n        pass\n", "timeout"),
    "import_loop": ("while True:\n    pass\n", "timeout"),
    "crash": ("raise RuntimeError('boom')\n", "error"),
    "syntax": ("def clip_grad_norm(grads, max_norm)\n    return grads\n", "error"),
    "exit": ("def clip_grad_norm(grads, max_norm):\n    exit(3)\n", "exit"),
    "import_os": ("import os\n\ndef clip_grad_norm(grads, max_norm):\n    os.system('echo hacked')\n", "forbidden"),
    "dunder_import": ("def clip_grad_norm(grads, max_norm):\n    __import__('subprocess').run(['true'])\n",
                      "forbidden"),
    "os_via_random": ("import random\n\ndef clip_grad_norm(grads, max_norm):\n    random._os.system('echo hacked')\n",
                      "forbidden"),
    "fcnet_import": ("from fcnet.optim.clip import clip_grad_norm as _c\n", "forbidden"),
    "memory": ("import numpy as np\n\ndef clip_grad_norm(grads, max_norm):\n    return np.ones((1 << 38,)), 0.0\n",
               "memory"),
    "list_memory": ("def clip_grad_norm(grads, max_norm):\n    return [0.0] * (1 << 36), 0.0\n", "memory"),
    "missing": ("import numpy as np\n", "missing"),
    "patch_numpy": ("import numpy as np\n\ndef clip_grad_norm(grads, max_norm):\n"
                    "    np.allclose = lambda *a, **k: True\n    return grads, 0.0\n", "forbidden"),
    "patch_at_load": ("import numpy as np\nnp.isfinite = lambda a: True\n", "forbidden"),
}


def test_hostile_files_get_a_verdict_each(tmp_path):
    paths = [write(tmp_path, k, body) for k, (body, _) in HOSTILE.items()]
    t = time.perf_counter()
    reports = grade("clipping", paths, seed=1, limits=Limits(per_test=1.0, startup=10.0))
    assert time.perf_counter() - t < 10.0 + len(paths) * 4 * 1.0
    for (key, (_, symptom)), rep in zip(HOSTILE.items(), reports, strict=True):
        assert not rep.ok and rep.passed == 0, key
        assert {r["symptom"] for r in rep.results} == {symptom}, (key, rep.results)
        for r in rep.results:
            assert r["message"] and "Traceback" not in r["message"] and "fcnet/exercise" not in r["message"], r
    assert "hacked" not in "".join(r.output for r in reports)


def test_huge_output_is_capped_and_reported(tmp_path):
    body = ("import numpy as np\n\ndef clip_grad_norm(grads, max_norm):\n    for _ in range(100):\n"
            "        print('x' * 100000)\n    return [g.copy() for g in grads], float(np.sqrt(sum((g * g).sum() "
            "for g in grads)))\n")
    path = write(tmp_path, "clipping", body)
    rep = grade("clipping", [path], seed=1, limits=Limits(per_test=5.0, output=200_000, startup=10.0))[0]
    assert rep.output_bytes <= 200_000
    assert len(rep.output) <= 4000
    assert not rep.ok
    assert "output" in {r["symptom"] for r in rep.results}


def test_crash_verdict_in_chinese(tmp_path):
    set_lang("en")
    path = write(tmp_path, "clipping", "def clip_grad_norm(grads, max_norm):\n    raise NotImplementedError\n")
    rep = grade("clipping", [path], seed=1, lang="zh", limits=Limits(per_test=5.0))[0]
    assert all(r["symptom"] == "todo" and "尚未完成" in r["message"] for r in rep.results)
    assert "第87页" in rep.results[0]["title"]


@pytest.mark.parametrize("answer", ["slide"])
def test_hard_coding_the_slide_numbers_fails_the_hidden_cases(tmp_path, answer):
    body = ("import numpy as np\n\ndef neuron_forward(w, x):\n    return 0.7310585786300049\n\n"
            "def neuron_backward(w, x):\n    return (np.array([-0.19661193324148185, -0.3932238664829637, "
            "0.19661193324148185]), np.array([0.3932238664829637, -0.5898357997244456]))\n")
    path = write(tmp_path, "sigmoid_neuron", body)
    rep = grade("sigmoid_neuron", [path], limits=Limits(per_test=5.0))[0]
    by_id = {r["id"]: r for r in rep.results}
    assert by_id["slide_forward"]["ok"] and by_id["slide_backward"]["ok"]
    assert not by_id["random"]["ok"] and not rep.ok


def test_a_crash_while_loading_one_file_does_not_blame_the_others(tmp_path):
    """A file that swallows the per-test alarm is stopped by the parent's wall clock; only it is blamed."""
    good = write(tmp_path, "good", "import numpy as np\n\ndef clip_grad_norm(grads, max_norm):\n"
                 "    raise NotImplementedError\n")
    bad = write(tmp_path, "bad", "while True:\n    try:\n        while True:\n            pass\n"
                "    except BaseException:\n        pass\n")
    after = write(tmp_path, "after", "import numpy as np\n")
    reports = grade("clipping", [good, bad, after], seed=1, limits=Limits(per_test=0.5, startup=2.0))
    assert {r["symptom"] for r in reports[0].results} == {"todo"}
    assert {r["symptom"] for r in reports[1].results} == {"timeout"}
    assert {r["symptom"] for r in reports[2].results} == {"not_run"}


def test_a_numpy_py_beside_the_student_file_shadows_nothing(tmp_path, monkeypatch):
    write(tmp_path, "numpy", "raise SystemExit('shadowed')\n")
    path = write(tmp_path, "clipping", "import numpy as np\n\ndef clip_grad_norm(grads, max_norm):\n"
                 "    raise NotImplementedError\n")
    monkeypatch.chdir(tmp_path)
    rep = grade("clipping", [path], seed=1, limits=Limits(per_test=5.0))[0]
    assert {r["symptom"] for r in rep.results} == {"todo"}
