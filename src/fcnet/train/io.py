"""Saving and loading models and checkpoints: safetensors for arrays, JSON for the rest.

Never pickle.  Every file is written atomically (a temporary file, then ``os.replace``);
a checkpoint directory is replaced as a whole, so a crash leaves the previous one intact.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save

from fcnet.data.dataset import Preprocess
from fcnet.errors import ModelFileError
from fcnet.nn.activations import ACTIVATIONS
from fcnet.nn.layers import INITS
from fcnet.nn.module import Module
from fcnet.nn.network import FullyConnectedNet
from fcnet.train._guard import exchange

__all__ = ["atomic_write", "build_layers", "layer_specs", "load_arrays", "load_model", "load_run", "save_arrays",
           "save_model", "write_json"]

FORMAT = "fcnet-model/1"


def umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, data: bytes) -> Path:
    """Write bytes to ``path`` through a temporary file in the same directory and a rename.

    The file gets the mode a plain ``open(path, "wb")`` would give it (0666 less the umask, so 0644
    usually): mkstemp creates its temporary file 0600, which a web server could not serve.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | Path, obj: Any) -> Path:
    """Atomically write ``obj`` as indented, strict JSON: NaN and ±inf (which JSON has not) become null."""
    text = json.dumps(_finite(obj), indent=2, default=_json_default, allow_nan=False)
    return atomic_write(path, (text + "\n").encode())


def _finite(o: Any) -> Any:
    if isinstance(o, float | np.floating):
        return float(o) if np.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    if isinstance(o, np.ndarray):
        return _finite(o.tolist())
    return o


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> Path:
    """Atomically write arrays as safetensors."""
    contiguous = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    return atomic_write(path, save(contiguous, metadata=metadata))


def load_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Read a safetensors file; a missing, truncated or corrupted file is a ModelFileError."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path} does not exist")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{path} is truncated or corrupted ({exc}); retrain, or restore it "
                             "from a checkpoint/ directory") from None


def save_model(directory: str | Path, model: Module, preprocess: Preprocess | None = None,
               classes: list[str] | None = None, extra: dict[str, Any] | None = None) -> None:
    """Write ``model.safetensors`` (weights, buffers, standardisation if any) and ``model.json``.

    Any ``Module`` can be saved.  ``load_model`` rebuilds a ``FullyConnectedNet`` from its config
    and a ``Sequential`` of fcnet's layers (Linear, BatchNorm1d, Dropout, Flatten, Identity, the
    activations, nested Sequentials) from the ``layers`` list recorded here; any other model is
    built in code and given to ``load_model(directory, model=...)``, which loads the weights into it.
    """
    directory = Path(directory)
    preprocess = preprocess if preprocess is not None else Preprocess()
    arrays = dict(model.state_dict())
    if preprocess.mean is not None:
        arrays["preprocess.mean"] = preprocess.mean
        arrays["preprocess.std"] = preprocess.std
    save_arrays(directory / "model.safetensors", arrays, {"format": FORMAT})
    write_json(directory / "model.json", {
        "format": FORMAT, "architecture": type(model).__name__, "config": getattr(model, "config", None),
        "layers": None if isinstance(model, FullyConnectedNet) else layer_specs(model),
        "preprocess": preprocess.to_json(), "classes": list(classes) if classes is not None else None,
        **(extra or {}),
    })


