"""Keras's ``Model`` API on every fcnet ``Module``: compile, fit, evaluate, predict, save and load.

``Module.compile/fit/evaluate/predict/save/load`` are thin and call these functions (imported when first
used, so ``fcnet.nn`` does not import ``fcnet.train``).  ``compile`` keeps one ``Trainer`` on the module;
``fit`` delegates to it, so a second ``fit`` continues from the weights and optimizer state, as in Keras.

Losses are applied to the model's outputs as scores (logits): fcnet's nets end in a linear layer, with no
softmax or sigmoid, so ``'sparse_categorical_crossentropy'`` is Keras's loss with ``from_logits=True``,
L = (1/N) Σ_i −log softmax(s_i)[y_i] (``nn.CrossEntropyLoss``), and ``'binary_crossentropy'`` is
−t log σ(s) − (1 − t) log(1 − σ(s)) (``nn.BCEWithLogitsLoss``).  A model ending in a softmax (or, for
``binary_crossentropy``, a sigmoid) is refused: drop the last layer.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import fcnet
from fcnet import backend, nn
from fcnet.errors import DataError
from fcnet.nn.module import Module
from fcnet.optim.optimizer import Optimizer
from fcnet.train.callbacks import Callback
from fcnet.train.history import History
from fcnet.train.trainer import Trainer, outputs

__all__ = ["KERAS_LR", "LOSSES", "METRICS", "Compiled", "compile_model", "evaluate", "fit", "load", "predict", "save"]


@dataclass(frozen=True)
class LossSpec:
    """A Keras loss name's fcnet loss and the targets it takes.

    ``targets``: "indices" (N,) class indices; "one-hot" (N, C) rows, passed on as their class indices
    (the same loss: −Σ_j t_ij log p_ij = −log p_iy for a one-hot row); "values" targets of the outputs' shape.
    ``accuracy``: whether Keras's ``'accuracy'`` metric for this loss (the arg-max's class) is computed.
    """

    make: Callable[[], Module]
    targets: str
    accuracy: bool


# The one table of Keras loss names (Keras's spelling → fcnet's loss on logits); Keras's class names are aliases.
LOSSES: dict[str, LossSpec] = {
    "sparse_categorical_crossentropy": LossSpec(nn.CrossEntropyLoss, "indices", True),
    "categorical_crossentropy": LossSpec(nn.CrossEntropyLoss, "one-hot", True),
    "mean_squared_error": LossSpec(nn.MSELoss, "values", False),
    "binary_crossentropy": LossSpec(nn.BCEWithLogitsLoss, "values", True),  # one output: [s > 0] = [t > 0.5]
}
LOSS_ALIASES: dict[str, str] = {
    "mse": "mean_squared_error", "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy", "MeanSquaredError": "mean_squared_error",
    "BinaryCrossentropy": "binary_crossentropy",
}
# Keras names whose formula differs from every fcnet loss: refused, with the reason
DIFFERENT: dict[str, str] = {
    "categorical_hinge": "Keras's categorical_hinge is max(0, 1 + max_{j≠y} s_j − s_y) and fcnet's "
                         "MulticlassHingeLoss is Σ_{j≠y} max(0, s_j − s_y + 1) (slide 48), a different loss: "
                         "pass loss=fcnet.nn.MulticlassHingeLoss() for fcnet's",
}
METRICS: tuple[str, ...] = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
                             "binary_accuracy")
# Keras's accuracy names that belong to one loss's targets (Keras's would be wrong with another's)
METRIC_TARGETS: dict[str, str] = {"sparse_categorical_accuracy": "indices", "categorical_accuracy": "one-hot",
                                  "binary_accuracy": "values"}
# what Trainer logs besides the loss and metrics; left out of the History that Module.fit returns
TRAINER_KEYS: tuple[str, ...] = ("lr", "time", "samples_per_s", "time_used")

# Keras's default learning rates for the optimizer names of ``recipe.OPTIMIZERS`` (Keras's SGD for both
# gradient-descent forms)
KERAS_LR: dict[str, float] = {"sgd": 0.01, "momentum": 0.01, "rmsprop": 0.001, "adagrad": 0.001, "adam": 0.001,
                              "adamw": 0.001}
# Keras's other defaults, in the options table's names: RMSprop ρ = 0.9, δ = 1e-7; Adam and AdamW δ = 1e-7 outside
# the root, AdamW weight decay 0.004.  Adagrad keeps fcnet's (Keras's starts its accumulator at 0.1, which
# fcnet's Adagrad has not); momentum is fcnet's heavy ball (μ = 0.9), not a Keras name.
KERAS_OPTIONS: dict[str, dict[str, Any]] = {
    "rmsprop": {"rho": 0.9, "eps": 1e-7}, "adam": {"eps": 1e-7, "eps_inside": False},
    "adamw": {"eps": 1e-7, "eps_inside": False, "weight_decay": 0.004},
}


@dataclass
class Compiled:
    """What ``compile`` keeps on a module: its Trainer and the names it was compiled with."""

    trainer: Trainer
    loss: str | None  # the Keras name, None for a loss module
    targets: str
    metrics: list[str]
    config: dict[str, Any]  # the compile arguments as JSON (saved by ``save``), None entries for objects


class _MetricAlias(Callback):
    """Logs the class accuracy under the metric's own names as well, ``acc``/``val_acc`` for ``metrics=["acc"]``
    (Keras names a metric as it was asked for).
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        for name in self.names:
            for key, alias in (("accuracy", name), ("val_accuracy", f"val_{name}")):
                if key in logs:
                    logs[alias] = logs[key]


