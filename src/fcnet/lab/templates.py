"""Slides 2, 4 and 12-17: an image is a vector; the rows of W are class templates; W2 combines W1's templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import nn
from fcnet.data import load as load_data
from fcnet.errors import DataError
from fcnet.lab.common import accuracy, image_data, slide_title, tr, train
from fcnet.lab.report import LabResult, Table
from fcnet.viz.plots import save_figure

SLIDES = "2, 4, 12-17"
SLIDE_2_IMAGE = [[76, 32], [4, 157]]  # slide 2: a 2x2 image becomes x = [76, 32, 4, 157]
SLIDE_2_VECTOR = [76, 32, 4, 157]
HIDDEN = 20
EPOCHS = 25  # digits; --full: 40


def _image(row: np.ndarray, shape: tuple[int, int, int], layout: str) -> np.ndarray:
    h, w, c = shape
    if c == 1:
        img = row.reshape(h, w)
    elif layout == "chw":
        img = row.reshape(c, h, w).transpose(1, 2, 0)
    else:
        img = row.reshape(h, w, c)
    return (img - img.min()) / (np.ptp(img) + 1e-12)


def _draw(rows: np.ndarray, shape: tuple[int, int, int], layout: str, titles: list[str], path: Path,
          title: str) -> Path:
    n = len(rows)
    cols = min(n, 10)
    nr = (n + cols - 1) // cols
    fig, axes = plt.subplots(nr, cols, figsize=(1.35 * cols, 1.45 * nr + 0.7), squeeze=False)
    for ax, row, t in zip(np.ravel(axes), rows, titles, strict=False):
        ax.imshow(_image(row, shape, layout), cmap="gray" if shape[2] == 1 else None)
        ax.set_title(t, fontsize=8.5)
    for ax in np.ravel(axes):
        ax.axis("off")
    fig.suptitle(title)
    return save_figure(fig, path)


def image_to_vector() -> list[int]:
    """Slide 2: the pixels of the 2x2 image read row by row, as fcnet flattens an image."""
    return [int(v) for v in fcnet.tensor(np.array(SLIDE_2_IMAGE, dtype=np.float64)).reshape(-1).numpy()]


def template_scores(w: np.ndarray, x: np.ndarray, y: np.ndarray, num_classes: int) -> tuple[float, np.ndarray]:
    """Share of rows w_c of W that correlate best with the mean image of their own class c, and the correlations."""
    means = np.stack([x[y == c].mean(axis=0) for c in range(num_classes)])
    corr = np.corrcoef(np.vstack([w, means]))[: len(w), len(w):]
    return float((corr.argmax(axis=1) == np.arange(len(w))).mean()), corr


def _linear_and_two_layer(ds: Any, epochs: int, seed: int) -> tuple[nn.Module, nn.Module, np.ndarray, np.ndarray]:
    # raw pixels scaled to [0, 1], not standardised, so that rows of W live in image space
    xtr = (ds.x_train / ds.preprocess.scale).astype(np.float32)
    xte = (ds.x_test / ds.preprocess.scale).astype(np.float32)
    rng = np.random.default_rng(seed)  # draws the initial weights of both nets, in this order
    linear = nn.FullyConnectedNet(ds.num_features, [], ds.num_classes, init="zeros", rng=rng)
    train(linear, xtr, ds.y_train, epochs=epochs, lr=3e-3, l2=1e-3, seed=seed)
    two = nn.FullyConnectedNet(ds.num_features, [HIDDEN], ds.num_classes, rng=rng)
    train(two, xtr, ds.y_train, epochs=epochs, lr=3e-3, l2=1e-3, seed=seed)
    return linear, two, xtr, xte


MIRRORED = 3  # slides 15-17's "two horse heads": digits' class 3, half of its images mirrored left-right


CIFAR_MIRRORED = "horse"  # slides 15-16's own example


def mirror_class(x: np.ndarray, y: np.ndarray, c: int, seed: int, shape: tuple[int, int, int] = (8, 8, 1),
                 layout: str = "hwc") -> tuple[np.ndarray, np.ndarray]:
    """Mirror a random half of class ``c``'s images left-right: one class, two modes facing opposite ways.

    ``shape`` is (height, width, channels); ``layout`` "hwc" or "chw" says how a row stores them.
    Returns the new images and each image's mode (−1: another class, 0: as drawn, 1: mirrored).
    """
    x = x.copy()
    rng = np.random.default_rng(seed)
    idx = np.nonzero(y == c)[0]
    flip = idx[rng.random(len(idx)) < 0.5]
    h, w, ch = shape
    if layout == "chw":
        x[flip] = x[flip].reshape(-1, ch, h, w)[..., ::-1].reshape(len(flip), -1)
    else:
        x[flip] = x[flip].reshape(-1, h, w, ch)[:, :, ::-1, :].reshape(len(flip), -1)
    mode = np.full(len(y), -1)
    mode[idx] = 0
    mode[flip] = 1
    return x, mode


MODES_HIDDEN = 64  # slide 17: "adjusting W1's number of rows adds templates"; 20 rows are too few here
MODES_SEEDS = 6  # the facing statistic is measured over this many seeds (0, 1, ...), not on one picture


def facings(w: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Each row's facing: its correlation with d = mean(mode 0) − mean(mode 1), in [−1, 1]."""
    wc, dc = w - w.mean(axis=1, keepdims=True), d - d.mean()
    return (wc @ dc) / (np.linalg.norm(wc, axis=1) * np.linalg.norm(dc) + 1e-12)


