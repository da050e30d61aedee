"""The catalogue, the student files it writes, and the comparisons that name a mistake (in-process, fast)."""

from __future__ import annotations

import ast
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fcnet.exercise import EXERCISES, SECTIONS, solution_source
from fcnet.exercise.graders import TESTS
from fcnet.exercise.grading import Alt, Fail, close, set_lang
from fcnet.exercise.templates import notebook, student_module

from .helpers import with_mistake

ISSUE_MISTAKES = {  # the mistakes the issue names, each caught with its symptom
    ("affine", "transpose"), ("two_layer", "transpose"), ("sigmoid_neuron", "sign"), ("losses", "missing_1_over_n"),
    ("two_layer", "missing_1_over_n"), ("sigmoid_neuron", "sigma_at_output"), ("activations", "sigma_at_output"),
    ("optimizers", "bias_correction_off_by_one"), ("dropout", "inverted_scaling_at_test"),
    ("batchnorm", "bn_unbiased_var"),
}


def test_every_exercise_has_tests_sections_and_mistakes():
    assert set(TESTS) == set(EXERCISES)
    for name, ex in EXERCISES.items():
        ids = [t.id for t in TESTS[name]]
        assert len(ids) == len(set(ids)), name
        assert ex.section in SECTIONS
        assert len(ex.mistakes) >= 3, name
        assert any("gradcheck" in t.id or "rng" in t.id or "slide" in t.id for t in TESTS[name]), name
    assert {(n, m.symptom) for n, e in EXERCISES.items() for m in e.mistakes} >= ISSUE_MISTAKES


def test_the_issue_exercises_are_all_there():
    assert set(EXERCISES) >= {"sigmoid_neuron", "gates", "affine", "activations", "losses", "two_layer", "optimizers",
                              "init", "batchnorm", "dropout", "clipping"}


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_mistake_edits_apply_once_and_change_the_code(name):
    ref = solution_source(name)
    for m in EXERCISES[name].mistakes:
        src = with_mistake(name, m)
        assert src != ref
        ast.parse(src)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_student_file_has_every_function_unimplemented(name, lang):
    set_lang(lang)
    text = student_module(EXERCISES[name])
    tree = ast.parse(text)
    funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    ref = {f.name for f in ast.parse(solution_source(name)).body if isinstance(f, ast.FunctionDef)}
    assert set(funcs) == ref
    for f in funcs.values():
        assert ast.get_docstring(f)
        assert isinstance(f.body[-1], ast.Raise) and "NotImplementedError" in ast.unparse(f.body[-1])
    assert EXERCISES[name].slides in text
    assert ("第" in text) == (lang == "zh")
    ns: dict = {}
    exec(compile(text, name, "exec"), ns)  # the template imports and defines, nothing more


def test_notebook_is_valid_and_uses_the_student_file():
    nbformat = pytest.importorskip("nbformat")
    set_lang("zh")
    nb = nbformat.reads(notebook(EXERCISES["dropout"]), as_version=4)
    nbformat.validate(nb)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import dropout as student" in code and "'check', 'dropout'" in code and "'run', 'dropout'" in code
    assert "随机失活" in json.dumps(nb.cells[0].source, ensure_ascii=False)


# --- close(): every generic symptom, each in the direction it names --------------------------------------------

def _symptom(got, want, **kw):
    try:
        close("x", got, want, **kw)
    except Fail as f:
        return f.symptom, f.message
    return None, ""


def test_close_names_the_generic_mistakes():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4))
    sq = rng.standard_normal((4, 4))
    assert _symptom(w, w) == (None, "")
    assert _symptom(-w, w)[0] == "sign"
    assert _symptom(w.T, w)[0] == "transpose"
    assert _symptom(sq.T, sq)[0] == "transpose"
    assert _symptom(w * 5, w, n=5)[0] == "missing_1_over_n"
    assert _symptom(w / 5, w, n=5)[0] == "extra_1_over_n"
    assert _symptom(w * 3, w, n=5)[0] == "scale"
    assert _symptom(w[:2], w)[0] == "shape"
    assert _symptom(np.full_like(w, np.nan), w)[0] == "nan"
    assert _symptom(w + 1, w)[0] == "values"
    assert _symptom("text", w)[0] == "type"
    assert _symptom(w + 1, w, alts=[Alt("mine", w + 1, "my symptom", "我的")]) == ("mine", "x: my symptom")


def test_close_speaks_chinese():
    set_lang("zh")
    assert "符号错误" in _symptom(-np.ones(3), np.ones(3))[1]


def test_docs_list_every_exercise_and_mistake():
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
    for name, ex in EXERCISES.items():
        assert f"`{name}`" in text
        for m in ex.mistakes:
            assert f"(`{m.name}`) | `{m.symptom}` |" in text, (name, m.name)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_notebook_demo_runs_on_the_reference(name, tmp_path, capsys):
    import importlib.util

    path = tmp_path / f"{name}.py"
    path.write_text(solution_source(name))
    spec = importlib.util.spec_from_file_location(name, path)
    student = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(student)
    exec(EXERCISES[name].demo, {"np": np, "student": student})
    assert capsys.readouterr().out.strip()


finite = st.floats(-1e3, 1e3, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=finite),
       st.integers(2, 64))
def test_close_names_sign_and_missing_1_over_n_for_any_array(w, n):
    for got, symptom in ((-w, "sign"), (w * n, "missing_1_over_n"), (w / n, "extra_1_over_n")):
        with pytest.raises(Fail) as info:
            close("x", got, w, n=n)
        assert info.value.symptom == symptom
    close("x", w.copy(), w, n=n)