def _optimizer(model: Module, optimizer: Any) -> tuple[Optimizer, str | None, float | None]:
    from fcnet.train.options import validate
    from fcnet.train.recipe import OPTIMIZERS

    if isinstance(optimizer, Optimizer):
        own = {id(p) for p in model.parameters()}
        if not all(id(p) in own for p in optimizer.params):
            raise ValueError(f"the {type(optimizer).__name__} optimizer was built on other parameters than this "
                             "model's: build it on model.parameters()")
        return optimizer, None, None
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be a name ({', '.join(OPTIMIZERS)}) or an fcnet.optim optimizer built "
                        f"on model.parameters(), got {type(optimizer).__name__}")
    name = optimizer.lower()  # Keras's class names too: "Adam", "RMSprop", "SGD"
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}: use one of {', '.join(OPTIMIZERS)}, or an "
                         "fcnet.optim optimizer built on model.parameters()")
    lr = KERAS_LR[name]
    options = validate({"optimizer": name, "lr": lr, **KERAS_OPTIONS.get(name, {})})
    return OPTIMIZERS[name](model.parameters(), options), name, lr


def _loss(loss: Any) -> tuple[Module, str | None, str]:
    if isinstance(loss, Module):
        return loss, None, "given"
    known = ", ".join([*LOSSES, *LOSS_ALIASES])
    if loss is None:
        raise ValueError(f"compile needs a loss: give loss= one of {known}, or an fcnet loss module")
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a name ({known}) or an fcnet loss module (e.g. nn.CrossEntropyLoss()), "
                        f"got {type(loss).__name__}")
    name = LOSS_ALIASES.get(loss, loss)
    if name in DIFFERENT:
        raise ValueError(DIFFERENT[name])
    if name not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}: use one of {known}, or an fcnet loss module")
    spec = LOSSES[name]
    return spec.make(), name, spec.targets


def _check_last_layer(model: Module, loss_fn: Module) -> None:
    """Refuse a model that already ends in softmax (or sigmoid) before a loss that applies it to the scores."""
    kind = type(list(model.modules())[-1]).__name__
    if (kind in ("Softmax", "LogSoftmax") and isinstance(loss_fn, nn.CrossEntropyLoss | nn.BCEWithLogitsLoss)) or (
            kind == "Sigmoid" and isinstance(loss_fn, nn.BCEWithLogitsLoss)):
        raise ValueError(f"the model ends in {kind}, but {type(loss_fn).__name__} takes the scores (logits) and "
                         f"applies {'σ' if kind == 'Sigmoid' else 'softmax'} itself: remove the last {kind} layer")


