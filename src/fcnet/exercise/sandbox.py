"""Grading in a child process with limits: a student file that loops, crashes or misbehaves gets a verdict.

The parent (:func:`grade`) starts ``python -m fcnet.exercise.sandbox`` with a wall-time limit; the
child caps its own memory, CPU time and output size (``resource.setrlimit``), imports fcnet and the
graders, then loads the student's module with a restricted ``__import__`` (NumPy, math and a few
harmless standard modules only) and an audit hook that refuses processes, sockets and file deletion.
Each test runs under its own alarm; results go, one JSON line per event, to a file the parent reads,
so whatever happens to the child, the tests that finished keep their verdict.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ALLOWED_IMPORTS", "Limits", "Report", "grade", "run_student"]

ALLOWED_IMPORTS = frozenset({
    "numpy", "math", "cmath", "random", "functools", "itertools", "operator", "typing", "dataclasses",
    "collections", "__future__", "statistics", "numbers", "abc", "enum", "copy", "warnings", "typing_extensions",
})
BLOCKED_EVENTS = ("os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
                  "os.kill", "os.killpg", "socket.connect", "socket.bind", "os.remove", "os.rmdir", "shutil.rmtree",
                  "os.rename", "os.truncate", "pty.spawn", "ctypes.dlopen", "os.startfile", "os.putenv", "os.chdir")


@dataclass(frozen=True)
class Limits:
    """Per-test wall time (s), memory (bytes of address space), captured output (bytes), start-up allowance (s)."""

    per_test: float = 10.0
    memory: int = 2 << 30
    output: int = 1 << 20
    startup: float = 20.0


@dataclass
class Report:
    """The verdicts of one student file: ``results`` in test order (dicts), and what the file printed."""

    exercise: str
    path: str
    seed: int
    results: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""
    output_bytes: int = 0

    @property
    def passed(self) -> int:
        return sum(r["ok"] for r in self.results)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r["ok"] for r in self.results)


# --- the parent ---------------------------------------------------------------------------------

_CHILD = "import sys; from fcnet.exercise.sandbox import main; sys.exit(main(sys.argv[1:]))"


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    env["FCNET_KERNELS"] = "numpy"  # no JIT compilation in the child: quick start, small memory
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _spawn(args: list[str], wall: float, out_limit: int) -> tuple[int | None, str, int, bool]:
    """Run the child; returns (return code or None if killed for time, output (truncated), its size, timed out)."""
    # an empty working directory: a student's numpy.py or math.py beside the file cannot shadow a module
    with tempfile.TemporaryFile() as out, tempfile.TemporaryDirectory(prefix="fcnet-exercise-cwd-") as cwd:
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, *args], stdin=subprocess.DEVNULL, cwd=cwd,
                                stdout=out, stderr=subprocess.STDOUT, env=_child_env(), start_new_session=True)
        timed_out = False
        try:
            rc: int | None = proc.wait(timeout=wall)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
        size = out.seek(0, os.SEEK_END)
        out.seek(0)
        text = out.read(min(size, 4000)).decode("utf-8", "replace")
    return rc, text, size, timed_out


def grade(name: str, paths: list[Path], *, seed: int | None = None, lang: str = "en",
          limits: Limits = Limits()) -> list[Report]:
    """Grade each student file in ``paths`` on exercise ``name`` in one child process; one Report per file."""
    from fcnet.exercise.graders import TESTS
    from fcnet.exercise.grading import set_lang, tr

    set_lang(lang)
    seed = secrets.randbits(31) if seed is None else int(seed)
    tests = TESTS[name]
    with tempfile.TemporaryDirectory(prefix="fcnet-exercise-") as tmp:
        results_path = Path(tmp) / "results.jsonl"
        wall = limits.startup + len(paths) * (len(tests) + 1) * limits.per_test
        args = ["grade", name, lang, str(seed), str(results_path), str(limits.per_test), str(limits.memory),
                str(limits.output), *[str(Path(p).resolve()) for p in paths]]
        rc, output, size, timed_out = _spawn(args, wall, limits.output)
        events = _read_events(results_path)
    reports = [Report(name, str(p), seed) for p in paths]
    ends = {(e.get("file"), e["id"]): e for e in events if e.get("event") == "end"}
    starts = [(e.get("file"), e["id"]) for e in events if e.get("event") == "start"]
    # the step the child was in when it ended: a test, or loading file i ("__load__")
    dead = next((s for s in reversed(starts) if s not in ends), None)
    if dead is None and not events and paths:
        dead = (0, "__load__")
    for i, rep in enumerate(reports):
        for t in tests:
            if (i, t.id) in ends:
                rep.results.append(ends[i, t.id])
                continue
            if dead is not None and dead[0] == i and dead[1] in (t.id, "__load__"):
                symptom, msg = _death(rc, timed_out, limits, output if not events else "")
            else:
                symptom, msg = "not_run", tr("not run: an earlier test ended the process",
                                             "未运行：之前的测试终止了进程")
            rep.results.append({"id": t.id, "title": t.title, "slides": t.slides, "ok": False, "symptom": symptom,
                                "message": msg, "expected": "", "got": ""})
        rep.output, rep.output_bytes = output, size
    return reports


def _death(rc: int | None, timed_out: bool, limits: Limits, output: str = "") -> tuple[str, str]:
    from fcnet.exercise.grading import tr

    if output and not timed_out and rc is not None and rc > 0:  # the child died before grading anything
        last = output.strip().splitlines()[-1] if output.strip() else ""
        return "crash", tr(f"the grader could not start ({last}): check the installation of fcnet",
                           f"评分程序无法启动（{last}）：请检查 fcnet 的安装")

    if timed_out:
        return "timeout", tr(f"did not finish within the time limit ({limits.per_test:g} s a test): an infinite loop?",
                             f"未在时限内完成（每个测试 {limits.per_test:g} 秒）：是否有死循环？")
    if rc is not None and rc < 0:
        sig = signal.Signals(-rc).name if -rc in signal.valid_signals() else str(-rc)
        if -rc == signal.SIGXCPU:
            return "timeout", tr("used up its CPU time: an infinite loop?", "CPU 时间耗尽：是否有死循环？")
        return "crash", tr(f"the process was killed by {sig} (a crash, or too much memory)",
                           f"进程被信号 {sig} 终止（崩溃或内存过多）")
    return "crash", tr(f"the process ended early (exit code {rc}): did your code call exit or os._exit?",
                       f"进程提前结束（退出码 {rc}）：你的代码是否调用了 exit 或 os._exit？")


def _read_events(path: Path) -> list[dict[str, Any]]:
    events = []
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(ev, dict) and "id" in ev:
                events.append(ev)
    return events


def run_student(name: str, path: Path, *, lang: str = "en", epochs: int = 8, seed: int = 0,
                limits: Limits = Limits(per_test=240.0)) -> tuple[int | None, str, bool]:
    """``fcnet exercise run``: train on digits with the student's functions in a limited child process.

    Returns (exit code, the printed report (truncated), timed out).
    """
    args = ["run", name, lang, str(seed), str(epochs), str(limits.per_test), str(limits.memory), str(limits.output),
            str(Path(path).resolve())]
    rc, output, size, timed_out = _spawn(args, limits.per_test + limits.startup, limits.output)
    if size > len(output.encode()):
        output += f"\n… ({size} bytes in all)"
    return rc, output, timed_out


# --- the child ----------------------------------------------------------------------------------

class _Timeout(BaseException):
    pass


class Forbidden(ImportError):
    pass


def _limit(memory: int, cpu: float, output: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: only the parent's wall-clock limit applies
        return

    def cap(res: int, value: int) -> None:
        _, hard = resource.getrlimit(res)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(res, (value, hard))
        except (ValueError, OSError):  # e.g. RLIMIT_AS on macOS: the other limits still hold
            pass

    cap(resource.RLIMIT_AS, memory)
    cap(resource.RLIMIT_CPU, int(cpu) + 1)
    cap(resource.RLIMIT_FSIZE, output)
    cap(resource.RLIMIT_CORE, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (OSError) instead of killing


def _restricted_builtins() -> dict[str, Any]:
    import builtins

    real = builtins.__import__

    def guarded(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if level == 0 and name.split(".")[0] not in ALLOWED_IMPORTS:
            from fcnet.exercise.grading import tr

            raise Forbidden(tr(f"import {name} is not allowed here (use numpy and math)",
                               f"此处不允许 import {name}（请只使用 numpy 和 math）"))
        return real(name, globals, locals, fromlist, level)

    safe = dict(vars(builtins))
    safe["__import__"] = guarded
    for k in ("breakpoint", "input", "help"):
        safe.pop(k, None)
    return safe


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


_FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # student code may not climb to the grader's frames (and its locals) through a traceback or a generator
    if event == "object.__getattr__" and len(args) == 2 and args[1] in _FRAME_ATTRS and \
            str(sys._getframe(1).f_globals.get("__name__", "")).startswith("student_"):
        from fcnet.exercise.grading import tr

        raise PermissionError(tr(f"reading .{args[1]} is not allowed in an exercise",
                                 f"练习中不允许读取 .{args[1]}"))
    # opening a file for writing is refused too: the verdicts go to a file the student must not append to
    if event.startswith(BLOCKED_EVENTS) or (event == "open" and len(args) == 3 and (
            (isinstance(args[2], int) and args[2] & _WRITE_FLAGS)
            or (isinstance(args[1], str) and any(c in args[1] for c in "wax+")))):
        from fcnet.exercise.grading import tr

        if event == "open":
            raise PermissionError(tr(f"writing {args[0]!r} is not allowed in an exercise",
                                     f"练习中不允许写入 {args[0]!r}"))
        raise PermissionError(tr(f"{event} is not allowed in an exercise", f"练习中不允许调用 {event}"))


def _load(path: str, tag: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"student_{tag}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__builtins__"] = _restricted_builtins()
    spec.loader.exec_module(module)
    return module


def _where(exc: BaseException, path: str) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) == path]
    if not frames:
        return ""
    f = frames[-1]
    from fcnet.exercise.grading import tr

    return tr(f" (line {f.lineno}, in {f.name})", f"（第 {f.lineno} 行，函数 {f.name}）")


def _verdict(exc: BaseException, path: str, per_test: float) -> tuple[str, str]:
    """(symptom, message) for an exception raised while a test ran the student's code."""
    from fcnet.exercise.grading import tr

    where = _where(exc, path)
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, _Timeout):
        return "timeout", tr(f"did not finish within {per_test:g} s{where}: an infinite loop?",
                             f"未在 {per_test:g} 秒内完成{where}：是否有死循环？")
    if isinstance(exc, NotImplementedError):
        return "todo", tr(f"not written yet: NotImplementedError{where}", f"尚未完成：NotImplementedError{where}")
    if isinstance(exc, SystemExit):
        return "exit", tr(f"your code called exit({exc.code}){where}: return a value instead",
                          f"你的代码调用了 exit({exc.code}){where}：请返回结果")
    if isinstance(exc, MemoryError):
        return "memory", tr(f"ran out of memory{where}: an array far too large?", f"内存不足{where}：数组是否过大？")
    if isinstance(exc, Forbidden | PermissionError):
        return "forbidden", tr(f"{text}{where}", f"{text}{where}")
    if isinstance(exc, AttributeError) and "student_" in text:
        missing = text.split("attribute")[-1].strip(" '\"")
        return "missing", tr(f"function {missing} is missing from your file", f"你的文件中缺少函数 {missing}")
    if isinstance(exc, RecursionError):
        return "error", tr(f"infinite recursion{where}", f"无限递归{where}")
    if isinstance(exc, ValueError) and any(k in text for k in ("matmul", "shape", "broadcast", "aligned")):
        return "shape_error", tr(f"shapes do not fit: {type(exc).__name__}: {text}{where} — a forgotten or extra "
                                 "transpose?", f"形状不匹配：{type(exc).__name__}: {text}{where}——是否漏了或多了转置？")
    if isinstance(exc, OSError) and getattr(exc, "errno", None) == 27:
        return "output", tr("printed too much (output limit reached)", "输出过多（达到输出上限）")
    return "error", tr(f"{type(exc).__name__}: {text}{where}", f"{type(exc).__name__}: {text}{where}")


