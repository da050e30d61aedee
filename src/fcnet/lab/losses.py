"""Slides 50-64: softmax, cross-entropy, entropy and KL, and cross-entropy versus hinge loss."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import fcnet
from fcnet import nn
from fcnet.lab.common import tr
from fcnet.lab.report import LabResult, Table
from fcnet.nn import functional as F

SLIDES = "50-64"
SCORES = [[10.0, -2.0, 3.0], [10.0, 9.0, 9.0], [10.0, -100.0, -100.0]]  # slide 64, class 0 correct
SLIDE_64 = ["0.0004", "0.2395", "1.5e-48"]
# Slide 52's worked example is a picture: the lecture's text prints no numbers for it.  These scores are the
# example fcnet has used throughout (three classes); the table shows each step of softmax on them.
EXAMPLE_SCORES = [3.2, 5.1, -1.7]


def softmax_steps(scores: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slides 51-52 step by step: exp(s_k), then p_k = exp(s_k) / Σ_j exp(s_j); and fcnet's softmax of s."""
    e = np.exp(np.asarray(scores, dtype=np.float64))
    return e, e / e.sum(), F.softmax(fcnet.tensor(np.asarray(scores, dtype=np.float64)), axis=0).numpy()


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Softmax of the slide's scores, the H(p,q) = H(p) + KL identity, and the CE vs hinge table."""
    s = fcnet.tensor(np.array(SCORES))
    target = [0, 0, 0]
    ce = nn.CrossEntropyLoss(reduction="none")(s, target).numpy()
    hinge = nn.MulticlassHingeLoss(reduction="none")(s, target).numpy()
    probs = F.softmax(s, axis=1).numpy()
    ce_rows = [[str(sc), float(c), float(c / math.log(10)), sl, _as_on_slide(c / math.log(10)), float(h), "0"]
               for sc, c, h, sl in zip(SCORES, ce, hinge, SLIDE_64, strict=True)]
    e, p_steps, p_fcnet = softmax_steps(EXAMPLE_SCORES)
    step_rows = [[f"{k}", s_k, float(e_k), float(e_k / e.sum()), float(pf)]
                 for k, (s_k, e_k, pf) in enumerate(zip(EXAMPLE_SCORES, e, p_fcnet, strict=True))]
    # slides 52-57: the classifier's q = [0.21, 0.01, 0.78] (bird, cat, car) against the true p = bird
    q_slide = np.array([0.21, 0.01, 0.78])
    p_bird = np.array([1.0, 0.0, 0.0])
    scores_slide = fcnet.tensor(np.log(q_slide) + 2.0)  # any scores whose softmax is q
    q_back = F.softmax(scores_slide, axis=0).numpy()
    ce_bird = float(-(p_bird * np.log(q_slide)).sum())
    slide_rows = [[str(q_slide.tolist()), str(np.round(q_back, 4).tolist()), F.entropy(p_bird).item() + 0.0,
                   F.kl_div(p_bird, q_slide).item(), ce_bird, ce_bird / math.log(10)]]
    # the identity H(p, q) = H(p) + KL(p‖q), with p a soft target and q the softmax of slide 51's scores
    p = np.array([0.2, 0.7, 0.1])
    q = F.softmax(fcnet.tensor(np.array([3.2, 5.1, -1.7])), axis=0).numpy()
    h_p = F.entropy(p).item()
    kl = F.kl_div(p, q).item()
    h_pq = float(-(p * np.log(q)).sum())
    claim = tr("Slides 51-52: softmax turns scores into probabilities, exp then normalise. Slide 56: "
               "H(p, q) = H(p) + KL(p‖q). Slide 58: with a one-hot p the cross-entropy loss is −log q_j. "
               "Slide 64: for the same scores the multiclass SVM (hinge) loss is already 0 while cross-entropy "
               "is not and keeps pushing the correct score up. Inference, not stated on the slide: its loss numbers "
               "match the cross-entropy in log10 (base 10), not in ln.",
               "第51-52页：Softmax 先取指数再归一化，把分数变成概率。"
               "第56页：H(p, q) = H(p) + KL(p‖q)。"
               "第58页：真实分布为 one-hot 形式时，交叉熵损失简化为 −log(q_j)。"
               "第64页：相同分数下，多类支撑向量机损失已经为0，"
               "而交叉熵损失不为0，仍会继续提高正确类别的分数。推断（幻灯片未说明）：幻灯片上的损失数值与以 10 为底"
               "（log10）的交叉熵一致，而不是自然对数。")
    cap_steps = tr("slide 52: softmax step by step on the scores s = [3.2, 5.1, -1.7] (slide 52's own "
                   "numbers are in a picture, not in the lecture's text)",
                   "第52页：Softmax 逐步计算，分数 s = [3.2, 5.1, -1.7]"
                   "（第52页的示例数字在图片中，讲义文本中没有）")
    cap_probs = tr("softmax of slide 64's scores (correct class first)",
                   "第64页分数的 softmax（正确类别在前）")
    cap_bird = tr("slides 53-58: q = softmax(s) against the true p = (bird); the slide gives q, not the scores s: "
                  "the scores s = ln q + 2 (ln q shifted by any constant) have softmax exactly q, the column "
                  "softmax(ln q + 2) checks it, so q is a softmax output",
                  "第53-58页：预测分布 q 与真实分布 p（鸟）；幻灯片只给出 q，没有给出分数 s："
                  "分数 s = ln q + 2（ln q 加任意常数）的 softmax 恰好等于 q，softmax(ln q + 2) 一列即此核对，"
                  "说明 q 可以是 softmax 的输出")
    cap_id = tr("slide 56: the identity with a soft p", "第56页：三者之间关系（非 one-hot 的 p）")
    title = tr("Softmax, cross-entropy and hinge loss", "Softmax、交叉熵损失与多类支撑向量机损失")
    summary = tr(
        "Softmax is exp, then normalise (slides 51-52); H(p, q) = H(p) + KL(p‖q) (56); with a one-hot p the "
        "cross-entropy is −log q_j (58). Slide 64: for the same scores the hinge loss is already 0 while "
        "cross-entropy is not. Inference, not stated on the slide: its loss numbers are in log10.",
        "softmax 先取指数再归一化 (第51-52页); H(p, q) = H(p) + KL(p‖q) (第56页); p 为 one-hot 时交叉熵为 −log q_j "
        "(第58页)。第64页: 同样的分数下折页损失已为 0 而交叉熵不为 0。"
        "推断 (幻灯片未写明): 其损失数值是以10为底的对数。")
    return LabResult("losses", SLIDES, title, claim,
                     [Table(cap_steps, ["k", "s_k", "exp(s_k)", tr("exp(s_k)/Σexp (by hand)", "exp(s_k)/Σexp（手算）"),
                                        "fcnet softmax"], step_rows),
                      Table(cap_probs, [tr("scores", "分数"), "p0", "p1", "p2"],
                            [[str(sc), *map(float, pr)] for sc, pr in zip(SCORES, probs, strict=True)]),
                      Table(tr("slide 64: loss for correct class 0", "第64页：正确类别为0时的损失"),
                            [tr("scores", "分数"), tr("CE (ln)", "交叉熵 (ln)"), tr("CE (log10)", "交叉熵 (log10)"),
                             tr("slide CE", "幻灯片交叉熵"),
                             tr("fcnet CE, rounded as the slide", "fcnet 交叉熵（按幻灯片的位数）"),
                             tr("fcnet hinge", "fcnet 多类支撑向量机损失"),
                             tr("slide hinge", "幻灯片多类支撑向量机损失")],
                            ce_rows),
                      Table(cap_bird, ["q", "softmax(ln q + 2)", "H(p)", "KL(p‖q)", "H(p,q) (ln)", "H(p,q) (log10)"],
                            slide_rows),
                      Table(cap_id, ["H(p)", "KL(p‖q)", "H(p)+KL", "H(p,q)"],
                            [[h_p, kl, h_p + kl, h_pq]])],
                     [], {"ce_log10": [float(v) for v in ce / math.log(10)], "hinge": [float(v) for v in hinge],
                          "identity_error": abs(h_p + kl - h_pq), "bird_cross_entropy": ce_bird,
                          "softmax_recovers_q": float(np.abs(q_back - q_slide).max()),
                          "softmax_steps_error": float(np.abs(p_steps - p_fcnet).max()),
                          "softmax_example": [float(v) for v in p_fcnet]},
                     summary=summary, formulas=[r"p_k=\frac{e^{s_k}}{\sum_j e^{s_j}}",
                               r"H(p,q)=-\sum_x p(x)\log q(x)=H(p)+KL(p\|q)",
                               r"L_i=-\log\left(\frac{e^{s_{y_i}}}{\sum_j e^{s_j}}\right)\qquad "
                               r"L_i=\sum_{j\neq y_i}\max(0,\,s_j-s_{y_i}+1)"])


def _as_on_slide(v: float) -> str:
    """The slide's rounding: 4 decimals, or 2 significant digits for tiny values (0.0004, 1.5e-48)."""
    return f"{v:.4f}" if v >= 1e-4 else f"{v:.1e}"