def compile_model(model: Module, optimizer: Any = "rmsprop", loss: Any = None, metrics: Sequence[str] | None = None,
            *, loss_weights: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
            steps_per_execution: int = 1, jit_compile: Any = "auto", auto_scale_loss: bool = True,
            **trainer_options: Any) -> None:
    """``Module.compile``: see its docstring."""
    if loss_weights is not None or weighted_metrics is not None:
        raise ValueError("loss_weights and weighted_metrics are for models with several outputs or losses; an "
                         "fcnet model has one output: leave them None (metrics are weighted by sample_weight)")
    if steps_per_execution != 1:
        raise ValueError(f"steps_per_execution={steps_per_execution}: fcnet runs one step at a time, leave it 1")
    metrics = list(metrics or [])
    for m in metrics:
        if m not in METRICS:
            raise ValueError(f"unknown metric {m!r}: use one of {', '.join(METRICS)} (the loss is always reported)")
    loss_fn, loss_name, targets = _loss(loss)
    for m in metrics:
        if loss_name is not None and METRIC_TARGETS.get(m, targets) != targets:
            right = next(k for k, v in METRIC_TARGETS.items() if v == targets)
            raise ValueError(f"metric {m!r} is for the other targets than {loss_name}'s: use "
                             f"metrics=['{right}'] or metrics=['accuracy']")
    if metrics and loss_name is not None and not LOSSES[loss_name].accuracy:
        raise ValueError(f"metric {metrics[0]!r} is class accuracy, which {loss_name} does not give here: leave "
                         "metrics out, or train 2 outputs with 'sparse_categorical_crossentropy'")
    _check_last_layer(model, loss_fn)
    opt, opt_name, lr = _optimizer(model, optimizer)
    trainer = Trainer(model, opt, loss_fn, **trainer_options)
    if set(metrics) - {"accuracy"}:
        trainer.callbacks.append(_MetricAlias([m for m in metrics if m != "accuracy"]))
    config = {"optimizer": opt_name, "learning_rate": lr, "loss": loss_name, "metrics": metrics}
    object.__setattr__(model, "_compiled", Compiled(trainer, loss_name, targets, metrics, config))


def compiled(model: Module, what: str) -> Compiled:
    """The module's ``Compiled``, or a one-line RuntimeError saying to call compile first."""
    state = model.__dict__.get("_compiled")
    if state is None:
        raise RuntimeError(f"{type(model).__name__}.{what}() needs a compiled model: call "
                           f"model.compile(optimizer=..., loss=...) first")
    return state


def _targets(state: Compiled, y: Any) -> Any:
    """Keras's targets as the fcnet loss takes them: one-hot rows and (N, 1) labels as class indices (N,), values
    (N,) as (N, 1) in the model's dtype.
    """
    if y is None:
        raise ValueError("y is None: fcnet trains and evaluates on arrays, give the targets as y (a data set "
                         "yielding (x, y) pairs is not taken)")
    arr = backend.to_numpy(y.data if isinstance(y, fcnet.Tensor) else y)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"y holds {'strings' if arr.dtype.kind in 'USO' else arr.dtype} ({arr.dtype}), and the "
                         "losses take numbers (as Keras's): encode the labels as class indices, e.g. "
                         "classes, y = np.unique(y, return_inverse=True)")
    if state.targets == "one-hot":
        if arr.ndim != 2 or not np.isin(arr, (0, 1)).all() or not (arr.sum(axis=1) == 1).all():
            raise ValueError(f"categorical_crossentropy takes one-hot rows (N, C) with a single 1, got "
                             f"{arr.dtype} {arr.shape}: for class indices use 'sparse_categorical_crossentropy'")
        c = _outputs(state.trainer.model)
        if c is not None and arr.shape[1] != c:
            raise ValueError(f"the one-hot rows have {arr.shape[1]} columns, and the model has {c} outputs: give "
                             f"the last layer {arr.shape[1]} outputs, or one-hot encode {c} classes")
        return arr.argmax(axis=1)
    if state.targets == "indices":
        if arr.ndim == 2 and arr.shape[1] == 1:  # Keras's (N, 1) labels
            arr = y = arr[:, 0]
        _check_labels(state.trainer.model, arr)
        return y
    if state.loss == "binary_crossentropy" and state.metrics and arr.ndim == 2 and arr.shape[1] > 1:
        raise ValueError(f"metric {state.metrics[0]!r} with binary_crossentropy is for one 0/1 output, and y has "
                         f"{arr.shape[1]} columns: compile without metrics for several yes/no outputs")
    if state.targets == "values":  # the outputs' dtype, as Keras casts y_true to y_pred's
        return (arr.reshape(-1, 1) if arr.ndim == 1 else arr).astype(state.trainer.params[0].dtype, copy=False)
    return y


