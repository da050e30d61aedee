"""Slides 22-34: drawing and naming fully-connected nets.

Slide 32: "N层全连接神经网络——除输入层之外其他层的数量为N的网络"; slide 33: "N个隐层的全连接神经网络——
网络隐层的数量为N的网络", so f = W₃ max(0, W₂ max(0, W₁x + b₁) + b₂) + b₃ is a "3层神经网络" or a
"2隐层神经网络".  The lab builds nets of several depths and reads both names off the built net (its
Linear layers and its hidden widths) and off ``FullyConnectedNet.summary()``.
"""

from __future__ import annotations

import re
from pathlib import Path

from fcnet import nn
from fcnet.i18n import get_lang
from fcnet.lab.common import tr
from fcnet.lab.report import Code, LabResult, Table

SLIDES = "22-34"
CASES = ([], [100], [100, 50], [100, 50, 20])  # hidden widths; slide 32's example is [h1, h2]
IN, OUT = 3072, 10  # CIFAR-10's 32×32×3 input (slide 2) and its 10 classes


def formula(n_layers: int) -> str:
    """The slides' nested form f = W_N max(0, … max(0, W₁x + b₁) …) + b_N, as text."""
    f = "x"
    for k in range(1, n_layers + 1):
        inner = f"W{_sub(k)}{' ' if f != 'x' else ''}{f} + b{_sub(k)}"
        f = inner if k == n_layers else f"max(0, {inner})"
    return "f = " + f


def _sub(k: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(k))


def names(hidden: list[int]) -> dict[str, object]:
    """Both of the lecture's names for a built net, counted on the net itself."""
    net = nn.FullyConnectedNet(IN, hidden, OUT, rng=0)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    head = net.summary().splitlines()[0]
    return {"hidden": hidden, "layers": len(linears), "hidden_layers": len(net.config["hidden"]),
            "summary": head, "formula": formula(len(linears)), "parameters": net.num_parameters()}


def shown_summary(head: str) -> str:
    """The first line of ``summary()`` as shown: as printed (code) in English, translated in Chinese.

    "3-layer network, 2 hidden layers: 3072 → 100 → 50 → 10" → "3层网络，2个隐层：3072 → 100 → 50 → 10".
    """
    m = re.fullmatch(r"(\d+)-layer network, (\d+) hidden layers?( \(the linear classifier (.+)\))?: (.+)", head)
    if get_lang() != "zh" or m is None:
        return Code(head)
    kind = f"（线性分类器 {m.group(4)}）" if m.group(3) else ""
    return f"{m.group(1)}层网络，{m.group(2)}个隐层{kind}：{m.group(5)}"


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """The naming table for nets with 0 to 3 hidden layers."""
    rows = [names(list(h)) for h in CASES]
    table = Table(
        tr("Slides 32-33: an N-layer net counts every layer but the input; an N-hidden-layer net counts hidden "
           "layers only (read off the built nets and their summary())",
           "第32-33页：N层网络数除输入层之外的所有层；N个隐层的网络只数隐层（从构建的网络及其 summary() 读出）"),
        [tr("hidden widths", "隐层宽度"), tr("N-layer (layers with weights)", "N层（有权值的层）"),
         tr("hidden layers", "隐层数"), tr("the lecture's names", "课件中的叫法"), tr("formula", "公式"),
         tr("parameters", "参数个数"), tr("summary() (first line)", "summary() 第一行（译文）")],
        [[str(r["hidden"]), r["layers"], r["hidden_layers"],
          tr(f"'{r['layers']}-layer net', '{r['hidden_layers']}-hidden-layer net'",
             f"“{r['layers']}层神经网络”，“{r['hidden_layers']}隐层神经网络”"),
          r["formula"], r["parameters"], shown_summary(r["summary"])] for r in rows])
    three = {"formula": formula(3)}  # slide 32's example, whatever CASES holds
    claim = tr(
        "Slides 32-33: 'an N-layer fully-connected net is one with N layers besides the input layer; an N-hidden-layer "
        f"net has N hidden layers': {three['formula']} is a '3-layer net' or a '2-hidden-layer net'. fcnet's "
        "summary() prints both names.",
        "第32-33页：“N层全连接神经网络——除输入层之外其他层的数量为N的网络；N个隐层的全连接神经网络——网络隐层的数量为N的"
        f"网络”：{three['formula']} 是“3层神经网络”，或者“2隐层神经网络”。fcnet 的 summary() 同时给出两种叫法。")
    return LabResult("naming", SLIDES, tr("Drawing and naming nets", "全连接神经网络绘制与命名"), claim, [table], [],
                     {"rows": rows},
                     formulas=[r"f=W_3\max(0,\,W_2\max(0,\,W_1x+b_1)+b_2)+b_3"])
