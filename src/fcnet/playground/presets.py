"""The lecture's experiments as one-click setups, each with the slide's claim in English and Chinese.

The page's sizes are bounded (6 hidden layers of 16 units), so the slides' 20-unit, 500-unit and
10-layer nets appear here at those bounds; ``cap`` says so where it changes the setup.  A preset
with ``"view": "init"`` is judged at step 0 (its claim is about the initialisation), and the page
shows that step-0 view next to the training.  ``tests/playground/test_presets.py`` runs every
preset through ``Session`` and checks its claim on the computed numbers.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["INIT_LARGE_STD", "PRESETS"]

_DEEP = [16] * 6
INIT_LARGE_STD = round(math.sqrt(500 / 16), 2)
"""σ for the N(0, 1) experiment at 16 units: σ·√N = √500 as with the slide's N(0, 1) at 500 units."""

_CAP_DEEP = {"en": "6 layers of 16 units (the slide: 10 of 500).",
             "zh": "6个隐层、每层16个神经元（幻灯片：10层、每层500个）。"}
_WIDTH_DATA = {"dataset": "spirals", "noise": 0.3, "points": 100, "train_ratio": 0.5}
_WIDTH_NET = {"activation": "relu", "init": "he", "optimizer": "adam", "lr": 0.03}

