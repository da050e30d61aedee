"""``Tensor``: an array with a place in the computation graph, and reverse-mode autodiff.

Backward walks the graph in reverse topological order without recursion (graphs of any
depth work), sums gradients where a value fans out (the copy gate, slide 77), undoes
broadcasting by summing over broadcast axes, and frees the graph unless
``retain_graph=True``.  The gates themselves live in ``ops.py``.
"""

from __future__ import annotations

import abc
import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from fcnet import backend

__all__ = ["Function", "Tensor", "enable_grad", "is_grad_enabled", "no_grad", "tensor"]


class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether new operations record the graph (False inside ``no_grad``)."""
    return _mode.enabled


@contextlib.contextmanager
def _set_grad(enabled: bool) -> Iterator[None]:
    prev = _mode.enabled
    _mode.enabled = enabled
    try:
        yield
    finally:
        _mode.enabled = prev


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager (``with fcnet.no_grad():``) in which no graph is recorded."""
    return _set_grad(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager that records the graph again inside ``no_grad``."""
    return _set_grad(True)


class _Freed:
    """Stands where a node's gate was once backward freed it (keeps no arrays alive)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<freed>"


_FREED = _Freed()


class Function(abc.ABC):
    """A gate: ``forward`` computes the output, ``backward`` its local gradient(s).

    ``backward(grad)`` receives dL/d(output) and returns one gradient per input (None where
    ``self.needs[i]`` is False); it never mutates ``grad``.  Gradients may have the
    broadcast shape: the engine sums them back to each input's shape.
    """

    __slots__ = ("__dict__", "needs", "parents")

    def __init__(self, *parents: Tensor) -> None:
        self.parents: tuple[Tensor, ...] = parents
        self.needs: tuple[bool, ...] = tuple([p.requires_grad for p in parents])

    @abc.abstractmethod
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The gate's output from its inputs' arrays."""

    @abc.abstractmethod
    def backward(self, grad: Any) -> Any:
        """dL/d(input) for each input from dL/d(output)."""

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Tensor:
        """Run the gate on tensors (Python numbers and arrays become constants)."""
        tensors = inputs
        for x in inputs:  # the usual call passes tensors only: no conversion, no new list
            if not isinstance(x, Tensor):
                tensors = _as_tensors(inputs)
                break
        ctx = cls(*tensors)
        # ``True in``: the usual needs are bools; any(): a truthy requires_grad that is not (== True), e.g. 2
        record = _mode.enabled and (True in ctx.needs or any(ctx.needs))
        if not record:
            ctx.needs = (False,) * len(tensors)
        try:
            data = ctx.forward(*[t.data for t in tensors], **kwargs)
        except ValueError as exc:
            if "broadcast" not in str(exc):
                raise
            shapes = " and ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(
                f"{cls.__name__.lower()}: shapes {shapes} cannot be broadcast together; each dimension "
                "must match or be 1 (reshape one operand, e.g. x.reshape(-1, 1))"
            ) from None
        if isinstance(data, np.generic):  # NumPy turns 0-d results into scalars
            data = np.asarray(data)
        out = Tensor(data, _raw=True)
        if record:
            out.requires_grad = True
            out._ctx = ctx
        return out

    @property
    def name(self) -> str:
        """The gate's name as drawn in graphs (``Mul``, ``Exp``, ...)."""
        return type(self).__name__


def _as_tensors(inputs: Sequence[Any]) -> list[Tensor]:
    """Tensors for gate inputs; Python numbers take the dtype of the floating tensor beside them."""
    ref = next((x for x in inputs if isinstance(x, Tensor)), None)
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, bool | int | float) and ref is not None:
            xp = backend.xp_of(ref.data)
            dtype = ref.dtype if ref.dtype.kind == "f" else np.float32
            out.append(Tensor(xp.asarray(x, dtype=dtype), _raw=True))
        else:
            device = backend.device_of(ref.data) if ref is not None else None
            out.append(tensor(x, device=device))
    return out