class _Guard:
    """Snapshots of the modules student code shares with the grader; a test that changes one fails."""

    def __init__(self) -> None:
        import math

        import numpy as np

        self.modules = [np, np.linalg, np.random, math]
        self.saved = [dict(vars(m)) for m in self.modules]

    def changed(self) -> str | None:
        """The first name student code replaced (then everything is put back), or None."""
        found = None
        for m, saved in zip(self.modules, self.saved, strict=True):
            now = vars(m)
            # names added later are NumPy's lazily imported submodules (numpy.ma, ...): only replacements count
            diff = [k for k in saved if now.get(k, _MISSING) is not saved[k]]
            if diff:
                found = found or f"{m.__name__}.{sorted(diff)[0]}"
                for k in diff:
                    setattr(m, k, saved[k])
        return found


_MISSING = object()


def _child_grade(argv: list[str]) -> int:
    name, lang, seed, results, per_test, memory, output, *paths = argv
    per, nseed = float(per_test), int(seed)
    import numpy as np

    from fcnet import gradcheck, nn, optim  # noqa: F401 - imported before the audit hook starts
    from fcnet.exercise.graders import TESTS
    from fcnet.exercise.grading import Fail, set_lang, tr

    set_lang(lang)
    tests = TESTS[name]
    _limit(int(memory), per * (len(tests) + 1) * len(paths) + 10, int(output))
    guard = _Guard()
    fh = open(results, "a", encoding="utf-8", buffering=1)
    sys.addaudithook(_audit)

    def alarm(signum: int, frame: Any) -> None:
        raise _Timeout()

    signal.signal(signal.SIGALRM, alarm)

    def emit(**ev: Any) -> None:
        fh.write(json.dumps(ev, ensure_ascii=False) + "\n")

    for i, path in enumerate(paths):
        module = None
        load_error: tuple[str, str] | None = None
        emit(event="start", file=i, id="__load__")
        signal.setitimer(signal.ITIMER_REAL, per)
        try:
            module = _load(path, str(i))
        except BaseException as exc:
            symptom, msg = _verdict(exc, path, per)
            load_error = (symptom, tr(f"your file could not be loaded: {msg}", f"无法载入你的文件：{msg}"))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        tampered = guard.changed()
        if tampered and load_error is None:
            load_error = ("forbidden", tr(f"your file replaced {tampered}: leave NumPy and math as they are",
                                          f"你的文件替换了 {tampered}：请不要修改 NumPy 与 math"))
        emit(event="end", file=i, id="__load__")
        for k, t in enumerate(tests):
            base = {"file": i, "id": t.id, "title": t.title, "slides": t.slides}
            if load_error is not None:
                emit(event="end", ok=False, symptom=load_error[0], message=load_error[1], expected="", got="", **base)
                continue
            emit(event="start", **base)
            t0 = time.perf_counter()
            rec: dict[str, Any] = {"ok": True, "symptom": "", "message": "", "expected": "", "got": ""}
            try:
                signal.setitimer(signal.ITIMER_REAL, per)
                try:
                    with np.errstate(all="ignore"):
                        t.fn(module, np.random.default_rng([nseed, k]))
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except Fail as f:
                rec = {"ok": False, "symptom": f.symptom, "message": f.message, "expected": f.expected, "got": f.got}
            except BaseException as exc:
                symptom, msg = _verdict(exc, path, per)
                rec = {"ok": False, "symptom": symptom, "message": msg, "expected": "", "got": ""}
            tampered = guard.changed()
            if tampered:
                rec = {"ok": False, "symptom": "forbidden", "expected": "", "got": "",
                       "message": tr(f"your code replaced {tampered}: leave NumPy and math as they are",
                                     f"你的代码替换了 {tampered}：请不要修改 NumPy 与 math")}
            emit(event="end", seconds=round(time.perf_counter() - t0, 3), **rec, **base)
    fh.close()
    return 0


def _child_run(argv: list[str]) -> int:
    name, lang, seed, epochs, wall, memory, output, path = argv
    from fcnet.exercise.grading import set_lang
    from fcnet.exercise.plug import preload, train_with

    set_lang(lang)
    preload()
    _limit(int(memory), float(wall) + 5, int(output))
    sys.addaudithook(_audit)
    try:
        module = _load(path, "run")
    except BaseException as exc:
        print(_verdict(exc, path, float(wall))[1], flush=True)
        return 4
    return train_with(name, module, int(epochs), int(seed), lambda exc: _verdict(exc, path, float(wall))[1])


def main(argv: list[str]) -> int:
    """Child entry point: ``grade ...`` or ``run ...``."""
    mode, rest = argv[0], argv[1:]
    return _child_grade(rest) if mode == "grade" else _child_run(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