PRESETS: list[dict[str, Any]] = [
    {"id": "width-3", "slides": "46", "title": {"en": "width 3", "zh": "3个神经元"},
     "setup": {**_WIDTH_DATA, **_WIDTH_NET, "hidden": [3]},
     "claim": {"en": "More neurons, a more complex boundary: 3 units can only cut the plane a few times and "
                     "fit the training set worst.",
               "zh": "神经元个数越多，分界面就可以越复杂；3个神经元只能把平面切几刀，训练集拟合最差。"}},
    {"id": "width-6", "slides": "46", "title": {"en": "width 6", "zh": "6个神经元"},
     "setup": {**_WIDTH_DATA, **_WIDTH_NET, "hidden": [6]},
     "claim": {"en": "More neurons, a more complex boundary, a better fit of this set.",
               "zh": "神经元个数越多，分界面就可以越复杂，在这个集合上的分类能力就越强。"}},
    {"id": "width-16", "slides": "46-47", "title": {"en": "width 16 (slide: 20)", "zh": "16个神经元（幻灯片：20）"},
     "setup": {**_WIDTH_DATA, **_WIDTH_NET, "hidden": [16]},
     "cap": {"en": "16 units, the page's largest layer (the slide has 20).",
             "zh": "16个神经元为本页上限（幻灯片为20个）。"},
     "claim": {"en": "The widest net fits the noisy training points best, but its test loss is several times its "
                     "train loss and the highest of the three widths: the net most accurate on the training set "
                     "is not necessarily the best on new data (overfitting).",
               "zh": "最宽的网络对带噪声的训练点拟合最好，但测试损失是训练损失的数倍，且为三种宽度中最高："
                     "对训练集分类精度最高的模型在真实场景下未必最好（过拟合）。"}},
    {"id": "sigmoid-deep", "slides": "82-83", "title": {"en": "6 sigmoid layers of 16",
                                                       "zh": "6个sigmoid隐层（每层16个）"},
     "setup": {"dataset": "xor", "hidden": _DEEP, "activation": "sigmoid", "init": "xavier", "optimizer": "sgd",
               "lr": 0.1},
     "cap": {"en": "6 layers of 16 units, the page's largest net.", "zh": "6个隐层、每层16个神经元，为本页上限。"},
     "claim": {"en": "Sigmoid's local gradient is at most 1/4: the gradient norm shrinks layer by layer towards "
                     "the input (vanishing gradients).",
               "zh": "sigmoid的局部梯度最大为1/4：梯度范数逐层向输入端衰减（梯度消失）。"}},
    {"id": "init-small", "slides": "128", "title": {"en": "tanh, N(0, 0.01²)", "zh": "tanh，N(0, 0.01²)"},
     "view": "init",
     "setup": {"dataset": "spirals", "hidden": _DEEP, "activation": "tanh", "init": "normal", "init_std": 0.01,
               "optimizer": "sgd", "lr": 0.03},
     "cap": {"en": "6 layers of 16 units (the slide: 10 of 500): each layer scales the spread by σ·√N = 0.04 "
                   "instead of the slide's 0.22, so it vanishes faster, from the second layer on.",
             "zh": "6个隐层、每层16个神经元（幻灯片：10层、每层500个）：每层把激活值的幅度乘以σ·√N = 0.04，"
                   "而幻灯片是0.22，所以消失得更快，从第二层就开始。"},
     "claim": {"en": "At initialisation (step 0), weights from N(0, 0.01²): apart from the first two layers every "
                     "activation is 0, the input does not reach the output and the net does not train.",
               "zh": "初始化时（第0步），权值采样自N(0, 0.01²)：除了前两层，后续所有层的激活值为0；"
                     "输入信息传递不到输出层，网络得不到训练。"}},
    {"id": "init-large", "slides": "129", "title": {"en": f"tanh, N(0, 1) at 500 units (here σ = {INIT_LARGE_STD})",
                                                    "zh": f"tanh，500个神经元的N(0, 1)（此处σ = {INIT_LARGE_STD}）"},
     "view": "init",
     "setup": {"dataset": "spirals", "hidden": _DEEP, "activation": "tanh", "init": "normal",
               "init_std": INIT_LARGE_STD, "optimizer": "sgd", "lr": 0.03},
     "cap": {"en": f"16 units instead of 500: σ = √(500/16) = {INIT_LARGE_STD} gives each unit the slide's input "
                   "spread σ·√N = √500.",
             "zh": f"每层16个神经元而非500个：σ = √(500/16) = {INIT_LARGE_STD}，"
                   "使每个神经元的输入幅度σ·√N = √500与幻灯片相同。"},
     "claim": {"en": "At initialisation (step 0) almost every neuron of the deeper layers is saturated at -1 or 1, "
                     "where tanh's local gradient 1 − a² is 0; training does not get anywhere: after its first steps "
                     "no gradient reaches the first layers, their parameters no longer move, and the loss stays "
                     "far above Xavier's. Unlike the slide, at step 0 itself the gradient still reaches the first "
                     "layers (larger there than at the output: the few unsaturated units pass it on, times the "
                     "large weights); the first steps push the net further into saturation.",
               "zh": "初始化时（第0步）较深各层几乎所有神经元都饱和（不是-1就是1），局部梯度1 − a²为零；"
                     "训练没有进展：最初几步之后反向梯度到不了前几层，其参数不再更新，损失远高于Xavier初始化。"
                     "与幻灯片不同，第0步时梯度仍能到达前几层（比输出层还大：少数未饱和的神经元乘以很大的权值"
                     "把梯度传了回去）；最初几步使网络更加饱和。"}},
    {"id": "init-xavier", "slides": "133", "title": {"en": "tanh, Xavier", "zh": "tanh，Xavier"},
     "view": "init",
     "setup": {"dataset": "spirals", "hidden": _DEEP, "activation": "tanh", "init": "xavier", "optimizer": "adam",
               "lr": 0.01},
     "cap": _CAP_DEEP,
     "claim": {"en": "At initialisation (step 0), Xavier N(0, 1/N): the activations keep a spread of the same order "
                     "in every layer (here within a factor of 3), neither vanishing as with N(0, 0.01²) nor "
                     "saturating as with N(0, 1).",
               "zh": "初始化时（第0步），Xavier初始化N(0, 1/N)：各层激活值的标准差保持同一量级（这里相差不到3倍），"
                     "既不像N(0, 0.01²)那样消失，也不像N(0, 1)那样饱和。"}},
    {"id": "lr-high", "slides": "166", "title": {"en": "ε too high", "zh": "学习率过大"},
     "setup": {"dataset": "moons", "hidden": [8, 8], "activation": "tanh", "init": "xavier", "optimizer": "sgd",
               "lr": 6.0},
     "claim": {"en": "Learning rate too high (ε = 6): the loss jumps up and down above where it started and "
                     "training does not converge.",
               "zh": "学习率过大（ε = 6）：损失在起点之上反复跳动，训练过程无法收敛。"}},
    {"id": "lr-low", "slides": "168", "title": {"en": "ε too low", "zh": "学习率太小"},
     "setup": {"dataset": "moons", "hidden": [8, 8], "activation": "tanh", "init": "xavier", "optimizer": "sgd",
               "lr": 1e-4},
     "claim": {"en": "Learning rate too low (ε = 10⁻⁴): the loss barely moves, convergence takes a long time.",
               "zh": "学习率太小（ε = 10⁻⁴）：损失几乎不动，收敛时间较长。"}},
]
