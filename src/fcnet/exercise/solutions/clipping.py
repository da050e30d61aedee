"""Reference solution: gradient clipping by the global norm (slide 87)."""

import numpy as np


def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(float((g * g).sum()) for g in grads)))
    if total <= max_norm:
        return [g.copy() for g in grads], total
    coef = max_norm / total
    return [g * coef for g in grads], total
