"""Slides 22-34: drawing and naming fully-connected nets.

Slide 33: "N层全连接神经网络——除输入层之外其他层的数量为N的网络"; slide 34: "N个隐层的全连接神经网络——
网络隐层的数量为N的网络", so f = W₃ max(0, W₂ max(0, W₁x + b₁) + b₂) + b₃ is a "3层神经网络" or a
"2隐层神经网络".  The lab builds nets of several depths and reads both names off the built net (its
Linear layers and its hidden widths) and off ``FullyConnectedNet.summary()``.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import Circle

from fcnet import nn
from fcnet.i18n import get_lang
from fcnet.lab.common import slide_title, tr
from fcnet.lab.report import Code, LabResult, Table
from fcnet.viz.plots import save_figure

SLIDES = "22-34, 48"
CASES = ([], [100], [100, 50], [100, 50, 20])  # hidden widths; slide 33's example is [h1, h2]
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


DRAWN_UNITS = 4  # circles drawn per layer (the width is written under it)
STEP = 1.9  # distance between columns, room for their labels


def draw(out: Path, rows: list[dict[str, object]]) -> Path:
    """Slides 22-34's drawing: each net as columns of units, input to output, with both of the lecture's names.

    The input column is drawn grey and marked "not counted"; every other column (hidden and output) is
    numbered 1..N, so N is the N of "N-layer net" and the hidden columns count the hidden layers.
    """
    cols = [len(list(r["hidden"])) + 2 for r in rows]  # type: ignore[call-overload]
    fig, axes = plt.subplots(1, len(rows), figsize=(0.95 * sum(cols) + 1, 3.6),
                             gridspec_kw={"width_ratios": cols}, squeeze=False)
    for ax, r in zip(axes[0], rows, strict=True):
        hidden = list(r["hidden"])  # type: ignore[call-overload]
        widths = [IN, *hidden, OUT]
        xs = [STEP * k for k in range(len(widths))]
        ys = [[(DRAWN_UNITS - 1) / 2 - i for i in range(DRAWN_UNITS)] for _ in widths]
        for k in range(len(widths) - 1):  # full connections between neighbouring columns
            for y0 in ys[k]:
                for y1 in ys[k + 1]:
                    ax.plot([xs[k], xs[k + 1]], [y0, y1], color="#999999", lw=0.4, zorder=1)
        for k, (x, w) in enumerate(zip(xs, widths, strict=True)):
            kind = "input" if k == 0 else "output" if k == len(widths) - 1 else "hidden"
            colour = {"input": "#BBBBBB", "hidden": "#56B4E9", "output": "#E69F00"}[kind]
            for y in ys[k]:
                ax.add_patch(Circle((x, y), 0.22, facecolor=colour, edgecolor="black", lw=0.6, zorder=2))
            label = {"input": tr(f"input\n{w}\nnot counted", f"输入层\n{w}\n不计数"),
                     "hidden": tr(f"hidden {k}\n{w}\nlayer {k}", f"隐层 {k}\n{w}\n第{k}层"),
                     "output": tr(f"output\n{w}\nlayer {k}", f"输出层\n{w}\n第{k}层")}[kind]
            ax.text(x, -DRAWN_UNITS / 2 - 0.2, label, ha="center", va="top", fontsize=9)
        ax.set_xlim(-0.9, xs[-1] + 0.9)
        ax.set_ylim(-DRAWN_UNITS / 2 - 1.9, DRAWN_UNITS / 2 + 0.1)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(tr(f"{r['layers']}-layer net\n= {r['hidden_layers']} hidden layer"
                        f"{'s' if r['hidden_layers'] != 1 else ''}",
                        f"{r['layers']}层神经网络\n= {r['hidden_layers']}隐层神经网络"), fontsize=10)
    fig.suptitle(slide_title("22-34", "N-layer net: every layer but the input counts; N-hidden-layer net: hidden only",
                             "N层网络：除输入层外都计数；N隐层网络：只数隐层"), fontsize=10.5)
    return save_figure(fig, out / "naming.png")


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
        tr("Slides 33-34: an N-layer net counts every layer but the input; an N-hidden-layer net counts hidden "
           "layers only (read off the built nets and their summary())",
           "第33-34页：N层网络数除输入层之外的所有层；N个隐层的网络只数隐层（从构建的网络及其 summary() 读出）"),
        [tr("hidden widths", "隐层宽度"), tr("N-layer (layers with weights)", "N层（有权值的层）"),
         tr("hidden layers", "隐层数"), tr("the lecture's names", "课件中的叫法"), tr("formula", "公式"),
         tr("parameters", "参数个数"), tr("summary() (first line)", "summary() 第一行（译文）")],
        [[str(r["hidden"]), r["layers"], r["hidden_layers"],
          tr(f"'{r['layers']}-layer net', '{r['hidden_layers']}-hidden-layer net'",
             f"“{r['layers']}层神经网络”，“{r['hidden_layers']}隐层神经网络”"),
          r["formula"], r["parameters"], shown_summary(r["summary"])] for r in rows])
    three = {"formula": formula(3)}  # slide 33's example, whatever CASES holds
    sizes = [re.findall(r"\d+", str(r["summary"]).rsplit(":", 1)[1]) for r in rows]  # "3072 → 100 → 10"
    ins = "/".join(sorted({s[0] for s in sizes}))
    outs = "/".join(sorted({s[-1] for s in sizes}))
    claim = tr(
        "Slides 33-34: 'an N-layer fully-connected net is one with N layers besides the input layer; an N-hidden-layer "
        f"net has N hidden layers': {three['formula']} is a '3-layer net' or a '2-hidden-layer net'. fcnet's "
        "summary() prints both names. Slide 48: the input and output layers' sizes are set by the task "
        f"({ins} = CIFAR-10's 32×32×3 pixels, {outs} classes: the same in every row), the number of hidden layers and "
        "their widths by us.",
        "第33-34页：“N层全连接神经网络——除输入层之外其他层的数量为N的网络；N个隐层的全连接神经网络——网络隐层的数量为N的"
        f"网络”：{three['formula']} 是“3层神经网络”，或者“2隐层神经网络”。fcnet 的 summary() 同时给出两种叫法。"
        f"第48页：输入层与输出层的神经元个数由任务决定（{ins} = CIFAR-10 的 32×32×3 像素，{outs} 个类别，每行相同），"
        "隐层数量以及每个隐层的神经元个数由人指定。")
    summary = tr(
        "An N-layer net counts every layer but the input, an N-hidden-layer net its hidden layers (slides 33-34): "
        f"{three['formula']} is a '3-layer' or '2-hidden-layer net'; summary() prints both. Input and output sizes "
        f"come from the task ({ins}, {outs}), hidden ones are chosen (48).",
        "N层网络数除输入层之外的所有层，N隐层网络只数隐层（第33-34页）："
        f"{three['formula']} 是“3层神经网络”或“2隐层神经网络”；summary() 同时给出两种叫法。输入、输出层大小由任务决定"
        f"（{ins}、{outs}），隐层由人指定（第48页）。")
    fig = draw(out, rows)
    return LabResult("naming", SLIDES, tr("Drawing and naming nets", "全连接神经网络绘制与命名"), claim, [table], [fig],
                     {"rows": rows, "input_sizes": ins, "output_sizes": outs}, summary=summary,
                     formulas=[r"f=W_3\max(0,\,W_2\max(0,\,W_1x+b_1)+b_2)+b_3"])