def both_ways(facing: np.ndarray, used: np.ndarray | None = None) -> float:
    """How strongly W1 faces BOTH ways: min(max_j f_j, −min_j f_j) over the rows j class c uses (W2[c, j] > 0).

    Positive only if one row faces each way; as large as the weaker of the two best-facing rows.
    """
    f = facing if used is None or not used.any() else facing[used]
    return float(min(f.max(), -f.min()))


def two_modes(ds: Any, epochs: int, seed: int, cls: int = MIRRORED, hidden: int | None = None) -> dict[str, Any]:
    """Slides 15-17: on a class with two mirrored modes, the linear W has one template for both; W1 may have
    rows facing each way.  A row's facing is its correlation with d = mean(mode 0) − mean(mode 1); the same
    statistic on W1 before training (random rows) is the chance level.
    """
    hidden = MODES_HIDDEN if hidden is None else hidden
    shape = ds.preprocess.image_shape or (8, 8, 1)
    layout = ds.preprocess.layout or "hwc"
    xtr, mtr = mirror_class(ds.x_train / ds.preprocess.scale, ds.y_train, cls, seed, shape, layout)
    xte, _ = mirror_class(ds.x_test / ds.preprocess.scale, ds.y_test, cls, seed + 1, shape, layout)
    xtr, xte = xtr.astype(np.float32), xte.astype(np.float32)
    linear = nn.FullyConnectedNet(ds.num_features, [], ds.num_classes, init="zeros", rng=seed)
    train(linear, xtr, ds.y_train, epochs=epochs, lr=3e-3, l2=1e-3, seed=seed)
    two = nn.FullyConnectedNet(ds.num_features, [hidden], ds.num_classes, rng=seed)
    w1_untrained = two[0].weight.numpy().copy()
    train(two, xtr, ds.y_train, epochs=epochs, lr=3e-3, l2=1e-3, seed=seed)
    mode0, mode1 = xtr[mtr == 0].mean(0), xtr[mtr == 1].mean(0)
    d = mode0 - mode1
    w, w1, w2 = linear[0].weight.numpy(), two[0].weight.numpy(), two[2].weight.numpy()
    facing, facing0 = facings(w1, d), facings(w1_untrained, d)
    used = w2[cls] > 0
    fu = np.where(used, facing, np.nan)
    c = ds.y_test == cls
    return {"mode_means": (mode0, mode1), "linear_row": w[cls], "w1": w1, "facing": facing,
            "linear_facing": float(facings(w[cls:cls + 1], d)[0]), "hidden": hidden,
            "w1_facing_max": float(np.nanmax(fu)), "w1_facing_min": float(np.nanmin(fu)),
            "toward_0": int(np.nanargmax(fu)), "toward_1": int(np.nanargmin(fu)),
            "both_ways": both_ways(facing, used), "both_ways_untrained": both_ways(facing0),
            "top_units": [int(j) for j in np.argsort(-w2[cls])[:4]], "w2_row": w2[cls],
            "linear_class_accuracy": accuracy(linear, xte[c], ds.y_test[c]),
            "two_layer_class_accuracy": accuracy(two, xte[c], ds.y_test[c]),
            "linear_accuracy": accuracy(linear, xte, ds.y_test), "two_layer_accuracy": accuracy(two, xte, ds.y_test),
            "shape": shape, "layout": layout, "class": cls}


