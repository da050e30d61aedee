"""``Module`` and ``Parameter``: the containers every layer is built on (PyTorch's API)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from fcnet import backend
from fcnet.tensor import Tensor, tensor

if TYPE_CHECKING:
    from pathlib import Path

    from fcnet.train.history import History

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """A tensor that a ``Module`` owns and an optimizer updates (always requires grad).

    Keeps the dtype it is given (a float64 array stays float64; Python lists become float32).
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        arr = data.data if isinstance(data, Tensor) else tensor(data).data
        super().__init__(arr, requires_grad=requires_grad, _raw=True)

    def __repr__(self) -> str:
        return "Parameter(" + super().__repr__() + ")"


class Summary(str):
    """The text of ``summary()``: a ``str`` whose ``repr`` is the table itself, so that ``model.summary()``
    typed at a Python prompt or as a notebook cell's last line shows the table, as Keras's does.
    """

    def __repr__(self) -> str:
        return str(self)


class Module:
    """Base class of layers and networks: holds parameters, buffers and sub-modules.

    Attributes set to a ``Parameter`` or a ``Module`` are registered in order of
    assignment; ``register_buffer`` keeps arrays that are state but not trained
    (batch norm's running statistics).
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_modules", "_buffers"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def register_buffer(self, name: str, array: Any) -> None:
        """Keep ``array`` as state saved in ``state_dict`` but not trained."""
        self._buffers[name] = array

    # --- calling -----------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What the module computes; every layer defines it (a bare Module only holds others)."""
        raise TypeError(f"{type(self).__name__} has no forward(): define forward() in the subclass")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --- traversal -----------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, with dotted names."""
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        """This module and all below it."""
        for _, m in self.named_modules():
            yield m

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        yield from self._modules.values()

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs, e.g. ``("0.weight", W1)``."""
        for mname, m in self.named_modules():
            for pname, p in m._parameters.items():
                yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self) -> list[Parameter]:
        """All parameters, in registration order."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> Iterator[tuple[str, Any]]:
        """``(name, array)`` pairs of the buffers."""
        for mname, m in self.named_modules():
            for bname, b in m._buffers.items():
                yield (f"{mname}.{bname}" if mname else bname), b

    def num_parameters(self) -> int:
        """Total number of trainable scalars."""
        return sum(p.size for p in self.parameters())

    # --- modes ---------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics, dropout on) for this module and all below."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (running statistics, dropout off)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget all parameter gradients."""
        for p in self.parameters():
            p.grad = None

    def to(self, device: str) -> Module:
        """Move parameters and buffers to ``device`` in place; returns self."""
        for m in self.modules():
            for name, p in m._parameters.items():
                p.data = backend.to_device(p.data, device)
                if p.grad is not None:
                    p.grad = backend.to_device(p.grad, device)
                m._parameters[name] = p
            for name, b in list(m._buffers.items()):
                m._buffers[name] = backend.to_device(b, device)
        return self

    # --- state ---------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Parameters and buffers by name, as NumPy copies."""
        sd: OrderedDict[str, np.ndarray] = OrderedDict()
        for name, p in self.named_parameters():
            sd[name] = backend.to_numpy(p.data).copy()
        for name, b in self.named_buffers():
            sd[name] = backend.to_numpy(b).copy()
        return sd

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy values into the parameters and buffers in place (optimizers keep working)."""
        own_params = dict(self.named_parameters())
        own_buffers = dict(self.named_buffers())
        expected = set(own_params) | set(own_buffers)
        missing = sorted(expected - set(state))
        unexpected = sorted(set(state) - expected)
        if strict and (missing or unexpected):
            raise KeyError(
                f"state_dict does not fit this {type(self).__name__}: missing {missing}, "
                f"unexpected {unexpected}"
            )
        for name, value in state.items():
            if name not in expected:
                continue
            target = own_params[name].data if name in own_params else own_buffers[name]
            value = backend.to_numpy(value.data if isinstance(value, Tensor) else value)
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(
                    f"state_dict entry {name!r} has shape {tuple(value.shape)}, but this model's "
                    f"has {tuple(target.shape)}: the architectures differ"
                )
            backend.xp_of(target).copyto(target, backend.xp_of(target).asarray(value),
                                         casting="same_kind")

    # --- Keras's Model API (fcnet.train.keras, imported when first used) -------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None, *,
                loss_weights: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto", auto_scale_loss: bool = True,
                **trainer_options: Any) -> None:
        """Keras's ``compile``: choose the optimizer, the loss and the metrics; ``fit`` trains with them.

        ``optimizer``: a name, 'sgd', 'momentum', 'rmsprop', 'adagrad', 'adam' or 'adamw' (fcnet's optimizers,
        the options table's names; Keras's class names such as 'Adam' too) with Keras's defaults (learning rate
        0.01 for 'sgd' and 'momentum', 0.001 for the others; RMSprop ρ = 0.9, δ = 1e-7; Adam(W) δ = 1e-7 outside
        the root, AdamW weight decay 0.004; 'adagrad' and 'momentum' keep fcnet's others), or an ``fcnet.optim``
        optimizer built on ``model.parameters()``.  ``loss``: 'sparse_categorical_crossentropy' (class
        indices), 'categorical_crossentropy' (one-hot rows), 'mse' / 'mean_squared_error',
        'binary_crossentropy' (targets in [0, 1] of the outputs' shape), or an fcnet loss module.  The loss
        is applied to the model's outputs as scores (logits), Keras's ``from_logits=True``: fcnet's nets
        have no softmax layer, L = (1/N) Σ_i −log softmax(s_i)[y_i]; a model ending in a softmax is refused.
        ``metrics``: 'accuracy', 'acc', 'sparse_categorical_accuracy' or 'categorical_accuracy' (class
        accuracy, for the cross-entropies; logged under the name given); with 'binary_crossentropy' on one
        output, 'accuracy', 'acc' or 'binary_accuracy' is the share of rows with [s > 0] = [t > 0.5].  Keras's
        ``run_eagerly``, ``jit_compile`` and ``auto_scale_loss`` change nothing here.  Other keywords go to
        ``fcnet.train.Trainer`` (``seed``, ``l2``, ``clip_norm``, ...).  Compiling again starts a new
        optimizer and epoch count, as in Keras; the weights stay.
        """
        from fcnet.train.keras import compile_model

        compile_model(self, optimizer, loss, metrics, loss_weights=loss_weights, weighted_metrics=weighted_metrics,
                      run_eagerly=run_eagerly, steps_per_execution=steps_per_execution, jit_compile=jit_compile,
                      auto_scale_loss=auto_scale_loss, **trainer_options)

    def fit(self, x: Any, y: Any = None, batch_size: int | None = None, epochs: int | None = 1,
            verbose: int | str | None = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool | None = None, class_weight: Any = None,
            sample_weight: Any = None, initial_epoch: int | None = None, steps_per_epoch: None = None,
            validation_steps: None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> History:
        """Keras's ``fit``: ``Trainer.fit`` (same arguments; see it) of the trainer ``compile`` made.

        Returns a ``History`` of this call's epochs with Keras's keys, the loss and the compiled metrics
        (``history.history["val_loss"]``; timings and lr stay in ``Trainer.history``), as Keras; a second
        ``fit`` continues from the weights and optimizer state where the first stopped, numbering its
        epochs on (``initial_epoch=None``).  Targets as the compiled loss takes them (see ``compile``).
        """
        from fcnet.train.keras import fit

        return fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
                   class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps,
                   validation_batch_size, validation_freq)

    def evaluate(self, x: Any, y: Any = None, batch_size: int | None = None, verbose: int | str = "auto",
                 sample_weight: Any = None, return_dict: bool = False) -> Any:
        """Keras's ``evaluate``: the loss (1/N) Σ_i w_i L_i in evaluation mode, and the compiled metrics.

        Returns the loss (a float) when ``compile`` had no metrics, else ``[loss, *metrics]``; with
        ``return_dict=True`` ``{"loss": ..., "accuracy": ...}``.  ``batch_size=None`` is Keras's 32;
        ``verbose`` 1 / 2 / 'auto' prints the values on one line (stderr), 0 nothing.
        """
        from fcnet.train.keras import evaluate

        return evaluate(self, x, y, batch_size, verbose, sample_weight, return_dict)

    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto") -> np.ndarray:
        """Keras's ``predict``: the model's outputs as a NumPy array (scores, as they are), in evaluation mode.

        Needs no ``compile``.  Run in batches of ``batch_size`` (None: Keras's 32) without a graph.
        """
        from fcnet.train.keras import predict

        return predict(self, x, batch_size, verbose)

    def save(self, path: str | Path, overwrite: bool = True) -> None:
        """Keras's ``save``: ``fcnet.train.save_model(path, self)`` (a directory: safetensors and JSON, no
        pickle), with the compile arguments given by name; ``Module.load(path)`` reads it back.

        An earlier save at ``path`` is replaced (``overwrite=False``: a one-line ``FileExistsError`` instead);
        a file at ``path`` (e.g. Keras's own ``.keras`` zip) is refused, not deleted.
        """
        from fcnet.train.keras import save

        save(self, path, overwrite)

    @classmethod
    def load(cls, path: str | Path, model: Module | None = None) -> Module:
        """Keras's ``load_model``: the model ``save`` (or ``save_model``) wrote, in evaluation mode.

        ``Sequential``s of fcnet's layers and ``FullyConnectedNet``s are rebuilt from the file; any other
        model is built in code and given as ``model`` (it gets the weights).  Compiled again when it was
        saved compiled with an optimizer and a loss given by name (a new optimizer state, unlike Keras).
        ``Sequential.load`` refuses a file holding another kind of model.
        """
        from fcnet.train.keras import load

        return load(path, model, cls)

    # --- printing ------------------------------------------------------------------------
    def summary(self, input_size: int | None = None) -> str:
        """A Keras-style table: each sub-module, its output shape and its parameter count, then the total.

        Output shapes are shown for a module whose children run one after another (``Sequential``)
        when ``input_size`` (D) is given: a zero batch of shape (1, D) is passed through in evaluation
        mode, without a graph, and nothing is changed.
        """
        from fcnet.tensor import no_grad

        shapes: dict[str, str] = {}
        children = list(self._modules.items())
        if input_size is not None and children and hasattr(self, "__iter__"):
            was = self.training
            self.eval()
            try:
                with no_grad():
                    xp = backend.xp_of(self.parameters()[0].data) if self.parameters() else np
                    x: Any = Tensor(xp.zeros((1, int(input_size)), dtype=np.float32), _raw=True)
                    for name, m in children:
                        x = m(x)
                        shapes[name] = "(N, " + ", ".join(str(d) for d in x.shape[1:]) + ")"
            finally:
                self.train(was)
        rows = [(f"{name + ': ' if name else ''}{type(m).__name__}({m.extra_repr()})",
                 shapes.get(name, "?" if shapes else ""), sum(p.size for p in m.parameters()))
                for name, m in (children or [("", self)])]
        w0 = max(len(r[0]) for r in [*rows, ("layer", "", 0)])
        w1 = max(len(r[1]) for r in [*rows, ("", "output shape", 0)])
        lines = [f"{type(self).__name__}", f"{'layer':<{w0}}  {'output shape':<{w1}}  params", "-" * (w0 + w1 + 10)]
        lines += [f"{name:<{w0}}  {shape:<{w1}}  {count:,}" for name, shape, count in rows]
        lines.append(f"total parameters: {self.num_parameters():,}")
        return Summary("\n".join(lines))

    def extra_repr(self) -> str:
        """Arguments shown in ``repr``."""
        return ""

    def __repr__(self) -> str:
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        lines.append(")")
        return "\n".join(lines)