def load_model(directory: str | Path, model: Module | None = None) -> tuple[Any, Preprocess, dict[str, Any]]:
    """Rebuild (model, preprocess, description) from a run or model directory.

    A ``FullyConnectedNet`` is rebuilt from its config, a ``Sequential`` of fcnet's layers from its
    ``layers`` list; ``model`` (any ``Module`` built in code with the saved one's shapes, as Keras's
    ``custom_objects``) is given the saved weights instead.  The model comes back in evaluation mode.
    """
    directory = Path(directory)
    if (directory / "model").is_dir() and not (directory / "model.json").exists():
        directory = directory / "model"
    meta_path = directory / "model.json"
    if not meta_path.is_file():
        raise ModelFileError(f"no model.json in {directory}: give a run directory made by `fcnet train`")
    try:
        meta = json.loads(meta_path.read_text())
        config = meta["config"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{meta_path} is corrupted ({exc})") from None
    arrays = load_arrays(directory / "model.safetensors")
    mean, std = arrays.pop("preprocess.mean", None), arrays.pop("preprocess.std", None)
    if model is not None or (meta.get("architecture") != "FullyConnectedNet" and config is None):
        return _load_other(directory, meta, arrays, mean, std, model)
    _check_config(meta_path, config)
    widths = [config["in_features"], *config.get("hidden", []), config["classes"]]
    if sum(a * b + b for a, b in itertools.pairwise(widths)) > sum(int(v.size) for v in arrays.values()):
        raise ModelFileError(f"{meta_path}: its config fields in_features, hidden and classes ({widths}) describe "
                             f"more weights than {directory / 'model.safetensors'} holds; fix model.json or retrain "
                             "the run")
    try:
        model = FullyConnectedNet.from_config(config, rng=0)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{meta_path}: its config entry is corrupted ({exc}); retrain the run") from None
    pre = _fill(model, arrays, meta_path, meta, mean, std,
                lambda exc: f"{meta_path}: its config fields in_features, hidden, classes, batchnorm and dropout do "
                            f"not match the weights in {directory / 'model.safetensors'} ({exc}); fix model.json or "
                            "retrain the run")
    _check_model(directory, model, pre, meta)
    return model, pre, meta


def load_run(directory: str | Path) -> tuple[FullyConnectedNet, Preprocess, dict[str, Any]]:
    """``load_model`` for fcnet's commands (eval, predict, export), which take a ``FullyConnectedNet``."""
    model, pre, meta = load_model(directory)
    if not isinstance(model, FullyConnectedNet):
        raise ModelFileError(f"{directory} holds a {type(model).__name__} saved from Python; fcnet's commands take "
                             "a FullyConnectedNet (`fcnet train`): load it with fcnet.train.load_model")
    return model, pre, meta


_DTYPES = ("float16", "float32", "float64")


def layer_specs(model: Module) -> list[dict[str, Any]] | None:
    """The layers of a ``Sequential`` of fcnet's layers as JSON-able specs (None for other models).

    E.g. ``[{"type": "Linear", "in_features": 4, "out_features": 8, "bias": true, "dtype":
    "float32"}, {"type": "Tanh"}, ...]``; ``build_layers`` turns them back into the Sequential.
    """
    from fcnet import nn

    if type(model) is not nn.Sequential:
        return None
    specs: list[dict[str, Any]] = []
    for m in model.children():
        kind = type(m)
        if kind is nn.Linear:
            spec = {"in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None,
                    "init": m.init, "dtype": np.dtype(m.weight.dtype).name}
        elif kind is nn.BatchNorm1d:
            spec = {"num_features": m.num_features, "momentum": float(m.momentum), "eps": float(m.eps),
                    "affine": bool(m.affine), "dtype": np.dtype(m.weight.dtype).name}
        elif kind is nn.Dropout:
            spec = {"p": m.p}
        elif kind is nn.LeakyReLU:
            spec = {"negative_slope": float(m.negative_slope)}
        elif kind is nn.Flatten:
            spec = {"start_dim": int(m.start_dim)}
        elif kind in (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity):
            spec = {}
        elif kind is nn.Sequential:
            inner = layer_specs(m)
            if inner is None:
                return None
            spec = {"layers": inner}
        else:
            return None
        specs.append({"type": kind.__name__, **spec})
    return specs


def build_layers(specs: Any) -> Module:
    """The ``Sequential`` that ``layer_specs`` described (weights to be loaded); ValueError/TypeError if malformed."""
    from fcnet import nn

    if not isinstance(specs, list):
        raise TypeError(f"layers must be a list, got {type(specs).__name__}")
    kinds = {k.__name__: k for k in (nn.Linear, nn.BatchNorm1d, nn.Dropout, nn.LeakyReLU, nn.Flatten, nn.ReLU,
                                     nn.Tanh, nn.Sigmoid, nn.Identity)}
    mods: list[Module] = []
    for spec in specs:
        spec = dict(spec)
        kind = spec.pop("type", None)
        if kind == "Sequential":
            mods.append(build_layers(spec.get("layers")))
        elif kind in kinds:
            if "dtype" in spec and spec["dtype"] not in _DTYPES:
                raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {spec['dtype']!r}")
            # the drawn weights are replaced by the saved ones: drawn from a local generator (rng=0),
            # loading leaves fcnet's default generator as it was
            mods.append(kinds[kind](**spec) if kind != "Linear" else nn.Linear(**spec, rng=0))
        else:
            raise ValueError(f"unknown layer type {kind!r}")
    return nn.Sequential(*mods)


def _load_other(directory: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray], mean: Any, std: Any,
                model: Module | None) -> tuple[Module, Preprocess, dict[str, Any]]:
    """Load a model that is not a ``FullyConnectedNet``: rebuilt from ``layers``, or the given one."""
    meta_path = directory / "model.json"
    if model is None:
        if meta.get("layers") is None:
            raise ModelFileError(f"{meta_path}: a {meta.get('architecture')} is rebuilt in code: build it and pass "
                                 "load_model(directory, model=...)")
        try:
            model = build_layers(meta["layers"])
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{meta_path}: its layers entry is corrupted ({exc}); fix model.json or save the "
                                 "model again") from None
    pre = _fill(model, arrays, meta_path, meta, mean, std,
                lambda exc: f"{directory / 'model.safetensors'} does not fit the model ({exc}); build the model that "
                            "was saved")
    for name, value in model.state_dict().items():
        if not np.all(np.isfinite(np.asarray(value))):
            raise ModelFileError(f"{directory / 'model.safetensors'}: {name} holds NaN or infinite values; "
                                 "save the model again")
    return model, pre, meta


