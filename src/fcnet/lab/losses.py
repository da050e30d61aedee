"""Slides 50-64: softmax, cross-entropy, entropy and KL, and cross-entropy versus hinge loss."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import fcnet
from fcnet import nn
from fcnet.lab.report import LabResult, Table
from fcnet.nn import functional as F

SLIDES = "50-64"
SCORES = [[10.0, -2.0, 3.0], [10.0, 9.0, 9.0], [10.0, -100.0, -100.0]]  # slide 64, class 0 correct


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Softmax of the slide's scores, the H(p,q) = H(p) + KL identity, and the CE vs hinge table."""
    s = fcnet.tensor(np.array(SCORES))
    target = [0, 0, 0]
    ce = nn.CrossEntropyLoss(reduction="none")(s, target).numpy()
    hinge = nn.MulticlassHingeLoss(reduction="none")(s, target).numpy()
    probs = F.softmax(s, axis=1).numpy()
    ce_rows = [[str(sc), float(c), float(c / math.log(10)), _as_on_slide(c / math.log(10)), float(h)]
               for sc, c, h in zip(SCORES, ce, hinge, strict=True)]
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
    return LabResult("losses", SLIDES, "Softmax, cross-entropy and hinge loss",
                     "Cross-entropy keeps pushing the correct score up even when the hinge loss is already "
                     "0 (slide 64, values in log10 as on the slide); H(p, q) = H(p) + KL(p‖q).",
                     [Table("softmax of the scores (correct class first)", ["scores", "p0", "p1", "p2"],
                            [[str(sc), *map(float, pr)] for sc, pr in zip(SCORES, probs, strict=True)]),
                      Table("loss for correct class 0", ["scores", "CE (ln)", "CE (log10)", "as on slide 64", "hinge"],
                            ce_rows),
                      Table("slides 52-57: q = softmax(s) against the true p = (bird)",
                            ["q", "softmax(ln q + 2)", "H(p)", "KL(p‖q)", "H(p,q) (ln)", "H(p,q) (log10)"],
                            slide_rows),
                      Table("entropy identity with a soft p", ["H(p)", "KL(p‖q)", "H(p)+KL", "H(p,q)"],
                            [[h_p, kl, h_p + kl, h_pq]])],
                     [], {"ce_log10": [float(v) for v in ce / math.log(10)], "hinge": [float(v) for v in hinge],
                          "identity_error": abs(h_p + kl - h_pq), "bird_cross_entropy": ce_bird,
                          "softmax_recovers_q": float(np.abs(q_back - q_slide).max())})


def _as_on_slide(v: float) -> str:
    """The slide's rounding: 4 decimals, or 2 significant digits for tiny values (0.0004, 1.5e-48)."""
    return f"{v:.4f}" if v >= 1e-4 else f"{v:.1e}"