def facing_over_seeds(ds: Any, epochs: int, seeds: int, cls: int = MIRRORED,
                      hidden: int | None = None) -> list[dict[str, Any]]:
    """:func:`two_modes` at seeds 0 .. seeds−1: the per-seed numbers the slides 15-17 claim rests on."""
    keep = ("both_ways", "both_ways_untrained", "linear_facing", "toward_0", "toward_1", "hidden",
            "linear_class_accuracy", "two_layer_class_accuracy")
    rows = []
    for s in range(seeds):
        m = two_modes(ds, epochs, s, cls, hidden)
        rows.append({"seed": s, **{k: m[k] for k in keep}})
    return rows


def _figure_modes(out: Path, m: dict[str, Any], name: str = "templates_two_modes.png", label: str = "") -> Path:
    lab = label or str(MIRRORED)
    pics = [(m["mode_means"][0], tr(f"mean '{lab}'\nas drawn", f"“{lab}”平均\n原方向")),
            (m["mode_means"][1], tr(f"mean '{lab}'\nmirrored", f"“{lab}”平均\n镜像")),
            (m["linear_row"], tr(f"linear W row {lab}\nfacing {m['linear_facing']:+.2f}",
                                 f"线性 W 第{lab}行\n朝向 {m['linear_facing']:+.2f}")),
            (m["w1"][m["toward_0"]], tr(f"W1 row {m['toward_0']}\nfacing {m['w1_facing_max']:+.2f}",
                                        f"W1 第{m['toward_0']}行\n朝向 {m['w1_facing_max']:+.2f}")),
            (m["w1"][m["toward_1"]], tr(f"W1 row {m['toward_1']}\nfacing {m['w1_facing_min']:+.2f}",
                                        f"W1 第{m['toward_1']}行\n朝向 {m['w1_facing_min']:+.2f}"))]
    fig, axes = plt.subplots(1, len(pics), figsize=(1.9 * len(pics), 2.9))
    for ax, (img, title) in zip(axes, pics, strict=True):
        ax.imshow(_image(img, m["shape"], m["layout"]), cmap="gray" if m["shape"][2] == 1 else None)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.suptitle(slide_title("15-17", f"one class, two mirrored modes: W has one template, W1 ({m['hidden']} rows) "
                             f"one per facing\n(untrained W1 reaches {m['both_ways_untrained']:.2f} both ways "
                             "by chance)",
                             f"一个类别两个镜像模式: W 只有一个模板, W1 ({m['hidden']} 行) 每个方向各有模板\n"
                             f"(未训练 W1 随机即可达到双向 {m['both_ways_untrained']:.2f})"), fontsize=10)
    return save_figure(fig, out / name)


