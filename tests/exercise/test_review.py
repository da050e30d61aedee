"""Slide references checked against the lecture, and student answers the graders must diagnose correctly."""

from __future__ import annotations

import types

import numpy as np
import pytest

from fcnet.exercise import EXERCISES
from fcnet.exercise.graders import TESTS
from fcnet.exercise.grading import Fail, short


def _texts(name: str) -> str:
    ex = EXERCISES[name]
    parts = [*ex.claim, ex.demo, *(f.en + f.zh for f in ex.funcs)]
    parts += [t.en + t.zh + " slides " + t.slides for t in TESTS[name]]
    return "\n".join(parts)


def test_batchnorm_cites_slide_141_for_the_algorithm():
    # the lecture's batch-norm algorithm (μ_B, σ²_B, x̂, y = γx̂ + β) is on slide 141; 139-140 only show pictures
    text = _texts("batchnorm")
    assert "slide 140" not in text and "第140页" not in text
    assert "slide 141" in text and "第141页" in text
    assert all("141" in t.slides for t in TESTS["batchnorm"] if t.id in ("slide_claim", "forward", "test_mode"))


def test_dropout_cites_slide_158_for_the_example_vector():
    # [0.2, 0.5, 1.3, 0.8, 1.1] → [0, 0.5, 1.3, 0, 1.1] is on slide 158; the dropout ratio is defined on 157
    text = _texts("dropout")
    assert "157's vector" not in text and "第157页的向量" not in text and "156-157:" not in text
    assert "slide 158" in text and "第158页" in text
    slide_test = TESTS["dropout"][0]
    assert "158" in slide_test.slides and "157" in next(t.slides for t in TESTS["dropout"] if t.id == "rate")


def test_short_says_none_for_none():
    assert short(None) == "None"
    assert "None" in short((None, 1.0)) or "None" in short([None])


def _fail(name: str, test_id: str, **funcs) -> Fail:
    test = next(t for t in TESTS[name] if t.id == test_id)
    with pytest.raises(Fail) as info:
        test.fn(types.SimpleNamespace(**funcs), np.random.default_rng(0))
    return info.value


def test_a_function_returning_none_is_told_it_returned_none():
    f = _fail("clipping", "random", clip_grad_norm=lambda grads, max_norm: None)
    assert f.symptom == "type" and "None" in f.message and "nan" not in f.message


@pytest.mark.parametrize("value", [np.nan, 0.0])
def test_clipping_nan_or_zero_is_not_called_value_clipping(value):
    f = _fail("clipping", "slide_87",
              clip_grad_norm=lambda grads, max_norm: ([g * value for g in grads], 1.0))
    assert f.symptom != "clip_value" and "nan" not in f.message.replace("NaN", "")


def _module(name: str, **override) -> types.SimpleNamespace:
    """The reference solution of ``name`` as a namespace, with some functions replaced."""
    import importlib

    ref = importlib.import_module(f"fcnet.exercise.solutions.{name}")
    return types.SimpleNamespace(**{**{k: v for k, v in vars(ref).items() if callable(v)}, **override})


def _run(name: str, test_id: str, module: types.SimpleNamespace) -> Fail | None:
    test = next(t for t in TESTS[name] if t.id == test_id)
    try:
        with np.errstate(all="ignore"):
            test.fn(module, np.random.default_rng(0))
    except Fail as f:
        return f
    return None


def test_a_tuple_of_the_wrong_length_is_counted():
    f = _fail("clipping", "random", clip_grad_norm=lambda grads, max_norm: (grads, 1.0, 2.0))
    assert f.symptom == "type" and "3 values" in f.message and "array(" not in f.message


def test_an_overflowing_sigmoid_or_tanh_fails_the_edge_cases():
    def naive_sigmoid(x):
        return np.exp(x) / (1.0 + np.exp(x))  # nan for x ≳ 710

    def naive_tanh(x):
        return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))

    ids = {"sigmoid": "slide_83_sigmoid", "tanh": "slide_84_tanh"}
    for name in ("sigmoid", "tanh"):
        assert _run("activations", ids[name], _module("activations")) is None
    for name, fn in (("sigmoid", naive_sigmoid), ("tanh", naive_tanh)):
        f = _run("activations", ids[name], _module("activations", **{name: fn}))
        assert f is not None and f.symptom == "nan", name


