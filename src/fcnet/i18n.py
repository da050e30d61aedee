"""fcnet's two languages in one place: the language chosen, a two-way choice ``tr(en, zh)`` for sentences,
and ``term(word)`` for the words that recur across labs, report, figures and exercises (graph labels,
activations, optimizers, data sets), so that one word has one translation everywhere.

The Chinese follows the lecture's own vocabulary; the names the lecture itself writes in Latin letters
(ReLU, tanh, Sigmoid, Softmax, Dropout, Adam, RMSProp, Xavier, He, one-hot) stay as they are.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

__all__ = ["LANGS", "MATH_TEXT_ZH", "TERMS_ZH", "get_lang", "math_text", "set_lang", "term", "tr"]

LANGS = ("en", "zh")
_LANG: ContextVar[str] = ContextVar("fcnet_lang", default="en")

TERMS_ZH: dict[str, str] = {
    # computation graphs (slides 66-80): the words drawn on every node and gate
    "value": "值", "grad": "梯度", "add": "加", "sub": "减", "mul": "乘", "div": "除", "neg": "取负",
    "pow": "幂", "exp": "指数", "copy": "复制", "max": "max", "sigmoid": "sigmoid",
    # activations (slides 41, 82-86)
    "relu": "ReLU", "leaky_relu": "Leaky ReLU", "leaky relu": "Leaky ReLU", "tanh": "tanh",
    # optimizers (slides 94-121)
    "sgd": "梯度下降", "momentum": "动量法", "rmsprop": "RMSProp", "adam": "Adam", "adagrad": "AdaGrad",
    # initialisations (slides 126-135)
    "zeros": "全零", "constant": "常数", "random": "随机", "normal": "正态", "xavier": "Xavier",
    "glorot": "Glorot", "he": "He",
    # data sets
    "circles": "圆环", "spirals": "螺旋", "digits": "digits",
    # words of tables and figures
    "with batch norm": "有批归一化", "without": "无批归一化", "hinge": "多类支撑向量机损失", "ce": "交叉熵",
    "bird": "鸟", "cat": "猫", "dog": "狗", "car": "汽车",
    "train": "训练集", "validation": "验证集", "test": "测试集", "loss": "损失", "epoch": "轮次", "step": "步",
    "layer": "层", "seed": "随机种子", "figure": "图", "report": "报告", "slides": "幻灯片",
}

# prose inside formulas (LaTeX \text{...}), translated where a formula is shown
MATH_TEXT_ZH: dict[str, str] = {
    "the ": "仅 ", " term alone: ": " 项：", "divergence": "发散", "(gradient clipping)": "（梯度裁剪）",
    "(178: log-scale sampling)": "（178：对数尺度采样）", "uniform on ": "均匀采样于 ",
    "SGD (99-103):": "梯度下降 (99-103)：", "momentum (99-103):": "动量法 (99-103)：",
    "AdaGrad (108-111 give the idea; the rule is not printed; ": "AdaGrad（第108-111页只讲思想，未给出公式；",
    " inside the root as in its Adam, 117; torch: outside):": " 在根号内，同讲义的 Adam（117）；PyTorch 在根号外）：",
    "RMSProp (112-114):": "RMSProp (112-114)：", "Adam (117-122):": "Adam (117-122)：",
    "L2 (152-153):": "L2 (152-153)：", "L1 (named on 151, 154; standard form):": "L1（第151、154页提及；标准形式）：",
}


def set_lang(lang: str) -> None:
    """Choose the language of every text fcnet writes for people (``en`` or ``zh``)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    _LANG.set(lang)


def get_lang() -> str:
    """The language chosen with :func:`set_lang` (``en`` unless set)."""
    return _LANG.get()


def tr(en: str, zh: str) -> str:
    """``en`` or ``zh``, by the language chosen with :func:`set_lang`."""
    return zh if _LANG.get() == "zh" else en


def term(word: str) -> str:
    """``word`` in the chosen language: its entry of :data:`TERMS_ZH` in Chinese (the word itself where the
    table has none), the word unchanged in English.
    """
    return TERMS_ZH.get(word, word) if _LANG.get() == "zh" else word


def math_text(latex: str) -> str:
    r"""``latex`` with the prose of its ``\text{...}`` groups in the chosen language (:data:`MATH_TEXT_ZH`)."""
    if _LANG.get() != "zh":
        return latex
    return re.sub(r"\\text\{([^{}]*)\}", lambda m: "\\text{" + MATH_TEXT_ZH.get(m.group(1), m.group(1)) + "}", latex)