def run(out: Path, seed: int = 0, full: bool = False, data: str = "digits") -> LabResult:
    """Slide 2's vector; train f = Wx + b and f = W2 max(0, W1 x + b1) + b2; draw W, W1 and W2's combinations."""
    ds = image_data(data, None if full else (None if data == "digits" else 10000), seed)
    shape = ds.preprocess.image_shape or (1, ds.num_features, 1)
    layout = ds.preprocess.layout
    linear, two, _, xte = _linear_and_two_layer(ds, 40 if full else EPOCHS, seed)
    w, w1, w2 = linear[0].weight.numpy(), two[0].weight.numpy(), two[2].weight.numpy()
    figs = [_draw(w, shape, layout, ds.classes, out / "templates_linear.png",
                  slide_title("12", f"rows of W are templates, one per class ({data})",
                              f"线性分类器中的 W 可看作模板，模板个数由类别个数决定（{data}）")),
            _draw(w1, shape, layout, [tr(f"unit {i}", f"模板 {i}") for i in range(len(w1))],
                  out / "templates_w1.png",
                  slide_title("13", f"W1 is also a set of templates; {HIDDEN} chosen by us",
                              f"W1 也可看作模板；模板个数人为指定（{HIDDEN} 个）"))]
    # slide 14: W2 fuses the match scores of W1's templates; row c of W2·W1 is what class c looks for
    combined = w2 @ w1
    top = np.argsort(-w2, axis=1)[:, :3]
    figs.append(_draw(combined, shape, layout,
                      [f"{c}: {'+'.join(str(j) for j in top[i][:2])}" for i, c in enumerate(ds.classes)],
                      out / "templates_w2_combined.png",
                      slide_title("14-17", "W2 combines W1's templates: rows of W2·W1 (title: strongest units)",
                                  "W2 融合多个模板的匹配结果：W2·W1 的各行（标题：权重最大的模板）")))
    acc_lin, acc_two = accuracy(linear, xte, ds.y_test), accuracy(two, xte, ds.y_test)
    matched, _ = template_scores(w, ds.x_train, ds.y_train, ds.num_classes)
    matched_two, _ = template_scores(combined, ds.x_train, ds.y_train, ds.num_classes)
    vec = image_to_vector()
    tables = [
        Table(tr("slide 2: a 2x2 image becomes a column vector", "第2页：直接利用原始像素作为特征，展开为列向量"),
              [tr("image", "图像"), tr("slide x", "幻灯片 x"), "fcnet x"],
              [[str(SLIDE_2_IMAGE), str(SLIDE_2_VECTOR), str(vec)]]),
        Table(tr(f"slides 12-17: test accuracy on {ds.name} ({40 if full else EPOCHS} epochs, seed {seed})",
                 f"第12-17页：{ds.name} 测试集准确率（{40 if full else EPOCHS}轮，种子 {seed}）"),
              [tr("model", "模型"), tr("test accuracy", "准确率")],
              [[tr("linear f = Wx + b", "线性分类器 f = Wx + b"), acc_lin],
               [tr(f"2-layer, {HIDDEN} hidden units", f"两层全连接网络，{HIDDEN} 个隐层神经元"), acc_two]]),
        Table(tr("slide 12: does template c look like class c? (correlation with each class's mean image)",
                 "第12页：模板 c 是否像类别 c？（与各类平均图像的相关性）"),
              [tr("templates", "模板"),
               tr("share whose best-matching class mean is their own class", "与本类均值最相似的比例")],
              [[tr("rows of W (linear)", "W 的行（线性分类器）"), matched],
               [tr("rows of W2·W1 (2-layer)", "W2·W1 的行（两层网络）"), matched_two]]),
        Table(tr("slide 14: the three W1 templates each class's row of W2 weighs most",
                 "第14页：W2 每一行中权重最大的三个 W1 模板"),
              [tr("class", "类别"), tr("units (weight)", "模板（权重）")],
              [[c, ", ".join(f"{j} ({w2[i, j]:+.2f})" for j in top[i])] for i, c in enumerate(ds.classes)]),
    ]
    numbers: dict[str, Any] = {"linear_accuracy": acc_lin, "two_layer_accuracy": acc_two,
                               "templates_matching_class_mean": matched, "combined_matching_class_mean": matched_two,
                               "slide2_vector": vec}
    if data == "digits":
        epochs = 40 if full else EPOCHS
        modes = two_modes(ds, epochs, seed, cls=MIRRORED)
        figs.append(_figure_modes(out, modes))
        many = facing_over_seeds(ds, epochs, MODES_SEEDS, MIRRORED, MODES_HIDDEN)
        few = facing_over_seeds(ds, epochs, MODES_SEEDS, MIRRORED, HIDDEN)
        tables.append(Table(
            tr(f"slides 15-17: digits' class {MIRRORED} with half its images mirrored (two modes facing opposite "
               "ways). 'facing' of a row = its correlation with mean(as drawn) − mean(mirrored); 'both ways' = "
               f"min(largest facing, −smallest facing) over the W1 rows class {MIRRORED} weighs positively; "
               "'untrained' = the same W1 before training (chance level)",
               f"第15-17页: digits 的类别 {MIRRORED}, 其中一半图像左右镜像 (两个方向相反的模式)。行的“朝向” = 它与 "
               "平均(原方向) − 平均(镜像) 的相关系数; “双向” = W2 对该类权重为正的 W1 行中 min(最大朝向, −最小朝向); "
               "“未训练” = 训练前的同一 W1 (随机水平)"),
            [tr("seed", "种子"), tr(f"both ways, {MODES_HIDDEN} rows", f"双向, {MODES_HIDDEN} 行"),
             tr("untrained", "未训练"), tr(f"both ways, {HIDDEN} rows", f"双向, {HIDDEN} 行"),
             tr("untrained", "未训练"), tr(f"linear W row {MIRRORED} facing", f"线性 W 第{MIRRORED}行朝向"),
             tr(f"class {MIRRORED} accuracy: linear", f"类别 {MIRRORED} 准确率: 线性"),
             tr(f"{MODES_HIDDEN} rows", f"{MODES_HIDDEN} 行")],
            [[m["seed"], m["both_ways"], m["both_ways_untrained"], f["both_ways"], f["both_ways_untrained"],
              m["linear_facing"], m["linear_class_accuracy"], m["two_layer_class_accuracy"]]
             for m, f in zip(many, few, strict=True)]))
        numbers["two_modes"] = {k: v for k, v in modes.items()
                                if k not in ("mode_means", "linear_row", "w1", "facing", "w2_row")}
        numbers["two_modes_seeds"] = {"many": many, "few": few}
        beats = sum(m["both_ways"] > m["both_ways_untrained"] for m in many)
        beats_few = sum(f["both_ways"] > f["both_ways_untrained"] for f in few)
        numbers["two_modes_beats_untrained"] = {MODES_HIDDEN: beats, HIDDEN: beats_few}
    cifar = _cifar(out, seed, full) if data == "digits" else None
    if cifar is None:
        tables.append(Table(tr("CIFAR-10 (slide 2's 3072-vectors, slides 15-17's horse templates)",
                               "CIFAR-10（第2页的3072维向量，第15-17页的马的模板）"),
                            [tr("note", "说明")],
                            [[tr("CIFAR-10 not found on this machine: skipped (`fcnet datasets` says where to put it)",
                                 "本机未找到 CIFAR-10，已跳过（`fcnet datasets` 会说明放在哪里）")]]))
    else:
        tables += cifar.tables
        figs += cifar.figures
        numbers["cifar10"] = cifar.numbers
    claim = tr("Slide 2: an image's raw pixels, unrolled, are its feature vector. Slide 12: the W of a linear "
               "classifier can be seen as templates, one per class. Slides 13-14: in a fully connected net W1 is "
               "also a set of templates, as many as we choose, and W2 fuses their match scores into the class "
               "scores. Slide 17: the net describes more (more templates), so it classifies better. ",
               "第2页：直接利用原始像素作为特征，展开为列向量。第12页：线性分类器中的 W 可看作模板，"
               "模板个数由类别个数决定。第13-14页：全连接神经网络中 W1 也可看作模板，模板个数人为指定；"
               "W2 融合这多个模板的匹配结果来实现最终类别打分。第17页：全连接神经网络的描述能力更强。")
    if "two_modes_seeds" in numbers:
        many, few = numbers["two_modes_seeds"]["many"], numbers["two_modes_seeds"]["few"]
        n_many, n_few = numbers["two_modes_beats_untrained"][MODES_HIDDEN], numbers["two_modes_beats_untrained"][HIDDEN]
        lin_max = max(abs(m["linear_facing"]) for m in many)
        acc_l = float(np.mean([m["linear_class_accuracy"] for m in many]))
        acc_t = float(np.mean([m["two_layer_class_accuracy"] for m in many]))
        worse = [m["seed"] for m in many if m["two_layer_class_accuracy"] <= m["linear_class_accuracy"]]
        claim += tr(
            "Slides 15-17 (15-16 draw the two horse heads; the words are slide 17's), 'more rows in W1 can learn "
            f"horse templates facing both ways', measured on digits' class "
            f"{MIRRORED} with half its images mirrored, over {MODES_SEEDS} seeds: with {MODES_HIDDEN} rows, W1 has a "
            f"row facing each way beyond an untrained W1's level at {n_many} of {MODES_SEEDS} seeds; with {HIDDEN} "
            f"rows at only {n_few} of {MODES_SEEDS} (too few rows, the slide fails). W's one row faces neither way "
            f"(|facing| ≤ {lin_max:.2f}). The net classifies the class better on average ({acc_t:.3f} vs "
            f"{acc_l:.3f})" + (f", not at seed{'s' if len(worse) > 1 else ''} {', '.join(map(str, worse))}."
                               if worse else ", at every seed."),
            f"第15-17页（两个马头，第17页的原话）“调整 W1 行数, 分类器有机会学到两个不同方向的马的模板”, "
            f"在 digits 类别 {MIRRORED} (一半图像镜像) 上用 {MODES_SEEDS} 个种子测量: "
            f"W1 有 {MODES_HIDDEN} 行时, 在 {n_many}/{MODES_SEEDS} 个种子上"
            "各有一行朝向一个方向, "
            f"超过未训练 W1 的随机水平; 只有 {HIDDEN} 行时仅 {n_few}/{MODES_SEEDS} (行数太少, 该页结论不成立)。"
            f"线性 W 中该类唯一的一行两个方向都不偏向 (|朝向| ≤ {lin_max:.2f})。网络对该类平均分类更准 "
            f"({acc_t:.3f} 对 {acc_l:.3f})"
            + (f", 但种子 {', '.join(map(str, worse))} 上不是。" if worse else ", 每个种子都是。"))
        numbers["two_modes_class_accuracy_mean"] = {"linear": acc_l, "two_layer": acc_t}
    summary = tr(
        "Rows of W are class templates (slide 12); W2 combines W1's templates (13-14); the net classifies better "
        f"({acc_two:.3f} vs {acc_lin:.3f} on the {ds.name} test set, seed {seed}; 17)."
        + (f" Two mirrored modes of one class (15-17): W1 grows a row facing each way beyond an untrained W1 at "
           f"{numbers['two_modes_beats_untrained'][MODES_HIDDEN]} of {MODES_SEEDS} seeds with {MODES_HIDDEN} rows, "
           f"only {numbers['two_modes_beats_untrained'][HIDDEN]} with {HIDDEN}." if "two_modes_seeds" in numbers
           else ""),
        "W 的行是各类的模板 (第12页); W2 融合 W1 的模板 (第13-14页); "
        f"网络分类更准 ({ds.name} 测试集 {acc_two:.3f} 对 {acc_lin:.3f}, 种子 {seed}; 第17页)。"
        + (f"一类两个镜像模式 (第15-17页): W1 有 {MODES_HIDDEN} 行时在 "
           f"{numbers['two_modes_beats_untrained'][MODES_HIDDEN]}/{MODES_SEEDS} 个种子上"
           "各有一行朝向一个方向 (超过未训练 W1), "
           f"{HIDDEN} 行时仅 {numbers['two_modes_beats_untrained'][HIDDEN]} 个。" if "two_modes_seeds" in numbers
           else ""))
    return LabResult("templates", SLIDES, tr("Image vectors and templates", "图像表示与权值模板"), claim, tables,
                     figs, numbers,
                     summary=summary,
                     formulas=[r"f(x,W)=Wx+b", r"f=W_2\max(0,\,W_1x+b_1)+b_2"])


