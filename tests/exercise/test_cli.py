"""``fcnet exercise`` end to end, through a subprocess: list, start, check, run, --lang zh and every error path."""

from __future__ import annotations

import subprocess

import pytest

from fcnet.exercise import EXERCISES, solution_source
from tests.conftest import fcnet_cmd

from .helpers import with_mistake


def fcnet(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*fcnet_cmd(), *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_list_by_slide_in_both_languages():
    res = fcnet("exercise", "list")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[-1].startswith("Sections") and "optimization" in lines[-1]
    order = [line.split()[0] for line in lines[1:-1]]
    assert sorted(order) == sorted(EXERCISES)
    assert order.index("losses") < order.index("sigmoid_neuron") < order.index("optimizers") < order.index("dropout")
    zh = fcnet("exercise", "list", "--lang", "zh")
    assert zh.returncode == 0 and "练习" in zh.stdout and "第 70-77 页" in zh.stdout


def test_start_check_cycle(tmp_path):
    res = fcnet("exercise", "start", "gates", "--dir", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "gates.py").is_file()
    # an untouched file: every test fails as not written yet, exit 1
    res = fcnet("exercise", "check", "gates", "--dir", str(tmp_path))
    assert res.returncode == 1
    assert "NotImplementedError" in res.stdout and "score: 0/3 (0%)" in res.stdout
    assert res.stdout.count("✘") == 3 and "reread slide(s)" in res.stdout
    # starting again would overwrite the student's work: refused
    again = fcnet("exercise", "start", "gates", "--dir", str(tmp_path))
    assert again.returncode == 2 and "--force" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    # the reference solution: 100%, exit 0
    (tmp_path / "gates.py").write_text(solution_source("gates"))
    res = fcnet("exercise", "check", "gates", "--dir", str(tmp_path), "--seed", "3")
    assert res.returncode == 0, res.stdout
    assert res.stdout.count("✔") == 3 and "score: 3/3 (100%)" in res.stdout and "seed 3" in res.stdout


def test_check_names_the_mistake_with_expected_got_and_slide_in_chinese(tmp_path):
    mistake = next(m for m in EXERCISES["batchnorm"].mistakes if m.symptom == "bn_unbiased_var")
    (tmp_path / "batchnorm.py").write_text(with_mistake("batchnorm", mistake))
    res = fcnet("exercise", "check", "batchnorm", "--dir", str(tmp_path), "--lang", "zh")
    assert res.returncode == 1
    assert "N − 1" in res.stdout and "应为" in res.stdout and "实际" in res.stdout and "请重读第" in res.stdout
    assert "得分：" in res.stdout and "Traceback" not in res.stdout + res.stderr


def test_start_in_chinese_writes_chinese_docstrings_and_a_notebook(tmp_path):
    pytest.importorskip("nbformat")
    res = fcnet("exercise", "start", "optimizers", "--dir", str(tmp_path / "new"), "--lang", "zh")
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "new" / "optimizers.py").read_text(encoding="utf-8")
    assert "偏差修正" in text and "raise NotImplementedError" in text
    assert (tmp_path / "new" / "optimizers.ipynb").is_file()


@pytest.mark.parametrize("args, words", [
    (["exercise", "check", "nonsense"], "unknown exercise"),
    (["exercise", "check", "dropout", "--dir", "/nonexistent-fcnet-dir"], "fcnet exercise start dropout"),
    (["exercise", "run", "gates"], "has no `run`"),
    (["exercise", "check", "gates", "--timeout", "0"], "must be positive"),
])
def test_bad_input_is_one_line_exit_2(args, words, tmp_path, capsys):
    from fcnet.cli.main import main

    if args[2] == "gates":
        (tmp_path / "gates.py").write_text(solution_source("gates"))
        args = [*args, "--dir", str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_run_a_wrong_solution_fails_and_the_monitor_points_at_its_layer(tmp_path):
    mistake = next(m for m in EXERCISES["activations"].mistakes if m.symptom == "relu_mask")
    (tmp_path / "activations.py").write_text(with_mistake("activations", mistake))
    res = fcnet("exercise", "run", "activations", "--dir", str(tmp_path), "--epochs", "2")
    assert res.returncode == 1, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    fc1 = next(line for line in lines if line.strip().startswith("fc1"))
    fc2 = next(line for line in lines if line.strip().startswith("fc2"))
    assert fc1.rstrip().endswith("✘") and fc2.rstrip().endswith("✔")  # relu acts on fc1's output only
    assert "points at fc1" in res.stdout and "✘ your activations does not match" in res.stdout


@pytest.mark.parametrize("name", ["batchnorm", "clipping", "two_layer"])
def test_run_the_reference_trains(name, tmp_path, capsys):
    """In-process (the sandbox is covered above): docs/exercises.md's 0.94-0.96 at the third epoch (seed 0)."""
    import importlib.util

    from fcnet.exercise.grading import set_lang
    from fcnet.exercise.plug import train_with

    path = tmp_path / f"{name}.py"
    path.write_text(solution_source(name))
    spec = importlib.util.spec_from_file_location(f"student_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    set_lang("zh")
    rc = train_with(name, module, 3, 0, repr)
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "✔" in out and "测试准确率" in out and "✘" not in out
    acc = float(out.rsplit("测试准确率", 1)[1].strip().split()[0])
    assert acc >= 0.935


def test_a_teacher_hands_out_a_section_and_collects_its_scores(tmp_path, capsys):
    from fcnet.cli.main import main

    assert main(["exercise", "start", "optimization", "--dir", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.glob("*.py")} == {"clipping.py", "optimizers.py"}
    (tmp_path / "clipping.py").write_text(solution_source("clipping"))
    capsys.readouterr()
    assert main(["exercise", "check", "optimization", "--dir", str(tmp_path), "--seed", "5"]) == 1
    out = capsys.readouterr().out
    assert "clipping        3/3 (100%)" in out and "optimizers      0/8 (0%)" in out
    assert "exercises passed: 1/2" in out
    (tmp_path / "optimizers.py").write_text(solution_source("optimizers"))
    assert main(["exercise", "check", "optimization", "--dir", str(tmp_path)]) == 0
    assert "exercises passed: 2/2" in capsys.readouterr().out


def test_errors_speak_chinese_too(capsys):
    from fcnet.cli.main import main

    assert main(["exercise", "check", "nonsense", "--lang", "zh"]) == 2
    assert "没有练习 'nonsense'" in capsys.readouterr().err


@pytest.mark.parametrize("name, mistake, where", [
    ("optimizers", "bias_correction_off_by_one", "adam"),  # the optimizer rows
    ("batchnorm", "unbiased_var", "fc1"),  # a forward error: the first layer whose output differs
    ("losses", "missing_1_over_n", "fc5"),  # a backward error at the top: the layer nearest the loss
])
def test_the_monitor_points_where_the_mistake_acts(name, mistake, where, tmp_path, capsys):
    import importlib.util

    from fcnet.exercise.plug import train_with

    m = next(x for x in EXERCISES[name].mistakes if x.name == mistake)
    path = tmp_path / f"{name}.py"
    path.write_text(with_mistake(name, m))
    spec = importlib.util.spec_from_file_location(f"student_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert train_with(name, module, 1, 0, repr) == 1
    out = capsys.readouterr().out
    assert f"points at {where}:" in out, out
