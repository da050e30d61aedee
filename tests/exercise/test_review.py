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