def _fill(model: Module, arrays: dict[str, np.ndarray], meta_path: Path, meta: dict[str, Any], mean: Any, std: Any,
          mismatch: Callable[[Exception], str]) -> Preprocess:
    """Give ``model`` the saved weights (evaluation mode) and rebuild the saved preprocessing.

    ``mismatch`` gives the one-line message when the weights do not fit, from the reason.
    """
    try:
        model.load_state_dict(arrays)
    except (KeyError, ValueError) as exc:
        raise ModelFileError(mismatch(exc)) from None
    model.eval()
    try:
        return Preprocess.from_json(meta.get("preprocess") or {}, mean, std)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{meta_path}: its preprocess entry is corrupted ({exc})") from None


def _check_config(meta_path: Path, config: Any) -> None:
    """Refuse a hand-edited ``config`` entry in one line naming the field, before building the net."""
    def bad(field: str, want: str, got: Any) -> ModelFileError:
        return ModelFileError(f"{meta_path}: config field {field!r} must be {want}, got {got!r}; "
                              "fix model.json or retrain the run")

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    def is_num(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and bool(np.isfinite(v))

    if not isinstance(config, dict):
        raise ModelFileError(f"{meta_path}: its config entry must be an object (a JSON dict), got "
                             f"{type(config).__name__} {config!r}; fix model.json or retrain the run")
    known = ("in_features", "hidden", "classes", "activation", "batchnorm", "dropout", "init", "std",
             "negative_slope", "dtype")
    for key in config:
        if key not in known:
            raise ModelFileError(f"{meta_path}: unknown config field {key!r} (known: {', '.join(known)}); "
                                 "fix model.json or retrain the run")
    for key in ("in_features", "classes"):
        if key not in config:
            raise ModelFileError(f"{meta_path}: config field {key!r} is missing; fix model.json or retrain the run")
        if not is_int(config[key]) or config[key] < 1:
            raise bad(key, "an integer ≥ 1", config[key])
    hidden = config.get("hidden", [])
    if not isinstance(hidden, list) or not all(is_int(h) and h >= 1 for h in hidden):
        raise bad("hidden", "a list of integers ≥ 1", hidden)
    def one_of(v: Any, names: Any) -> bool:
        return isinstance(v, str) and v in names

    if not one_of(config.get("activation", "relu"), ACTIVATIONS):
        raise bad("activation", f"one of {', '.join(ACTIVATIONS)}", config.get("activation"))
    if not one_of(config.get("init", "he"), INITS):
        raise bad("init", f"one of {', '.join(INITS)}", config.get("init"))
    if not one_of(config.get("dtype", "float32"), _DTYPES):
        raise bad("dtype", f"one of {', '.join(_DTYPES)}", config.get("dtype"))
    if not isinstance(config.get("batchnorm", False), bool):
        raise bad("batchnorm", "true or false", config.get("batchnorm"))
    dropout = config.get("dropout", 0.0)
    if not is_num(dropout) or not 0 <= dropout < 1:
        raise bad("dropout", "a number in [0, 1)", dropout)
    std = config.get("std")
    if std is not None and (not is_num(std) or std <= 0):
        raise bad("std", "null or a finite number > 0", std)
    if not is_num(config.get("negative_slope", 0.01)):
        raise bad("negative_slope", "a finite number", config.get("negative_slope"))


def _check_model(directory: Path, model: FullyConnectedNet, pre: Preprocess, meta: dict[str, Any]) -> None:
    """Refuse a model whose files disagree or hold values that would print meaningless scores."""
    classes = meta.get("classes")
    if "classes" in meta and classes is None:  # saved from Python without class names: the output indices
        classes = [str(i) for i in range(model.classes)]
    if not isinstance(classes, list) or len(classes) != model.classes:
        n = len(classes) if isinstance(classes, list) else "no"
        raise ModelFileError(f"{directory / 'model.json'} lists {n} class names but the network has "
                             f"{model.classes} outputs; the run is corrupted: retrain it")
    meta["classes"] = [str(c) for c in classes]
    if not (np.isfinite(pre.scale) and pre.scale > 0):
        raise ModelFileError(f"{directory / 'model.json'}: preprocess scale must be a finite number > 0, "
                             f"got {pre.scale}; the run is corrupted: retrain it")
    if pre.mean is not None and (pre.mean.shape != (model.in_features,) or pre.std is None
                                 or pre.std.shape != (model.in_features,) or not np.all(pre.std > 0)
                                 or not np.all(np.isfinite(pre.mean)) or not np.all(np.isfinite(pre.std))):
        raise ModelFileError(f"{directory / 'model.safetensors'}: the standardisation arrays do not fit "
                             f"{model.in_features} features; the run is corrupted: retrain it")
    for name, value in model.state_dict().items():
        if not np.all(np.isfinite(np.asarray(value))):
            raise ModelFileError(f"{directory / 'model.safetensors'}: {name} holds NaN or infinite values; "
                                 "retrain, or restore the run from its checkpoint/ directory")


def replace_dir(tmp: Path, final: Path) -> None:
    """Make ``tmp`` the new ``final`` directory in one atomic exchange, then delete the old one.

    Where the system cannot exchange two directories, the old one is renamed ``FINAL.old`` first
    (``Checkpoint.load`` reads it if a crash comes between the two renames).
    """
    if final.exists() and exchange(tmp, final):
        shutil.rmtree(tmp)  # it holds the old directory now
        return
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        shutil.rmtree(old)