def _outputs(model: Module) -> int | None:
    """The model's number of outputs: the last ``Linear``'s width (None without one)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1].out_features if linears else None


def _check_labels(model: Module, labels: np.ndarray) -> None:
    """Refuse class indices outside the last Linear's C outputs before training (not in the batch holding them)."""
    c = _outputs(model)
    if c is None or labels.ndim != 1 or not labels.size:
        return
    low, high = labels.min(), labels.max()
    if low < 0 or high >= c:
        raise ValueError(f"the labels run from {low:g} to {high:g}, and the model has {c} outputs (classes 0 to "
                         f"{c - 1}): number the classes from 0 (e.g. np.unique(y, return_inverse=True)), or give the "
                         f"last layer {int(high) + 1} outputs")


def _features(model: Module, x: Any, finite: str | None = None) -> Any:
    """The features x as an array of the model's float dtype, as Keras casts inputs to its layers' dtype (a
    float64 DataFrame for a float32 model is float32).  Features that are not numbers (strings, a DataFrame
    with a text column) are refused with the fix; with ``finite`` (the data's name, in ``fit``) NaN and ±inf too.
    """
    arr = np.asarray(x) if isinstance(x, list | tuple) or hasattr(x, "columns") else x
    arr = arr.data if isinstance(arr, fcnet.Tensor) else arr
    kind = getattr(getattr(arr, "dtype", None), "kind", "f")
    if kind in "USO":
        raise ValueError(f"x holds strings ({arr.dtype}), and the model takes numbers: encode the text columns "
                         "as numbers first (e.g. one-hot with pandas.get_dummies)")
    if finite is not None and kind == "f":
        xp = backend.xp_of(arr)
        bad = ~xp.isfinite(arr).reshape(len(arr), -1).all(axis=1)
        if bool(bad.any()):
            raise ValueError(f"{finite} has NaN or infinite values (row {int(xp.argmax(bad))}), which make the "
                             "loss NaN: drop or impute those rows (e.g. with the column means) before fit")
    params = model.parameters()
    if isinstance(x, fcnet.Tensor) or not params or not hasattr(arr, "dtype") or kind not in "biuf":
        return x
    dtype = params[0].dtype
    return arr if arr.dtype == dtype else backend.xp_of(arr).asarray(arr, dtype=dtype)


def fit(model: Module, x: Any, y: Any, batch_size: int | None, epochs: int | None, verbose: Any,
        callbacks: Any, validation_split: float, validation_data: Any, shuffle: bool | None, class_weight: Any,
        sample_weight: Any, initial_epoch: int | None, steps_per_epoch: Any, validation_steps: Any,
        validation_batch_size: int | None, validation_freq: int) -> History:
    """``Module.fit``: ``Trainer.fit`` of the compiled trainer; returns this call's epochs."""
    state = compiled(model, "fit")
    trainer = state.trainer
    if [id(p) for p in model.parameters()] != [id(p) for p in trainer.params]:
        raise RuntimeError("the model's parameters changed since compile (a layer added, removed or replaced): "
                           "call model.compile(...) again so that the optimizer trains them")
    x = _features(model, x, "x")
    if validation_data is not None and isinstance(validation_data, tuple | list) and len(validation_data) >= 2:
        validation_data = (_features(model, validation_data[0], "validation x"),
                           _targets(state, validation_data[1]), *validation_data[2:])
    if class_weight is not None and state.targets == "values" and isinstance(class_weight, Mapping):
        sample_weight = _binary_class_weight(class_weight, _targets(state, y), sample_weight,
                                             validation_split if validation_data is None else 0.0)
        class_weight = None
    start = trainer.epoch if initial_epoch is None else int(initial_epoch)
    history = trainer.fit(x, _targets(state, y), batch_size, epochs, verbose, callbacks, validation_split,
                          validation_data, shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch,
                          validation_steps, validation_batch_size, validation_freq)
    # Keras's keys: the loss and the compiled metrics (the trainer's timings, lr and accuracy stay in its history)
    hidden = {*TRAINER_KEYS, *({"accuracy", "val_accuracy"} - {k for m in state.metrics for k in (m, f"val_{m}")})}
    return History([{k: v for k, v in r.items() if k not in hidden} for r in history.rows if r["epoch"] > start])