def test_relu_gradient_at_zero_is_named():
    f = _run("activations", "slide_85_relu", _module("activations", relu_backward=lambda g, x: g * (x >= 0)))
    assert f is not None and f.symptom == "relu_at_zero" and "x = 0" in f.message


def test_a_float32_forward_is_named_in_gradcheck():
    def f32_forward(w, x):
        s = np.float32(np.dot(w[:-1], x) + w[-1])
        return 1.0 / (1.0 + np.exp(-s))

    f = _run("sigmoid_neuron", "gradcheck", _module("sigmoid_neuron", neuron_forward=f32_forward))
    assert f is not None and f.symptom == "float32" and "float64" in f.message


def test_two_layer_gradcheck_names_missing_gradients():
    ref = _module("two_layer")

    def missing_b2(*args):
        loss, grads = ref.two_layer_loss(*args)
        del grads["b2"]
        return loss, grads

    f = _run("two_layer", "gradcheck", _module("two_layer", two_layer_loss=missing_b2))
    assert f is not None and f.symptom == "type" and "w1, b1, w2, b2" in f.message


def test_an_in_place_forward_is_named_not_blamed_on_backward():
    def inplace_forward(x, gamma, beta, eps=1e-5):
        mean = x.mean(axis=0)
        x -= mean  # right values, but the caller's x is changed
        var = (x**2).mean(axis=0)
        x /= np.sqrt(var + eps)
        return gamma * x + beta, mean, var

    f = _run("batchnorm", "gradcheck", _module("batchnorm", batchnorm_forward=inplace_forward))
    assert f is not None and f.symptom == "inplace" and "in place" in f.message
    assert "disagrees" not in f.message


FORGER = '''import numpy as np

_done = []


def clip_grad_norm(grads, max_norm):
    # the results file is the child's 5th argument: append a passing verdict for every test
    argv = open("/proc/self/cmdline", "rb").read().split(b"\\0")
    results = next(a for a in argv if a.endswith(b"results.jsonl")).decode()
    with open(results, "a") as fh:
        for tid in ("slide_87", "random", "small"):
            fh.write('{"event": "end", "file": 0, "id": "%s", "ok": true, "symptom": "", "message": "", '
                     '"expected": "", "got": "", "title": "t", "slides": "87"}\\n' % tid)
    return [g * 0.0 for g in grads], 0.0
'''


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/cmdline"), reason="needs /proc (Linux)")
def test_a_student_cannot_write_files_to_forge_its_score(tmp_path):
    from fcnet.exercise import Limits, grade

    from .helpers import write

    path = write(tmp_path, "clipping", FORGER)
    rep = grade("clipping", [path], seed=1, limits=Limits(per_test=5.0))[0]
    assert rep.passed == 0 and not rep.ok, rep.results
    assert {r["symptom"] for r in rep.results} == {"forbidden"}


FRAME_WALKER = '''import numpy as np


def clip_grad_norm(grads, max_norm):
    # walk from a traceback up to the grader's frame and call its `emit` with passing verdicts
    try:
        raise ValueError
    except ValueError as e:
        f = e.__traceback__.tb_frame
    while f is not None and "emit" not in f.f_locals:
        f = f.f_back
    for tid in ("slide_87", "random", "small"):
        f.f_locals["emit"](event="end", file=0, id=tid, ok=True, symptom="", message="", expected="", got="",
                           title="t", slides="87")
    return [g * 0.0 for g in grads], 0.0
'''


def test_a_student_cannot_reach_the_graders_frames(tmp_path):
    from fcnet.exercise import Limits, grade

    from .helpers import write

    path = write(tmp_path, "clipping", FRAME_WALKER)
    rep = grade("clipping", [path], seed=1, limits=Limits(per_test=5.0))[0]
    assert rep.passed == 0 and {r["symptom"] for r in rep.results} == {"forbidden"}, rep.results


def test_a_chinese_notebook_grades_and_runs_in_chinese():
    pytest.importorskip("nbformat")
    from fcnet.exercise.grading import set_lang
    from fcnet.exercise.templates import notebook

    set_lang("zh")
    text = notebook(EXERCISES["affine"])
    assert text.count("'--lang', 'zh'") == 2  # the check cell and the run cell
    set_lang("en")
    assert "--lang" not in notebook(EXERCISES["affine"])


