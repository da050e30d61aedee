"""The lecture's experiments as one-click setups, each with the slide's claim in English and Chinese.

The page's sizes are bounded (6 hidden layers of 16 units), so the slides' 20-unit and 10-layer
nets appear here at those bounds; ``tests/playground/test_presets.py`` checks each claim that
the page can show in the direction it is stated.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS"]

_DEEP = [16] * 6

PRESETS: list[dict[str, Any]] = [
    {"id": "width-3", "slides": "45-47", "title": {"en": "width 3", "zh": "3个神经元"},
     "setup": {"dataset": "spirals", "hidden": [3], "activation": "relu", "init": "he", "optimizer": "adam",
               "lr": 0.03},
     "claim": {"en": "More neurons, a more complex boundary: 3 units can only cut the plane a few times.",
               "zh": "神经元个数越多，分界面就可以越复杂；3个神经元只能把平面切几刀。"}},
    {"id": "width-6", "slides": "45-47", "title": {"en": "width 6", "zh": "6个神经元"},
     "setup": {"dataset": "spirals", "hidden": [6], "activation": "relu", "init": "he", "optimizer": "adam",
               "lr": 0.03},
     "claim": {"en": "More neurons, a more complex boundary, a better fit of this set.",
               "zh": "神经元个数越多，分界面就可以越复杂，在这个集合上的分类能力就越强。"}},
    {"id": "width-16", "slides": "45-47", "title": {"en": "width 16 (slide: 20)", "zh": "16个神经元（幻灯片：20）"},
     "setup": {"dataset": "spirals", "hidden": [16], "activation": "relu", "init": "he", "optimizer": "adam",
               "lr": 0.03},
     "claim": {"en": "The widest net here bends the boundary most; the best training fit is not always the best "
                     "on new data (overfitting).",
               "zh": "最宽的网络分界面最复杂；但训练集上精度最高的模型在真实场景下未必最好（过拟合）。"}},
    {"id": "sigmoid-deep", "slides": "84", "title": {"en": "6 sigmoid layers (slide: 10)",
                                                    "zh": "6个sigmoid隐层（幻灯片：10个）"},
     "setup": {"dataset": "xor", "hidden": [8] * 6, "activation": "sigmoid", "init": "xavier", "optimizer": "sgd",
               "lr": 0.1},
     "claim": {"en": "Sigmoid's local gradient is at most 1/4: the gradient norm shrinks layer by layer towards "
                     "the input (vanishing gradients).",
               "zh": "sigmoid的局部梯度最大为1/4：梯度范数逐层向输入端衰减（梯度消失）。"}},
    {"id": "init-small", "slides": "127-128", "title": {"en": "tanh, N(0, 0.01²)", "zh": "tanh，N(0, 0.01²)"},
     "setup": {"dataset": "spirals", "hidden": _DEEP, "activation": "tanh", "init": "normal", "init_std": 0.01,
               "optimizer": "sgd", "lr": 0.03},
     "claim": {"en": "Weights from N(0, 0.01²): after the first layers every activation is 0, the input does not "
                     "reach the output and the net does not train.",
               "zh": "权值采样自N(0, 0.01²)：除了前两层，后续所有层的激活值为0；"
                     "输入信息传递不到输出层，网络得不到训练。"}},
    {"id": "init-large", "slides": "128-129", "title": {"en": "tanh, N(0, 1)", "zh": "tanh，N(0, 1)"},
     "setup": {"dataset": "spirals", "hidden": _DEEP, "activation": "tanh", "init": "normal", "init_std": 1.0,
               "optimizer": "sgd", "lr": 0.03},
     "claim": {"en": "Weights from N(0, 1): most neurons of the deeper layers saturate near -1 or 1, where "
                     "tanh's local gradient is almost 0 (the slide's 500-unit layers saturate almost all).",
               "zh": "权值采样自N(0, 1)：较深各层的多数神经元饱和在-1或1附近，局部梯度几乎为零"
                     "（幻灯片中每层500个神经元，几乎全部饱和）。"}},
    {"id": "init-xavier", "slides": "132", "title": {"en": "tanh, Xavier", "zh": "tanh，Xavier"},
     "setup": {"dataset": "spirals", "hidden": _DEEP, "activation": "tanh", "init": "xavier", "optimizer": "adam",
               "lr": 0.01},
     "claim": {"en": "Xavier, N(0, 1/N): the activations keep a spread of the same order in every layer (here "
                     "within a factor of 3), neither vanishing as with N(0, 0.01²) nor saturating as with N(0, 1).",
               "zh": "Xavier初始化N(0, 1/N)：各层激活值的标准差保持同一量级（这里相差不到3倍），"
                     "既不像N(0, 0.01²)那样消失，也不像N(0, 1)那样饱和。"}},
    {"id": "lr-high", "slides": "167", "title": {"en": "ε too high", "zh": "学习率过大"},
     "setup": {"dataset": "moons", "hidden": [8, 8], "activation": "relu", "init": "he", "optimizer": "sgd",
               "lr": 5.0},
     "claim": {"en": "Learning rate too high: training does not converge.",
               "zh": "学习率过大，训练过程无法收敛。"}},
    {"id": "lr-low", "slides": "167", "title": {"en": "ε too low", "zh": "学习率太小"},
     "setup": {"dataset": "moons", "hidden": [8, 8], "activation": "relu", "init": "he", "optimizer": "sgd",
               "lr": 1e-4},
     "claim": {"en": "Learning rate too low: convergence takes a long time.",
               "zh": "学习率太小，收敛时间较长。"}},
]
