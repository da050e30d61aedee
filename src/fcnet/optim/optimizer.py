"""``Optimizer``: the base of SGD, Momentum, RMSProp and Adam (slides 89-123).

Parameters are updated in place.  Each optimizer keeps, per parameter, the state its
formula needs (v, r) plus one scratch buffer, allocated on the first step and reused, so
a step allocates no parameter-sized temporaries.  A subclass writes its elementwise
``kernel`` in NumPy (the reference) and, in ``compiled_kernel``, binds its scalars to the
one-pass compiled twin from ``fcnet.kernels`` (used on the CPU unless ``FCNET_KERNELS=numpy``);
the base class runs either over large parameters in per-thread chunks
(``backend.parallel_elementwise``).  ``state_dict`` holds plain arrays and numbers (no
pickle needed to save it).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from fcnet import backend, kernels
from fcnet.tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer(abc.ABC):
    """Base class: ``zero_grad()``, ``step()``, ``state_dict()``, ``load_state_dict()``.

    Args:
        params: the tensors to update (e.g. ``model.parameters()``).
        defaults: hyperparameters (``lr``, ...) stored in ``param_groups[0]``, which
            learning-rate schedules change.
    """

    #: names of the per-parameter state buffers, passed to ``kernel`` in this order
    state_names: tuple[str, ...] = ()
    #: optional one-kernel form for GPUs: (inputs "T g, float64 a, ...", in-out "T p, T <state>...",
    #: CUDA body, name); its scalars come from ``fused_scalars()`` in the order declared
    fused: tuple[str, str, str, str] | None = None

    def __init__(self, params: Iterable[Tensor], defaults: dict[str, Any]) -> None:
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list: pass model.parameters()")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer parameters must be Tensors, got {type(p).__name__} at {i}")
        lr = defaults.get("lr")
        if lr is None or not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        wd = defaults.get("weight_decay", 0.0)
        if not wd >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {wd} (must be >= 0)")
        self.param_groups: list[dict[str, Any]] = [dict(defaults, params=self.params)]
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self.steps = 0
        self._scratch: dict[tuple[int, str], Any] = {}
        self._plan: dict[str, Any] | None = None  # what _compiled_step keeps from step to step

    @property
    def lr(self) -> float:
        """The current learning rate ε."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        self.param_groups[0]["lr"] = float(value)

    @property
    def hyper(self) -> dict[str, Any]:
        """The hyperparameters (``param_groups[0]`` without the params)."""
        return {k: v for k, v in self.param_groups[0].items() if k != "params"}

    def zero_grad(self) -> None:
        """Forget the gradients (``p.grad = None``) before the next backward."""
        for p in self.params:
            p.grad = None

    def _buffer(self, i: int, name: str) -> Any:
        """State buffer ``name`` of parameter i (zeros on first use)."""
        st = self.state[i]
        if name not in st:
            st[name] = backend.xp_of(self.params[i].data).zeros_like(self.params[i].data)
        return st[name]

    def _tmp(self, i: int, slot: str = "tmp") -> Any:
        """A scratch array of parameter i's shape, reused across steps."""
        t = self._scratch.get((i, slot))
        data = self.params[i].data
        # a parameter given new data of another dtype, shape or device gets scratch like it (a float32 scratch
        # would round a float64 parameter's update)
        if t is None or t.dtype != data.dtype or t.shape != data.shape or backend.xp_of(t) is not backend.xp_of(data):
            t = self._scratch[i, slot] = backend.xp_of(data).empty_like(data)
        return t

    # --- the step ----------------------------------------------------------------------
    def prepare(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Per-step scalars shared by all parameters (e.g. Adam's bias corrections)."""

    @abc.abstractmethod
    def kernel(self, p: Any, g: Any, tmp: Any, *state: Any) -> None:
        """Update ``p`` in place from gradient ``g`` (``tmp`` is scratch; ``state`` the buffers)."""

    def compiled_kernel(self, kernels: Any, dtype: Any) -> Callable[..., None] | None:
        """``f(p, g, *state)`` updating flat arrays in one compiled pass, or None (NumPy only).

        ``kernels`` is ``fcnet.kernels.jitted``; scalars are cast to ``dtype`` here, once per
        step, the way NumPy casts a Python float beside an array of that dtype.
        """
        return None

    def _decayed_kernel(self, p: Any, g: Any, tmp: Any, dec: Any, *state: Any) -> None:
        """G ← g + λθ (L2 weight decay in PyTorch's form) into ``dec``, then the kernel."""
        backend.xp_of(p).multiply(p, self.param_groups[0]["weight_decay"], out=dec)
        dec += g
        self.kernel(p, dec, tmp, *state)

    def fused_scalars(self) -> tuple[float, ...]:
        """The scalar arguments of ``fused``, after ``prepare()``."""
        return ()

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        self.steps += 1
        h = self.param_groups[0]
        self.prepare()
        kernel = self.fused and backend.fused_kernel(self.params[0].data, *self.fused)
        if kernel:  # a GPU: the whole update of a parameter is one kernel launch
            scalars = self.fused_scalars()
            for i, p in enumerate(self.params):
                if p.grad is not None:
                    kernel(p.grad, *scalars, p.data, *[self._buffer(i, n) for n in self.state_names])
            return
        if self._compiled_step():
            return
        coupled = bool(h.get("weight_decay", 0.0)) and not h.get("decoupled_weight_decay", False)
        jobs = []
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if p.grad.shape != p.data.shape:
                raise ValueError(f"gradient of shape {p.grad.shape} for a parameter of shape {p.shape}")
            g = p.grad if p.grad.flags.c_contiguous else backend.xp_of(p.grad).ascontiguousarray(p.grad)
            arrays = [p.data, g, self._tmp(i)]
            if coupled:
                arrays.append(self._tmp(i, "decayed"))
            jobs.append(arrays + [self._buffer(i, n) for n in self.state_names])
        backend.parallel_elementwise(self._decayed_kernel if coupled else self.kernel, jobs)

    def _compiled_step(self) -> bool:
        """The step through the compiled kernels; False (nothing done) where they do not apply.

        What does not change from step to step (which parameters, their flattened data and state
        buffers, the compiled kernel of each dtype) is worked out once and kept in ``_plan``; each step
        only checks that it still holds (the same arrays, by identity) and flattens the new gradients.
        """
        k = kernels.compiled()
        if k is None or backend.xp_of(self.params[0].data) is not np:
            return False
        plan = self._plan if self._plan is not None and self._plan_holds(self._plan) else self._make_plan(k)
        if plan is None:
            return False
        small = plan["total"] < 2 * backend.min_chunk() or backend.num_threads() < 2
        for dtype, rows in plan["jobs"]:
            jobs = []
            for _i, p, data, state in rows:
                g = p.grad
                if not g.flags.c_contiguous or g.dtype != p.data.dtype:
                    g = np.ascontiguousarray(g, dtype=p.data.dtype)
                jobs.append([data, g.reshape(-1), *state])
            bound = self.compiled_kernel(k, dtype)
            if small:  # too few elements to share out among threads: no hand-off at all
                for arrays in jobs:
                    bound(*arrays)
            else:
                backend.parallel_elementwise(bound, jobs)
        return True

    def _plan_holds(self, plan: dict[str, Any]) -> bool:
        """Whether the cached plan still describes this step: the same live parameters, data and buffers."""
        params, state, names = self.params, self.state, self.state_names
        if plan["state"] is not state or plan["count"] != len(params):
            return False
        for i, p, data, bufs in plan["checks"]:
            g = p.grad
            if g is None or params[i] is not p or p.data is not data or g.shape != data.shape:
                return False
            st = state[i]
            for name, buf in zip(names, bufs, strict=True):
                if st.get(name) is not buf:
                    return False
        for i, p in plan["dead"]:  # a parameter without a gradient when the plan was made has none now
            if params[i] is not p or p.grad is not None:
                return False
        return True

    def _make_plan(self, k: Any) -> dict[str, Any] | None:
        """The per-dtype job rows of ``_compiled_step`` (None: the reference path must run this step)."""
        self._plan = None
        live = [(i, p) for i, p in enumerate(self.params) if p.grad is not None]
        if any(p.grad.shape != p.data.shape or not p.data.flags.c_contiguous for _, p in live):
            return None  # the reference path raises the shape error or handles the odd layout
        by_dtype: dict[Any, list[Any]] = {}
        data: dict[int, Any] = {}
        buffers: dict[int, tuple[Any, ...]] = {}
        total = 0
        for i, p in live:
            if self.compiled_kernel(k, p.dtype) is None:
                return None
            state = tuple(self._buffer(i, n) for n in self.state_names)
            if kernels.for_arrays(p.data, *state) is None or not all(a.flags.c_contiguous for a in state):
                return None  # float16, or a state buffer of another layout: the reference path
            data[i], buffers[i] = p.data, state
            by_dtype.setdefault(p.dtype, []).append((i, p, p.data.reshape(-1), [a.reshape(-1) for a in state]))
            total += p.data.size
        live_ids = {i for i, _ in live}
        plan = {"jobs": list(by_dtype.items()), "state": self.state, "total": total, "count": len(self.params),
                "checks": [(i, p, data[i], buffers[i]) for i, p in live],
                "dead": [(i, p) for i, p in enumerate(self.params) if i not in live_ids]}
        self._plan = plan
        return plan

    # --- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"type", "steps", "hyper": {...}, "state": {"<i>.<name>": array}}`` (NumPy copies)."""
        state = {f"{i}.{k}": backend.to_numpy(v).copy() for i, st in enumerate(self.state)
                 for k, v in st.items()}
        return {"type": type(self).__name__, "steps": self.steps, "hyper": self.hyper, "state": state}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (the parameters must have the same shapes)."""
        if sd.get("type", type(self).__name__) != type(self).__name__:
            raise ValueError(f"state_dict is for {sd['type']}, not {type(self).__name__}")
        self.steps = int(sd["steps"])
        self.param_groups[0].update(sd["hyper"])
        self.state = [{} for _ in self.params]
        for key, value in sd["state"].items():
            i_str, name = key.split(".", 1)
            i = int(i_str)
            if i >= len(self.params) or tuple(value.shape) != self.params[i].shape:
                raise ValueError(f"optimizer state {key!r} does not fit parameter {i}")
            xp = backend.xp_of(self.params[i].data)
            self.state[i][name] = xp.array(value, dtype=self.params[i].dtype)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({args})"