def test_half_the_activations_earn_half_the_score():
    def todo(*args, **kwargs):
        raise NotImplementedError

    partial = _module("activations", sigmoid=todo, sigmoid_backward=todo, tanh=todo, tanh_backward=todo)
    verdicts = {}
    for t in TESTS["activations"]:
        try:
            verdicts[t.id] = _run("activations", t.id, partial) is None
        except NotImplementedError:
            verdicts[t.id] = False
    assert verdicts == {"slide_85_relu": True, "slide_86_leaky_relu": True, "slide_83_sigmoid": False,
                        "slide_84_tanh": False}


@pytest.mark.parametrize("extra, words", [
    (["check", "--seed", "-1"], "--seed"),
    (["check", "--timeout", "nan"], "--timeout"),
    (["check", "--timeout", "inf"], "--timeout"),
    (["check", "--memory", "inf"], "--memory"),
    (["check", "--memory", "nan"], "--memory"),
    (["run", "--timeout", "0"], "--timeout"),
    (["run", "--timeout", "nan"], "--timeout"),
    (["run", "--seed", "-1"], "--seed"),
])
def test_bad_limits_and_seeds_are_one_line_exit_2_not_the_students_fault(extra, words, tmp_path, capsys):
    from fcnet.cli.main import main
    from fcnet.exercise import solution_source

    (tmp_path / "clipping.py").write_text(solution_source("clipping"))
    assert main(["exercise", extra[0], "clipping", "--dir", str(tmp_path), *extra[1:]]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_start_into_a_file_says_it_is_a_file(tmp_path, capsys):
    from fcnet.cli.main import main

    (tmp_path / "afile").write_text("x")
    assert main(["exercise", "start", "gates", "--dir", str(tmp_path / "afile")]) == 2
    err = capsys.readouterr().err
    assert "is a file" in err and len(err.strip().splitlines()) == 1


def test_start_into_an_unwritable_folder_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    import fcnet.exercise.templates as templates
    from fcnet.cli.main import main

    def refuse(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(templates, "write_atomic", refuse)
    assert main(["exercise", "start", "gates", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Permission denied" in err and "--dir" in err and len(err.strip().splitlines()) == 1


def test_momentum_with_mu_zero_cites_slide_103():
    # "μ = 0 时等价于梯度下降算法" is on slide 103 (102 shows why momentum works)
    text = _texts("optimizers")
    assert "slide 102" not in text and "第102页" not in text and "slide 103" in text and "第103页" in text
    test = next(t for t in TESTS["optimizers"] if t.id == "slide_momentum_zero")
    assert "103" in test.slides


def test_where_a_student_error_happened_is_said_in_chinese(tmp_path):
    from fcnet.exercise import Limits, grade

    from .helpers import write

    path = write(tmp_path, "clipping", "def clip_grad_norm(grads, max_norm):\n    raise NotImplementedError\n")
    rep = grade("clipping", [path], seed=1, lang="zh", limits=Limits(per_test=5.0))[0]
    assert all("第 2 行" in r["message"] and "line" not in r["message"] for r in rep.results), rep.results


def test_loss_labels_speak_chinese():
    from fcnet.exercise.grading import set_lang

    ref = _module("losses")
    set_lang("zh")
    for test_id, fn in (("ce_random", "softmax_ce"), ("hinge_random", "hinge")):
        wrong = {fn: lambda s, y, _f=getattr(ref, fn): (2 * _f(s, y)[0], _f(s, y)[1])}
        f = _run("losses", test_id, _module("losses", **wrong))
        assert f is not None and "损失" in f.message and " loss" not in f.message, f.message


def test_optimizer_tests_cite_the_slides_that_show_each_rule():
    # page markers of the lecture: gradient descent's problem 92-95 and its box from 99; momentum's
    # v = μv + (1 − μ)g 99-103; the adaptive-gradient idea 108-111; RMSProp 112-114; Adam 116-122
    import inspect

    from fcnet.exercise import graders

    slides = {t.id: t.slides for t in TESTS["optimizers"]}
    assert slides["sgd"] == "92-95, 99" and slides["momentum"] == "99-103"
    assert slides["adagrad"] == "108-111" and slides["rmsprop"] == "112-114"
    assert EXERCISES["optimizers"].slides == "92-122"
    text = _texts("optimizers") + inspect.getsource(graders.optim_momentum)
    assert "slide 101" not in text and "第101页" not in text and "slides 99-103" in text and "第99-103页" in text