def _binary_class_weight(class_weight: Mapping[Any, float], t: np.ndarray, sample_weight: Any,
                         validation_split: float) -> np.ndarray:
    """Keras's class_weight for one 0/1 output: w_i = sample_weight_i × class_weight[round(t_i)] on the training
    rows (the last rows that ``validation_split`` holds out keep their sample weight), as one sample weight.
    """
    if t.ndim != 2 or t.shape[1] != 1:
        raise ValueError(f"class_weight needs one 0/1 target per row, got targets of shape {t.shape}: give "
                         "sample_weight instead")
    cls = np.rint(t[:, 0]).astype(np.int64)
    w = np.array([class_weight.get(int(c), 1.0) for c in cls], np.float64)
    if validation_split:
        n_val = len(t) - math.floor(len(t) * (1.0 - validation_split))
        w[len(t) - n_val:] = 1.0
    if sample_weight is None:
        return w
    given = np.asarray(backend.to_numpy(sample_weight), np.float64).reshape(-1)
    return w * given if given.shape == w.shape else sample_weight  # a wrong shape: Trainer.fit names it


def _verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def evaluate(model: Module, x: Any, y: Any, batch_size: int | None = None, verbose: Any = "auto",
             sample_weight: Any = None, return_dict: bool = False) -> Any:
    """``Module.evaluate``: see its docstring."""
    state = compiled(model, "evaluate")
    loud = _verbose(verbose)
    size = 32 if batch_size is None else batch_size
    if not isinstance(size, int | np.integer) or isinstance(size, bool) or size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    x = _features(model, x)
    targets = _targets(state, y)
    if len(x) != len(targets):
        raise DataError(f"x has {len(x)} rows but y has {len(targets)} labels: give one label per row")
    result = state.trainer.evaluate(x, targets, int(size), sample_weight=sample_weight)
    values = {"loss": result["loss"], **{m: result["accuracy"] for m in state.metrics}}
    if loud:
        print(" - ".join(f"{k}: {v:.4f}" for k, v in values.items()), file=sys.stderr)
    if return_dict:
        return values
    return values["loss"] if not state.metrics else list(values.values())


def predict(model: Module, x: Any, batch_size: int | None = None, verbose: Any = "auto") -> np.ndarray:
    """``Module.predict``: the outputs (scores) in evaluation mode, without a graph, in batches."""
    _verbose(verbose)
    size = 32 if batch_size is None else batch_size
    if not isinstance(size, int | np.integer) or isinstance(size, bool) or size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    x = _features(model, x)
    arr = x.data if isinstance(x, fcnet.Tensor) else np.asarray(x) if isinstance(x, list | tuple) else x
    if getattr(arr, "ndim", 2) == 1:
        raise ValueError(f"x has shape {tuple(arr.shape)}, one sample without its batch axis: predict takes rows "
                         "(N, D); for one sample give x.reshape(1, -1) (or x[None])")
    out = outputs(model, arr, size)
    if not out:
        raise ValueError("predict needs at least one row of x, got 0")
    return np.concatenate(out)


def save(model: Module, path: str | Path, overwrite: bool = True) -> None:
    """``Module.save``: ``save_model(path, model)``, with the compile arguments given by name.

    The optimizer's state is not saved (``ModelCheckpoint`` / ``Checkpoint`` keep a run's whole state).
    """
    from fcnet.train.io import save_model

    if Path(path).exists() and not Path(path).is_dir():
        raise FileExistsError(f"{path} is a file, and model.save writes a directory (model.safetensors and "
                              "model.json): remove the file or give another path")
    if not overwrite and Path(path).exists():
        raise FileExistsError(f"{path} exists: pass overwrite=True to replace it, or give another path")
    state = model.__dict__.get("_compiled")
    save_model(path, model, extra={"compile": state.config} if state is not None else None)


def load(path: str | Path, model: Module | None = None, kind: type[Module] = Module) -> Module:
    """``Module.load``: the saved model (``load_model``), compiled again when it was saved compiled by names."""
    from fcnet.errors import ModelFileError
    from fcnet.train.io import load_model

    if not Path(path).exists():
        raise ModelFileError(f"{path} does not exist: give the directory that model.save (or save_model) wrote")
    if not Path(path).is_dir():
        raise ModelFileError(f"{path} is a file, not the directory that model.save writes (model.safetensors and "
                             "model.json); a Keras .keras zip cannot be read: save the model from fcnet")
    loaded, _, meta = load_model(path, model=model)
    if not isinstance(loaded, kind):
        raise TypeError(f"{path} holds a {type(loaded).__name__}, not a {kind.__name__}: load it with "
                        f"{type(loaded).__name__}.load or fcnet.nn.Module.load")
    config = meta.get("compile")
    if isinstance(config, Mapping) and config.get("optimizer") and config.get("loss"):
        compile_model(loaded, config["optimizer"], config["loss"], config.get("metrics") or None)
    return loaded
