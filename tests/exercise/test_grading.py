"""Every reference solution scores 100%; every catalogued mistake fails, naming its symptom.

One child process per exercise grades the reference and all its mistakes (the sandbox grades many
files in one run).
"""

from __future__ import annotations

import pytest

from fcnet.exercise import EXERCISES, Limits, grade

from .helpers import student_files


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_passes_and_every_mistake_is_caught(name, tmp_path):
    paths = student_files(name, tmp_path)
    reports = grade(name, paths, seed=20261206, limits=Limits(per_test=20.0))
    ref = reports[0]
    assert ref.ok, [(r["id"], r["message"]) for r in ref.results if not r["ok"]]
    assert ref.passed == len(ref.results) > 0
    for mistake, rep in zip(EXERCISES[name].mistakes, reports[1:], strict=True):
        failed = [r for r in rep.results if not r["ok"]]
        assert failed, f"{name}/{mistake.name} scored 100%"
        named = [r for r in failed if r["symptom"] == mistake.symptom]
        assert named, f"{name}/{mistake.name}: symptoms {[r['symptom'] for r in failed]}, want {mistake.symptom}"
        assert all(r["message"] and r["slides"] for r in named)
        assert all("Traceback" not in r["message"] for r in failed)
