"""The exercises in one table: slides, section, texts (en/zh), the student's functions, and typical mistakes.

Each :class:`Exercise` names the functions a student writes (signature and docstring with the slide's
formula and claim, in English and Chinese), the graders (``graders.TESTS[name]``), the reference
solution (``fcnet/exercise/solutions/<name>.py``) and a catalogue of typical mistakes: each is an edit
of the reference solution together with the symptom the grader must name when it meets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

__all__ = ["EXERCISES", "Exercise", "Func", "Mistake", "solution_source"]


@dataclass(frozen=True)
class Func:
    """A function the student writes: ``signature`` (after ``def``) and its docstring in both languages."""

    signature: str
    en: str
    zh: str


@dataclass(frozen=True)
class Mistake:
    """A typical mistake: ``edits`` (old, new) applied to the reference solution; ``symptom`` the grader names."""

    name: str
    symptom: str
    edits: tuple[tuple[str, str], ...]
    en: str


@dataclass(frozen=True)
class Exercise:
    name: str
    slides: str
    section: str
    title: tuple[str, str]
    claim: tuple[str, str]
    funcs: tuple[Func, ...]
    demo: str
    mistakes: tuple[Mistake, ...] = field(default=())
    runnable: bool = False


def solution_source(name: str) -> str:
    """The reference solution of exercise ``name`` (a module a student could have written)."""
    return resources.files("fcnet.exercise.solutions").joinpath(f"{name}.py").read_text(encoding="utf-8")


def _m(name: str, symptom: str, old: str, new: str, en: str) -> Mistake:
    return Mistake(name, symptom, ((old, new),), en)


EXERCISES: dict[str, Exercise] = {e.name: e for e in [
    Exercise(
        "sigmoid_neuron", "70-77", "backprop",
        ("The sigmoid neuron, forward and backward", "Sigmoid 神经元的前向与反向传播"),
        ("f(w, x) = 1 / (1 + e^−(w0 x0 + w1 x1 + w2)). With w = [2, −3, −3], x = [−1, −2] the slides get "
         "f = 0.73 and, backpropagating gate by gate, df/dw = [−0.20, −0.39, 0.20], df/dx = [0.39, −0.59]. "
         "Slide 78: the whole sigmoid is one gate with dσ/ds = (1 − σ(s))σ(s).",
         "f(w, x) = 1 / (1 + e^−(w0 x0 + w1 x1 + w2))。取 w = [2, −3, −3]，x = [−1, −2]，幻灯片得到 f = 0.73，"
         "逐个门反向传播得到 df/dw = [−0.20, −0.39, 0.20]，df/dx = [0.39, −0.59]。"
         "第78页：整个 sigmoid 可以看作一个门，dσ/ds = (1 − σ(s))σ(s)。"),
        (Func("neuron_forward(w, x)",
              "f = σ(s), s = Σ_i w_i x_i + w_N (the last weight is the bias).\n\n"
              "w: shape (N + 1,), x: shape (N,). Returns the number f.",
              "f = σ(s)，s = Σ_i w_i x_i + w_N（最后一个权值为偏置）。\n\n"
              "w：形状 (N + 1,)，x：形状 (N,)。返回数值 f。"),
         Func("neuron_backward(w, x)",
              "df/dw and df/dx by the chain rule: df/ds = (1 − σ(s))σ(s), ds/dw_i = x_i, ds/dw_N = 1, ds/dx_i = "
                  "w_i.\n\n"
              "Returns (dw of shape (N + 1,), dx of shape (N,)).",
              "用链式法则求 df/dw 与 df/dx：df/ds = (1 − σ(s))σ(s)，ds/dw_i = x_i，ds/dw_N = 1，ds/dx_i = w_i。\n\n"
              "返回 (dw，形状 (N + 1,)；dx，形状 (N,))。")),
        "w, x = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])\n"
        "print(student.neuron_forward(w, x))   # slide 77: 0.73\n"
        "print(student.neuron_backward(w, x))  # slide 77: [-0.20, -0.39, 0.20], [0.39, -0.59]",
        (_m("sigma_at_output", "sigma_at_output", "ds = (1.0 - f) * f",
            "sf = 1.0 / (1.0 + np.exp(-f))\n    ds = (1.0 - sf) * sf",
                "σ′ taken at the output f instead of the input s"),
         _m("wrong_sign", "sign", "dx = ds * w[:-1]", "dx = -ds * w[:-1]", "dx with the wrong sign"),
         _m("no_swap", "mul_no_swap", "dx = ds * w[:-1]", "dx = ds * x", "the mul gate not swapping its inputs")),
    ),
    Exercise(
        "gates", "69-70", "backprop",
        ("Gates and their local gradients", "门单元及其局部梯度"),
        ("Each gate passes back the upstream gradient g times its local gradient: add distributes g, mul swaps "
         "its inputs, max routes g to the larger input; eˣ → eˣ, 1/x → −1/x² (slides 69-70, 78-79).",
         "每个门把上游梯度 g 乘以局部梯度传回：加法门分配 g，乘法门交换输入，max 门把 g 传给较大的输入；"
         "eˣ → eˣ，1/x → −1/x²（第69-70、78-79页）。"),
        (Func("add_backward(g, a, b)", "out = a + b. Returns (dL/da, dL/db) given g = dL/d(out).",
              "out = a + b。已知 g = dL/d(out)，返回 (dL/da, dL/db)。"),
         Func("mul_backward(g, a, b)", "out = a · b (elementwise). Returns (dL/da, dL/db).",
              "out = a · b（逐元素）。返回 (dL/da, dL/db)。"),
         Func("max_backward(g, a, b)", "out = max(a, b) (elementwise, no ties). Returns (dL/da, dL/db).",
              "out = max(a, b)（逐元素，无相等情况）。返回 (dL/da, dL/db)。"),
         Func("exp_backward(g, a)", "out = e^a. Returns dL/da.", "out = e^a。返回 dL/da。"),
         Func("inv_backward(g, a)", "out = 1/a. Returns dL/da.", "out = 1/a。返回 dL/da。")),
        "print(student.inv_backward(np.array(1.0), np.array(1.37)))  # slide 73: -0.53\n"
        "print(student.mul_backward(np.array(0.2), np.array(2.0), np.array(-1.0)))  # (-0.2, 0.4)",
        (_m("mul_no_swap", "mul_no_swap", "return g * b, g * a", "return g * a, g * b", "mul gate without the swap"),
         _m("inv_sign", "sign", "return -g / (a * a)", "return g / (a * a)", "1/x gate with the wrong sign"),
         _m("max_routing", "max_routing", "return g * (a > b), g * (b > a)", "return g * (a < b), g * (b < a)",
            "max gate routing to the smaller input"),
         _m("exp_local", "exp_local", "return g * np.exp(a)", "return g * a", "exp gate's local gradient taken as x")),
    ),
    Exercise(
        "affine", "6-9", "network",
        ("The affine (fully-connected) layer", "仿射（全连接）层"),
        ("A fully-connected layer computes W x + b (slide 6's W₁x + b₁); on a batch of rows X (N, D) with "
         "W (M, D): out = X Wᵀ + b. Backward: dX = g W, dW = gᵀ X, db = Σ_N g.",
         "全连接层计算 W x + b（第6页的 W₁x + b₁）；对一批行向量 X (N, D)，W (M, D)：out = X Wᵀ + b。"
         "反向传播：dX = g W，dW = gᵀ X，db = Σ_N g。"),
        (Func("affine_forward(x, w, b)", "out = x Wᵀ + b. x: (N, D), w: (M, D), b: (M,). Returns (N, M).",
              "out = x Wᵀ + b。x：(N, D)，w：(M, D)，b：(M,)。返回 (N, M)。"),
         Func("affine_backward(g, x, w, b)",
              "g = dL/d(out) of shape (N, M). Returns (dx (N, D), dw (M, D), db (M,)).",
              "g = dL/d(out)，形状 (N, M)。返回 (dx (N, D)，dw (M, D)，db (M,))。")),
        "x, w, b = np.ones((2, 4)), np.arange(12.0).reshape(3, 4) / 10, np.zeros(3)\n"
        "out = student.affine_forward(x, w, b)\n"
        "print(out.shape, [a.shape for a in student.affine_backward(np.ones_like(out), x, w, b)])",
        (_m("transpose_dw", "transpose", "dw = g.T @ x", "dw = x.T @ g", "dW = Xᵀ g: a forgotten transpose"),
         _m("db_mean", "extra_1_over_n", "db = g.sum(axis=0)", "db = g.mean(axis=0)", "db averaged instead of summed"),
         _m("dx_sign", "sign", "dx = g @ w", "dx = -(g @ w)", "dx with the wrong sign"),
         _m("forward_no_transpose", "shape_error", "return x @ w.T + b", "return x @ w + b",
            "forward without Wᵀ (shapes do not fit)")),
        runnable=True,
    ),
    Exercise(
        "activations", "82-86", "network",
        ("Activation functions and their gradients", "激活函数及其梯度"),
        ("σ′(x) = σ(x)(1 − σ(x)) is at most 1/4 and vanishes for large |x| (slide 83: gradients vanish); "
         "tanh′ = 1 − tanh² (slide 84); ReLU′ = 1 for x > 0, 0 below (slide 85); Leaky ReLU max(0.01x, x) "
         "passes 0.01 below 0 (slide 86).",
         "σ′(x) = σ(x)(1 − σ(x)) 最大为 1/4，|x| 较大时趋于 0（第83页：梯度消失）；tanh′ = 1 − tanh²（第84页）；"
         "ReLU′ 在 x > 0 时为 1，否则为 0（第85页）；Leaky ReLU max(0.01x, x) 在 0 以下传回 0.01（第86页）。"),
        (Func("relu(x)", "max(0, x) elementwise.", "逐元素 max(0, x)。"),
         Func("relu_backward(g, x)", "dL/dx = g where x > 0, else 0 (0 at x = 0, as PyTorch).",
              "dL/dx：x > 0 处为 g，否则为 0（x = 0 处取 0，与 PyTorch 相同）。"),
         Func("leaky_relu(x, alpha=0.01)", "max(αx, x) elementwise.", "逐元素 max(αx, x)。"),
         Func("leaky_relu_backward(g, x, alpha=0.01)", "dL/dx = g where x > 0, else α g.",
              "dL/dx：x > 0 处为 g，否则为 α g。"),
         Func("sigmoid(x)", "σ(x) = 1 / (1 + e^−x) elementwise.", "逐元素 σ(x) = 1 / (1 + e^−x)。"),
         Func("sigmoid_backward(g, x)", "dL/dx = g σ(x)(1 − σ(x)), with x the input.",
              "dL/dx = g σ(x)(1 − σ(x))，x 为输入。"),
         Func("tanh(x)", "tanh(x) elementwise.", "逐元素 tanh(x)。"),
         Func("tanh_backward(g, x)", "dL/dx = g (1 − tanh²(x)).", "dL/dx = g (1 − tanh²(x))。")),
        "x = np.linspace(-4, 4, 9)\nprint(student.sigmoid_backward(np.ones(9), x))  # at most 0.25, at x = 0",
        (_m("sigma_at_output", "sigma_at_output", "s = sigmoid(x)\n    return g * s * (1.0 - s)",
            "s = sigmoid(sigmoid(x))\n    return g * s * (1.0 - s)", "σ′ taken at the output σ(x)"),
         _m("tanh_no_square", "tanh_no_square", "return g * (1.0 - t * t)", "return g * (1.0 - t)",
            "tanh′ without the square"),
         _m("leaky_slope", "leaky_slope", "return np.where(x > 0, g, alpha * g)", "return np.where(x > 0, g, 0.0)",
            "Leaky ReLU's slope dropped"),
         _m("relu_mask", "relu_mask", "return g * (x > 0)", "return g * (g > 0)", "ReLU mask taken from g")),
        runnable=True,
    ),
    Exercise(
        "losses", "52-64", "losses",
        ("Softmax cross-entropy and the multiclass hinge loss", "Softmax 交叉熵损失与多类支撑向量机损失"),
        ("L_i = −log(e^{s_y} / Σ_j e^{s_j}) (slide 58) and L_i = Σ_{j≠y} max(0, s_j − s_y + 1). Slide 64: for "
         "[10, −2, 3], [10, 9, 9], [10, −100, −100] (class 0 correct) the hinge loss is 0 while cross-entropy is "
         "0.0004, 0.2395, 1.5e-48 (in log10): it keeps pushing the correct score up.",
         "L_i = −log(e^{s_y} / Σ_j e^{s_j})（第58页）与 L_i = Σ_{j≠y} max(0, s_j − s_y + 1)。第64页：分数为 "
         "[10, −2, 3]、[10, 9, 9]、[10, −100, −100]（正确类别为 0）时，hinge 损失为 0，而交叉熵为 0.0004、0.2395、"
         "1.5e-48（log10）：交叉熵会继续提高正确类别的分数。"),
        (Func("softmax(s)", "Row-wise p_k = e^{s_k} / Σ_j e^{s_j} of scores s (N, C). Subtract each row's max first.",
              "对分数 s (N, C) 按行计算 p_k = e^{s_k} / Σ_j e^{s_j}。先减去每行的最大值。"),
         Func("softmax_ce(s, y)",
              "Mean cross-entropy (natural log) over the batch and its gradient ds = (p − onehot(y)) / N.\n\n"
              "s: (N, C), y: (N,) class indices. Returns (loss, ds). Hint: with m = max_j s_j, write the loss as\n"
              "(m − s_y) + log1p(Σ_{j≠argmax} e^(s_j − m)) so that a tiny loss (slide 64: 1.5e-48) does not "
                  "round to 0.",
              "批量上的平均交叉熵（自然对数）及其梯度 ds = (p − onehot(y)) / N。\n\n"
              "s：(N, C)，y：(N,) 类别下标。返回 (loss, ds)。提示：令 m = max_j s_j，把损失写成\n"
              "(m − s_y) + log1p(Σ_{j≠argmax} e^(s_j − m))，这样极小的损失（第64页：1.5e-48）不会被舍入为 0。"),
         Func("hinge(s, y)",
              "Mean multiclass hinge loss (margin 1) and its gradient ds. Returns (loss, ds).",
              "平均多类支撑向量机损失（间隔为 1）及其梯度 ds。返回 (loss, ds)。")),
        "s, y = np.array([[10.0, -2.0, 3.0], [10.0, 9.0, 9.0], [10.0, -100.0, -100.0]]), np.array([0, 0, 0])\n"
        "for row in s:\n"
        "    print(student.softmax_ce(row[None], y[:1])[0] / np.log(10), student.hinge(row[None], y[:1])[0])",
        (_m("missing_1_over_n", "missing_1_over_n", "return losses.mean(), ds / n", "return losses.mean(), ds",
            "ds without 1/N"),
         _m("wrong_sign", "sign", "    ds = p.copy()\n    ds[rows, y] -= 1.0\n    return losses.mean()",
            "    ds = -p.copy()\n    ds[rows, y] += 1.0\n    return losses.mean()", "ds = onehot − p"),
         _m("hinge_counts_y", "hinge_counts_y", "    margins[rows, y] = 0.0\n", "",
            "the correct class counted in the hinge sum"),
         _m("no_max_shift", "nan", "e = np.exp(s - s.max(axis=1, keepdims=True))", "e = np.exp(s)",
            "softmax without subtracting the max (overflow)"),
         _m("naive_log", "rounds_to_zero", "losses = (m[:, 0] - s[rows, y]) + np.log1p(e.sum(axis=1))",
            "losses = -np.log(p[rows, y])", "−log(p_y): a tiny loss rounds to 0"),
         _m("hinge_missing_correct", "hinge_missing_correct", "ds[rows, y] = -ds.sum(axis=1)", "ds[rows, y] = 0.0",
            "hinge gradient without the correct class's term")),
        runnable=True,
    ),
    Exercise(
        "two_layer", "6-9, 65-79", "backprop",
        ("A two-layer net's full backward pass", "两层网络的完整反向传播"),
        ("f = W₂ max(0, W₁x + b₁) + b₂ (slide 6) with softmax cross-entropy; backpropagation applies the chain "
         "rule gate by gate from the loss back to W₁ (slides 65-79).",
         "f = W₂ max(0, W₁x + b₁) + b₂（第6页），损失为 softmax 交叉熵；反向传播从损失出发逐个门应用链式法则，"
         "一直到 W₁（第65-79页）。"),
        (Func("two_layer_loss(x, y, w1, b1, w2, b2)",
              "Mean softmax cross-entropy of s = relu(x W₁ᵀ + b₁) W₂ᵀ + b₂ and its gradients.\n\n"
              "x: (N, D), y: (N,), w1: (H, D), b1: (H,), w2: (C, H), b2: (C,).\n"
              "Returns (loss, {'w1': dW1, 'b1': db1, 'w2': dW2, 'b2': db2}).",
              "s = relu(x W₁ᵀ + b₁) W₂ᵀ + b₂ 的平均 softmax 交叉熵及其梯度。\n\n"
              "x：(N, D)，y：(N,)，w1：(H, D)，b1：(H,)，w2：(C, H)，b2：(C,)。\n"
              "返回 (loss, {'w1': dW1, 'b1': db1, 'w2': dW2, 'b2': db2})。"),),
        "rng = np.random.default_rng(0)\n"
        "x, y = rng.standard_normal((5, 4)), np.array([0, 1, 2, 0, 1])\n"
        "loss, grads = student.two_layer_loss(x, y, rng.standard_normal((6, 4)), np.zeros(6),\n"
        "                                     rng.standard_normal((3, 6)), np.zeros(3))\n"
        "print(loss, {k: v.shape for k, v in grads.items()})",
        (_m("relu_mask", "relu_mask", "dz = dh * (z > 0)", "dz = dh", "the ReLU gate skipped in backward"),
         _m("missing_1_over_n", "missing_1_over_n", "ds /= n", "ds /= 1", "gradients without 1/N"),
         _m("transpose_dw2", "transpose", "dw2 = ds.T @ h", "dw2 = h.T @ ds", "dW₂ = hᵀ ds: a forgotten transpose"),
         _m("wrong_sign", "sign", "ds = p.copy()\n    ds[rows, y] -= 1.0", "ds = -p.copy()\n    ds[rows, y] += 1.0",
            "ds = onehot − p")),
        runnable=True,
    ),
    Exercise(
        "optimizers", "92-122", "optimization",
        ("SGD, momentum, RMSProp, AdaGrad and Adam steps", "SGD、动量法、RMSProp、AdaGrad 与 Adam 的一步更新"),
        ("Momentum (slides 99-103): v ← μv + (1 − μ)g, θ ← θ − εv; μ = 0 is gradient descent (slide 103). "
         "RMSProp (slide 112): r ← ρr + (1 − ρ)g², θ ← θ − εg/(√r + δ). "
         "AdaGrad (slides 108-111 give its idea; the update is the standard one): r ← r + g². "
         "Adam (slide 117): both, with bias correction ṽ = v/(1 − μᵗ), r̃ = r/(1 − ρᵗ), θ ← θ − εṽ/√(r̃ + δ); "
         "the correction cures the cold start (slide 121).",
         "动量法（第99-103页）：v ← μv + (1 − μ)g，θ ← θ − εv；μ = 0 即梯度下降（第103页）。RMSProp（第112页）："
         "r ← ρr + (1 − ρ)g²，θ ← θ − εg/(√r + δ)。AdaGrad（第108-111页给出其思想；更新式为标准形式）：r ← r + g²。"
         "Adam（第117页）：两者结合，偏差修正 "
         "ṽ = v/(1 − μᵗ)，r̃ = r/(1 − ρᵗ)，θ ← θ − εṽ/√(r̃ + δ)；修正偏差缓解了初期的冷启动问题（第121页）。"),
        (Func("sgd_step(theta, g, lr)", "θ ← θ − ε g. Returns the new θ.", "θ ← θ − ε g。返回新的 θ。"),
         Func("momentum_step(theta, g, v, lr, mu)", "v ← μ v + (1 − μ) g; θ ← θ − ε v. Returns (θ, v).",
              "v ← μ v + (1 − μ) g；θ ← θ − ε v。返回 (θ, v)。"),
         Func("rmsprop_step(theta, g, r, lr, rho, eps)", "r ← ρ r + (1 − ρ) g²; θ ← θ − ε g / (√r + δ). "
              "Returns (θ, r).", "r ← ρ r + (1 − ρ) g²；θ ← θ − ε g / (√r + δ)。返回 (θ, r)。"),
         Func("adagrad_step(theta, g, r, lr, eps)", "r ← r + g²; θ ← θ − ε g / √(r + δ). Returns (θ, r).",
              "r ← r + g²；θ ← θ − ε g / √(r + δ)。返回 (θ, r)。"),
         Func("adam_step(theta, g, v, r, t, lr, mu, rho, eps, bias_correction=True)",
              "v ← μv + (1 − μ)g; r ← ρr + (1 − ρ)g²; ṽ = v/(1 − μᵗ), r̃ = r/(1 − ρᵗ) (ṽ = v, r̃ = r without\n"
              "bias correction); θ ← θ − ε ṽ / √(r̃ + δ). t is the step number, 1 for the first. Returns (θ, v, r).",
              "v ← μv + (1 − μ)g；r ← ρr + (1 − ρ)g²；ṽ = v/(1 − μᵗ)，r̃ = r/(1 − ρᵗ)（无偏差修正时 ṽ = v，r̃ = r）；\n"
              "θ ← θ − ε ṽ / √(r̃ + δ)。t 为步数，第一步为 1。返回 (θ, v, r)。")),
        "theta, g = np.array([1.0, -2.0]), np.array([0.5, -0.1])\n"
        "print(student.adam_step(theta, g, np.zeros(2), np.zeros(2), t=1, lr=0.01, mu=0.9, rho=0.999, eps=1e-8))",
        (_m("sgd_sign", "sign", "return theta - lr * g\n", "return theta + lr * g\n", "θ ← θ + εg"),
         _m("momentum_pytorch", "momentum_pytorch_form", "v = mu * v + (1.0 - mu) * g\n    return theta - lr * v, v",
            "v = mu * v + g\n    return theta - lr * v, v", "v ← μv + g (PyTorch's form)"),
         _m("rmsprop_eps_inside", "eps_inside_root", "theta - lr * g / (np.sqrt(r) + eps), r",
            "theta - lr * g / np.sqrt(r + eps), r", "RMSProp with δ inside the root"),
         _m("adagrad_no_accumulation", "no_accumulation", "r = r + g * g", "r = g * g", "AdaGrad forgetting the sum"),
         Mistake("bias_correction_off_by_one", "bias_correction_off_by_one",
                 (("v_hat = v / (1.0 - mu**t)", "v_hat = v / (1.0 - mu ** (t + 1))"),
                  ("r_hat = r / (1.0 - rho**t)", "r_hat = r / (1.0 - rho ** (t + 1))")),
                 "bias correction with t + 1"),
         _m("bias_correction_always", "bias_correction_ignored", "if bias_correction:", "if True:",
            "bias correction applied even when switched off")),
        runnable=True,
    ),
    Exercise(
        "init", "131-135", "initialization",
        ("Xavier and He initialisation", "Xavier 与 He 初始化"),
        ("Var(w) = 1/N keeps the variance of y = f(Σ w_i z_i) equal to z's (Xavier, slides 131-132, N = fan-in); "
         "ReLU zeroes half, so He doubles it: Var(w) = 2/N (slides 134-135).",
         "Var(w) = 1/N 时 y = f(Σ w_i z_i) 的方差与 z 的方差一致（Xavier，第131-132页，N 为输入神经元个数）；"
         "ReLU 把一半置零，所以 He 初始化把方差加倍：Var(w) = 2/N（第134-135页）。"),
        (Func("xavier_init(n_in, n_out, rng)",
              "W of shape (n_out, n_in) drawn from N(0, 1/N), N = n_in, with the generator rng\n"
              "(np.random.Generator: use rng.standard_normal).",
              "从 N(0, 1/N) 采样形状为 (n_out, n_in) 的 W，N = n_in，使用生成器 rng\n"
              "（np.random.Generator：用 rng.standard_normal）。"),
         Func("he_init(n_in, n_out, rng)", "W of shape (n_out, n_in) drawn from N(0, 2/N), N = n_in, with rng.",
              "用 rng 从 N(0, 2/N) 采样形状为 (n_out, n_in) 的 W，N = n_in。")),
        "w = student.he_init(500, 300, np.random.default_rng(0))\nprint(w.shape, w.var(), 2 / 500)",
        (_m("fan_out", "fan_out", "np.sqrt(1.0 / n_in)", "np.sqrt(1.0 / n_out)", "Xavier with N = fan-out"),
         _m("std_for_var", "std_for_var", "np.sqrt(2.0 / n_in)", "(2.0 / n_in)", "He with σ = 2/N instead of σ² = 2/N"),
         _m("transposed", "transpose", "rng.standard_normal((n_out, n_in)) * np.sqrt(1.0 / n_in)",
            "rng.standard_normal((n_in, n_out)) * np.sqrt(1.0 / n_in)", "W of shape (n_in, n_out)"),
         _m("not_from_rng", "not_from_rng", "rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)",
            "np.random.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)", "ignoring the generator given"),
         _m("xavier_for_he", "xavier_for_he", "np.sqrt(2.0 / n_in)", "np.sqrt(1.0 / n_in)", "He with Xavier's 1/N")),
        runnable=True,
    ),
    Exercise(
        "batchnorm", "137-141", "normalization",
        ("Batch normalisation, training and test modes", "批归一化：训练与测试模式"),
        ("μ_B = (1/m) Σ x_i, σ²_B = (1/m) Σ (x_i − μ_B)², x̂ = (x − μ_B)/√(σ²_B + ε), y = γx̂ + β (slide 141): each "
         "feature comes out with mean 0 and variance 1 before γ, β. Slide 141 also asks what a single test "
         "sample should use: the running statistics replace the batch's, so a single sample gets a fixed output.",
         "μ_B = (1/m) Σ x_i，σ²_B = (1/m) Σ (x_i − μ_B)²，x̂ = (x − μ_B)/√(σ²_B + ε)，y = γx̂ + β（第141页）："
         "在 γ、β 之前每个特征的均值为 0、方差为 1。第141页问单张样本测试时用什么：用累计的统计量代替批统计量，"
         "因此单个样本也有确定的输出。"),
        (Func("batchnorm_forward(x, gamma, beta, eps=1e-5)",
              "Training mode over the batch axis of x (N, D). Returns (y, μ_B, σ²_B).",
              "训练模式，对 x (N, D) 的批维度归一化。返回 (y, μ_B, σ²_B)。"),
         Func("batchnorm_test(x, gamma, beta, running_mean, running_var, eps=1e-5)",
              "Test mode: y = γ (x − running_mean) / √(running_var + ε) + β.",
              "测试模式：y = γ (x − running_mean) / √(running_var + ε) + β。"),
         Func("batchnorm_backward(g, x, gamma, eps=1e-5)",
              "dL/dx, dL/dγ, dL/dβ of training mode for upstream g (N, D); μ_B and σ²_B depend on x too.\n"
              "Returns (dx, dgamma, dbeta).",
              "训练模式下、上游梯度为 g (N, D) 时的 dL/dx、dL/dγ、dL/dβ；μ_B 与 σ²_B 也依赖 x。\n"
              "返回 (dx, dgamma, dbeta)。")),
        "x = np.random.default_rng(0).standard_normal((8, 3)) * 5 + 2\n"
        "y, mean, var = student.batchnorm_forward(x, np.ones(3), np.zeros(3))\n"
        "print(y.mean(axis=0), y.var(axis=0))  # slide 141: 0 and 1",
        (_m("unbiased_var", "bn_unbiased_var",
            "var = ((x - mean) ** 2).mean(axis=0)\n    xhat = (x - mean) / np.sqrt(var + eps)",
            "var = x.var(axis=0, ddof=1)\n    xhat = (x - mean) / np.sqrt(var + eps)", "σ²_B divided by N − 1"),
         _m("eps_outside", "bn_eps_outside", "xhat = (x - mean) / np.sqrt(var + eps)",
            "xhat = (x - mean) / (np.sqrt(var) + eps)", "ε outside the root"),
         _m("test_batch_stats", "bn_test_batch_stats",
            "return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta",
            "return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta",
                "batch statistics at test time"),
         _m("backward_no_mean_terms", "bn_backward_no_mean_terms",
            "dx = gamma * invstd * (g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0))", "dx = gamma * invstd * g",
            "μ_B and σ²_B treated as constants in backward")),
        runnable=True,
    ),
    Exercise(
        "dropout", "155-158", "regularization",
        ("Dropout, the slide's form and the inverted form", "随机失活：讲义形式与反向（inverted）形式"),
        ("Training sets each unit to 0 with probability p, the dropout ratio (slide 157; slide 158: "
         "[0.2, 0.5, 1.3, 0.8, 1.1] → [0, 0.5, 1.3, 0, 1.1]). The slides leave test time open; to keep the "
         "expected output, the slide's form (no scaling in training) scales by 1 − p at test time; the inverted "
         "form scales the kept units by 1/(1 − p) in training and leaves test time alone.",
         "训练时每个单元以概率 p（随机失活比率，第157页）被设为 0（第158页：[0.2, 0.5, 1.3, 0.8, 1.1] → "
         "[0, 0.5, 1.3, 0, 1.1]）。课件没有给出测试时的做法；为保持输出的期望，讲义形式（训练时不缩放）"
         "在测试时乘以 1 − p；反向形式在训练时把保留的单元乘以 1/(1 − p)，测试时不做处理。"),
        (Func("dropout_forward(x, p, train, rng, inverted=True)",
              "Returns (out, mask). Training: mask = rng.random(x.shape) >= p (True = kept), out = x·mask, divided\n"
              "by 1 − p in the inverted form. Test (train=False): mask None; out = x (inverted) or x·(1 − p).",
              "返回 (out, mask)。训练：mask = rng.random(x.shape) >= p（True 表示保留），out = x·mask，反向形式再除以\n"
              "1 − p。测试（train=False）：mask 为 None；out = x（反向形式）或 x·(1 − p)。"),
         Func("dropout_backward(g, mask, p, inverted=True)", "dL/dx of training mode for upstream g.",
              "训练模式下、上游梯度为 g 时的 dL/dx。")),
        "x = np.array([0.2, 0.5, 1.3, 0.8, 1.1])\n"
        "print(student.dropout_forward(x, 0.4, True, np.random.default_rng(1), inverted=False))  # slide 158",
        (_m("inverted_scaling_at_test", "inverted_scaling_at_test",
            "return (x.copy() if inverted else x * (1.0 - p)), None",
            "return (x / (1.0 - p) if inverted else x * (1.0 - p)), None", "inverted dropout scaling again at test"),
         _m("missing_test_scaling", "missing_test_scaling", "return (x.copy() if inverted else x * (1.0 - p)), None",
            "return (x.copy() if inverted else x.copy()), None", "slide form without the test-time 1 − p"),
         _m("keep_drop_swapped", "keep_drop_swapped", "mask = rng.random(x.shape) >= p",
            "mask = rng.random(x.shape) < p", "p used as the keep probability"),
         _m("scale_by_p", "inverted_scale_p", "out = out / (1.0 - p)", "out = out / p", "inverted scaling by 1/p"),
         _m("not_from_rng", "not_from_rng", "mask = rng.random(x.shape) >= p", "mask = np.random.random(x.shape) >= p",
            "ignoring the generator given")),
        runnable=True,
    ),
    Exercise(
        "clipping", "87", "optimization",
        ("Gradient clipping", "梯度裁剪"),
        ("Exploding gradients (slide 87): off a cliff the step ε·g flies out of the reasonable region. Clipping "
         "limits the step: if ‖g‖ > max_norm (‖g‖ over all gradients together), rescale every gradient by "
         "max_norm/‖g‖; the direction is kept.",
         "梯度爆炸（第87页）：在断崖处步长 ε·g 会“飞”出合理区域。梯度裁剪限制步长：若 ‖g‖ > max_norm"
         "（所有梯度合在一起的范数），把每个梯度乘以 max_norm/‖g‖；方向不变。"),
        (Func("clip_grad_norm(grads, max_norm)",
              "grads: a list of arrays. Returns (clipped list, total norm ‖g‖ before clipping).",
              "grads：数组列表。返回 (裁剪后的列表，裁剪前的总范数 ‖g‖)。"),),
        "grads = [np.full(3, 100.0), np.full(2, -100.0)]\n"
        "clipped, norm = student.clip_grad_norm(grads, 1.0)\n"
        "print(norm, np.sqrt(sum((g * g).sum() for g in clipped)))  # 223.6..., 1.0",
        (_m("per_tensor_norm", "per_tensor_norm", "return [g * coef for g in grads], total",
            "return [g * min(1.0, max_norm / np.sqrt((g * g).sum())) for g in grads], total",
            "each tensor clipped by its own norm"),
         _m("always_rescale", "always_rescale",
             "    if total <= max_norm:\n        return [g.copy() for g in grads], total\n",
            "", "small gradients scaled up to max_norm"),
         _m("clip_value", "clip_value", "coef = max_norm / total\n    return [g * coef for g in grads], total",
            "return [np.clip(g, -max_norm, max_norm) for g in grads], total", "entries clamped (value clipping)")),
        runnable=True,
    ),
]}

SECTIONS = {
    "backprop": ("Computation graphs and backpropagation", "计算图与反向传播"),
    "network": ("Fully-connected layers and activations", "全连接层与激活函数"),
    "losses": ("Loss functions", "损失函数"),
    "optimization": ("Optimization", "梯度算法改进"),
    "initialization": ("Weight initialisation", "权值初始化"),
    "normalization": ("Batch normalisation", "批归一化"),
    "regularization": ("Regularisation", "正则化"),
}