def _unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes along which an input of ``shape`` was broadcast."""
    if isinstance(grad, np.generic):
        grad = np.asarray(grad)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        return grad.reshape(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Tensor:
    """An n-dimensional array (NumPy or CuPy) that records the gates applied to it.

    Args:
        data: the backend array (use ``fcnet.tensor`` to build one from Python data).
        requires_grad: whether gradients flow to this tensor.
    """

    __slots__ = ("__weakref__", "_ctx", "_retain", "data", "grad", "name", "requires_grad")
    __array_ufunc__ = None  # NumPy defers to Tensor's reflected operators (ndarray + Tensor)

    def __init__(self, data: Any, requires_grad: bool = False, *, name: str | None = None,
                 _raw: bool = False) -> None:
        if not _raw:
            data = tensor(data).data
        self.data = data
        self.grad: Any = None
        self.requires_grad = bool(requires_grad)
        self._ctx: Function | _Freed | None = None
        self._retain = False
        self.name = name
        if self.requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}; "
                "convert first, e.g. fcnet.tensor(x, dtype='float64')"
            )

    # --- properties --------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(self.data.size)

    @property
    def dtype(self) -> np.dtype:
        """The array's dtype."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"cuda"``."""
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by a gate)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        """The gate that produced this tensor (None for leaves and freed graphs)."""
        return self._ctx if isinstance(self._ctx, Function) else None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(backend.to_numpy(self.data), separator=", ", threshold=20)
        return f"tensor({body}, dtype={self.dtype}{grad})"

    # --- conversion --------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (a host copy for CUDA tensors)."""
        return backend.to_numpy(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        """The value as nested Python lists."""
        return self.numpy().tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph (no gradient flows through it)."""
        return Tensor(self.data, _raw=True)

    def to(self, device: str) -> Tensor:
        """A copy on ``device`` (the tensor itself when it is already there); keeps requires_grad."""
        if device == self.device:
            return self
        return Tensor(backend.to_device(self.data, device), self.requires_grad, _raw=True)

    def astype(self, dtype: Any) -> Tensor:
        """A copy of another dtype, recorded in the graph (gradients are cast back)."""
        return ops.Cast.apply(self, dtype=np.dtype(dtype))

    def float(self) -> Tensor:
        """float32 copy."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """float64 copy."""
        return self.astype(np.float64)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward (as PyTorch)."""
        self._retain = True
        return self

    # --- backward ----------------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate: accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        Args:
            grad: dL/d(self), of self's shape; may be omitted for a one-element tensor.
            retain_graph: keep the graph so backward can run through it again.
        """
        if self._ctx is _FREED:
            raise RuntimeError(
                "backward() through a graph that was already freed by an earlier backward(); "
                "call the first backward(retain_graph=True) to run backward twice"
            )
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: create its inputs with "
                "requires_grad=True (and not inside fcnet.no_grad())"
            )
        xp = backend.xp_of(self.data)
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() on a non-scalar tensor of shape {self.shape} needs a gradient: "
                    f"pass .backward(grad) with grad of shape {self.shape}, or reduce first "
                    "(e.g. .sum().backward())"
                )
            grad = xp.ones(self.data.shape, dtype=self.data.dtype)
        else:
            grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=self.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(
                    f"backward() got a gradient of shape {tuple(grad.shape)} for a tensor of "
                    f"shape {self.shape}: the shapes must be equal"
                )
        order = self._topological_order()
        # node id -> (gradient, fresh): fresh gradients were made by a gate for this node
        # alone, so a leaf may keep them as its .grad without a copy
        grads: dict[int, tuple[Any, bool]] = {id(self): (grad, False)}
        for node in reversed(order):
            entry = grads.pop(id(node), None)
            if entry is None:
                continue
            g, fresh = entry
            ctx = node._ctx
            if ctx is None or node._retain:
                node._accumulate(g, fresh)
            if ctx is None:
                continue
            if ctx is _FREED:
                raise RuntimeError(
                    "backward() reached a part of the graph that an earlier backward() freed; "
                    "call the earlier backward(retain_graph=True)"
                )
            in_grads = ctx.backward(g)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            for parent, pg in zip(ctx.parents, in_grads, strict=False):
                if pg is None or not parent.requires_grad:
                    continue
                shape = parent.data.shape
                if type(pg) is not np.ndarray or pg.shape != shape:
                    pg = _unbroadcast(pg, shape)
                key = id(parent)
                if key in grads:
                    # fan-out: the copy gate sums the gradients of its branches
                    grads[key] = (grads[key][0] + pg, True)
                else:
                    # fresh: made by the gate for this parent alone; views (broadcasts!) are not
                    fresh = pg is not g and getattr(pg, "base", None) is None and pg.flags.c_contiguous
                    grads[key] = (pg, fresh)
            if not retain_graph:
                node._ctx = _FREED
                ctx.parents = ()
                ctx.__dict__.clear()

    def _accumulate(self, g: Any, fresh: bool) -> None:
        if type(g) is not np.ndarray and isinstance(g, np.generic):  # a 0-d sum came back as a NumPy scalar
            g = np.asarray(g)
        if self.grad is None:
            # a gradient shared with another tensor, or a view, is copied before we own it
            dtype = self.data.dtype
            self.grad = g if fresh and g.dtype == dtype else g.astype(dtype, copy=True)
        else:
            self.grad += g

    def _topological_order(self, constants: bool = False) -> list[Tensor]:
        """Graph nodes, inputs before outputs (iterative DFS, no recursion).

        Only nodes that require grad, unless ``constants`` (for drawing the whole graph).  A node's
        inputs are visited last to first and each node follows all of its inputs (post-order).
        """
        order: list[Tensor] = []
        seen = {id(self)}
        ctx = self._ctx
        stack = [(self, reversed(ctx.parents) if ctx is not None and ctx is not _FREED else iter(()))]
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if (constants or p.requires_grad) and id(p) not in seen:
                    seen.add(id(p))
                    c = p._ctx
                    if c is None or c is _FREED:  # a leaf (or a freed gate): nothing above it to visit
                        order.append(p)
                        continue
                    stack.append((p, reversed(c.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
        return order

    # --- operators (each a one-line call of its gate) ------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return ops.Add.apply(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.Add.apply(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(other, self)

    def __pow__(self, exponent: float) -> Tensor:
        return self.pow(exponent)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(other, self)

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.GetItem.apply(self, index=_plain_index(index, backend.xp_of(self.data)))

    __hash__ = object.__hash__

    # --- methods (as in PyTorch) ---------------------------------------------------------
    def pow(self, exponent: float) -> Tensor:
        """Elementwise ``self ** exponent`` for a scalar exponent."""
        if isinstance(exponent, Tensor):
            raise TypeError(
                "pow takes a Python number as exponent; for x ** y with a tensor y use (y * x.log()).exp()"
            )
        return ops.Pow.apply(self, exponent=float(exponent))

    def exp(self) -> Tensor:
        """Elementwise e^x."""
        return ops.Exp.apply(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return ops.Log.apply(self)

    def abs(self) -> Tensor:
        """Elementwise |x|."""
        return ops.Abs.apply(self)

    def sqrt(self) -> Tensor:
        """Elementwise √x."""
        return ops.Pow.apply(self, exponent=0.5)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        return ops.Sum.apply(self, axis=_axis(axis), keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default)."""
        return ops.Mean.apply(self, axis=_axis(axis), keepdims=keepdims)

    def max(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; the gradient is routed to the arg-max (the max gate)."""
        return ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def maximum(self, other: Any) -> Tensor:
        """Elementwise maximum of two tensors."""
        return ops.Maximum.apply(self, other)

    def reshape(self, *shape: Any) -> Tensor:
        """The same values in another shape (one dimension may be -1)."""
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        return ops.Reshape.apply(self, shape=tuple(int(s) for s in shape))

    def flatten(self, start_dim: int = 1) -> Tensor:
        """Flatten dimensions from ``start_dim`` on (an image becomes a vector, slide 2)."""
        return self.reshape(*self.shape[:start_dim], -1)

    def transpose(self, *axes: int) -> Tensor:
        """Permute the axes (reverse them when none are given)."""
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        return ops.Transpose.apply(self, axes=tuple(axes) or None)

    @property
    def T(self) -> Tensor:
        """The transpose (axes reversed)."""
        return self.transpose()

    def sigmoid(self) -> Tensor:
        """Elementwise σ(x) = 1 / (1 + e^-x) (fused, stable gate)."""
        return ops.Sigmoid.apply(self)

    def tanh(self) -> Tensor:
        """Elementwise tanh(x)."""
        return ops.Tanh.apply(self)

    def relu(self) -> Tensor:
        """Elementwise max(0, x)."""
        return ops.ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """Elementwise max(αx, x)."""
        return ops.LeakyReLU.apply(self, negative_slope=float(negative_slope))


def _axis(axis: Any) -> Any:
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _plain_index(index: Any, xp: Any = np) -> Any:
    """Indices as arrays on the indexed tensor's device (Tensors included; never differentiated)."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i, xp) for i in index)
    if isinstance(index, Tensor):
        index = index.data
    if xp is not np and isinstance(index, np.ndarray | list):
        return xp.asarray(index)
    return index


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None,
           device: str | None = None) -> Tensor:
    """Make a ``Tensor``.

    NumPy arrays and NumPy scalars keep their dtype (float64 stays float64); Python numbers
    and lists become float32, as in PyTorch's default; ``dtype`` overrides both.
    """
    if isinstance(data, Tensor):
        data = data.data
    xp = backend.xp_for(device) if device is not None else backend.xp_of(data)
    if dtype is None and not hasattr(data, "dtype"):
        dtype = np.float32
    arr = xp.asarray(data, dtype=dtype)
    if device is None and backend.xp_of(arr) is np:
        arr = np.asarray(arr)
    return Tensor(arr, requires_grad=requires_grad, _raw=True)


from fcnet import ops  # noqa: E402  (the gates need Tensor and Function defined first)