def _cifar(out: Path, seed: int, full: bool) -> LabResult | None:
    """The linear templates on CIFAR-10 when the user has it (never downloaded by the lab)."""
    try:
        ds = load_data("cifar10", download=False)
    except DataError:
        return None
    ds = ds.subset(None if full else 5000, seed=seed)
    linear, _, _, xte = _linear_and_two_layer(ds, 10 if full else 3, seed)
    w = linear[0].weight.numpy()
    fig = _draw(w, ds.preprocess.image_shape, ds.preprocess.layout, ds.classes, out / "templates_cifar10.png",
                slide_title("12, 15", "rows of W on CIFAR-10: one template per class",
                            "CIFAR-10 上线性分类器 W 的模板"))
    matched, _ = template_scores(w, ds.x_train, ds.y_train, ds.num_classes)
    acc = accuracy(linear, xte, ds.y_test)
    tables = [Table(tr("CIFAR-10, linear classifier", "CIFAR-10，线性分类器"),
                    [tr("images", "图像数"), tr("test accuracy", "准确率"),
                     tr("templates matching their class mean", "与本类均值最相似的模板比例")],
                    [[len(ds.x_train), acc, matched]])]
    figs = [fig]
    numbers: dict[str, Any] = {"accuracy": acc, "templates_matching_class_mean": matched}
    if CIFAR_MIRRORED in ds.classes:  # slides 15-16's two horse heads, made so by mirroring half the horses
        cls = ds.classes.index(CIFAR_MIRRORED)
        m = two_modes(ds, 10 if full else 3, seed, cls=cls)
        figs.append(_figure_modes(out, m, "templates_cifar10_two_modes.png", CIFAR_MIRRORED))
        tables.append(Table(
            tr(f"slides 15-17 on CIFAR-10: half the {CIFAR_MIRRORED} images mirrored; 'facing' = correlation with "
               "mean(as drawn) − mean(mirrored)", f"第15-17页 (CIFAR-10): 一半 {CIFAR_MIRRORED} 图像镜像; "
               "“朝向” = 与 平均(原方向) − 平均(镜像) 的相关系数"),
            [tr("template", "模板"), tr("facing", "朝向"), tr("test accuracy on the class", "该类测试准确率")],
            [[tr("linear W (the class's only template)", "线性 W (该类唯一的模板)"), m["linear_facing"],
              m["linear_class_accuracy"]],
             [tr(f"W1 row {m['toward_0']}", f"W1 第{m['toward_0']}行"), m["w1_facing_max"],
              m["two_layer_class_accuracy"]],
             [tr(f"W1 row {m['toward_1']}", f"W1 第{m['toward_1']}行"), m["w1_facing_min"],
              m["two_layer_class_accuracy"]]]))
        numbers["two_modes"] = {k: v for k, v in m.items()
                                if k not in ("mode_means", "linear_row", "w1", "facing", "w2_row")}
    return LabResult("templates-cifar10", SLIDES, "", "", tables, figs, numbers)
