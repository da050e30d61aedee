"""``fcnet exercise list | start NAME | check NAME | run NAME``: the lecture as graded exercises."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="graded exercises: write the lecture's pieces yourself, fcnet checks them",
                       description="Exercises on the lecture: `start` writes a student file and notebook, `check` "
                                   "grades the file (slide numbers, gradcheck, hidden random cases against fcnet), "
                                   "`run` trains a net on digits with your functions.")
    p.add_argument("--lang", choices=["en", "zh"], default=None, help="language of every text (default en)")
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = acts.add_parser("list", help="the exercises, by slide")
    lst.add_argument("--lang", choices=["en", "zh"], default=argparse.SUPPRESS)
    for action, helptext in (("start", "write NAME.py (functions to fill in) and NAME.ipynb into --dir"),
                             ("check", "grade DIR/NAME.py; exit 0 only when every test passes"),
                             ("run", "train a small net on digits with the functions of DIR/NAME.py")):
        a = acts.add_parser(action, help=helptext)
        a.add_argument("name", metavar="NAME", help="exercise name (see `fcnet exercise list`)")
        a.add_argument("--dir", default=".", help="folder of the student's files (default: the current one)")
        a.add_argument("--lang", choices=["en", "zh"], default=argparse.SUPPRESS)
        if action == "start":
            a.add_argument("--force", action="store_true", help="overwrite an existing student file")
        if action == "check":
            a.add_argument("--seed", type=int, default=None,
                           help="seed of the hidden random cases (default: a new one each run)")
            a.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per test (default 10)")
            a.add_argument("--memory", type=float, default=2.0, help="memory limit in GiB (default 2)")
        if action == "run":
            a.add_argument("--epochs", type=int, default=8, help="training epochs (default 8)")
            a.add_argument("--seed", type=int, default=0)
            a.add_argument("--timeout", type=float, default=240.0, help="wall-time limit in seconds (default 240)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fcnet.exercise.grading import set_lang

    set_lang(args.lang or "en")
    if args.action == "list":
        return _list()
    from fcnet.exercise.templates import exercise

    ex = exercise(args.name)
    folder = Path(args.dir)
    if args.action == "start":
        return _start(ex, folder, args.force)
    path = folder / f"{ex.name}.py"
    if not path.is_file():
        raise ConfigError(f"no student file {path}: run `fcnet exercise start {ex.name} --dir {folder}` first")
    if args.action == "check":
        return _check(ex, path, args)
    return _run(ex, path, args)


def _list() -> int:
    from fcnet.exercise import EXERCISES, SECTIONS
    from fcnet.exercise.graders import TESTS
    from fcnet.exercise.grading import tr

    def first_slide(e: Any) -> int:
        return int(e.slides.replace(",", "-").split("-")[0])

    print(tr("Exercises (by slide); start one with `fcnet exercise start NAME`:",
             "练习（按幻灯片顺序）；用 `fcnet exercise start NAME` 开始："))
    for e in sorted(EXERCISES.values(), key=first_slide):
        run_mark = tr("  [run]", "  [可训练]") if e.runnable else ""
        print(f"  {e.name:<15} {tr('slides', '第') + ' ' + e.slides + tr('', ' 页'):<16} "
              f"{tr(*SECTIONS[e.section])}: {tr(*e.title)} ({len(TESTS[e.name])} {tr('tests', '项测试')}){run_mark}")
    return 0


def _start(ex: Any, folder: Path, force: bool) -> int:
    from fcnet.exercise.grading import tr
    from fcnet.exercise.templates import notebook, student_module, write_atomic

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create --dir {folder}: {exc.strerror or exc}") from None
    path, nb_path = folder / f"{ex.name}.py", folder / f"{ex.name}.ipynb"
    if path.exists() and not force:
        raise ConfigError(f"{path} exists already (your work?): pass --force to overwrite it, or choose another --dir")
    write_atomic(path, student_module(ex))
    written = [str(path)]
    try:
        write_atomic(nb_path, notebook(ex))
        written.append(str(nb_path))
    except ImportError:
        print(tr("note: no notebook written: install nbformat (pip install 'fcnet[exercise]')",
                 "提示：未写入笔记本：请安装 nbformat（pip install 'fcnet[exercise]'）"), file=sys.stderr)
    print(tr(f"wrote {', '.join(written)}; fill in the functions, then: fcnet exercise check {ex.name} --dir {folder}",
             f"已写入 {', '.join(written)}；完成函数后运行：fcnet exercise check {ex.name} --dir {folder}"))
    return 0


def format_report(ex: Any, rep: Any, limits: Any) -> str:
    """The graded report: one ✔/✘ line per test (expected, got, slides to reread) and the score."""
    from fcnet.exercise.grading import tr

    lines = [tr(f"exercise {ex.name} (slides {ex.slides}): {tr(*ex.title)}",
                f"练习 {ex.name}（第{ex.slides}页）：{tr(*ex.title)}"),
             tr(f"hidden random cases: seed {rep.seed} (--seed {rep.seed} repeats them)",
                f"隐藏的随机用例：种子 {rep.seed}（--seed {rep.seed} 可重现）")]
    for r in rep.results:
        if r["ok"]:
            lines.append(f"✔ {r['title']}")
            continue
        lines.append(f"✘ {r['title']}")
        lines.append(f"    {r['message']}")
        if r.get("expected") or r.get("got"):
            lines.append(tr(f"    expected {r['expected']}", f"    应为 {r['expected']}"))
            lines.append(tr(f"    got      {r['got']}", f"    实际 {r['got']}"))
        lines.append(tr(f"    reread slide(s) {r['slides']}", f"    请重读第{r['slides']}页"))
    if rep.output_bytes:
        shown = rep.output[:1500]
        lines.append(tr(f"your file printed {rep.output_bytes} bytes" + (" (start shown)" if rep.output_bytes > 1500
                                                                          else "") + ":",
                        f"你的文件输出了 {rep.output_bytes} 字节" + ("（显示开头）" if rep.output_bytes > 1500 else "")
                        + "："))
        lines.extend("    " + s for s in shown.splitlines()[:20])
    n, k = len(rep.results), rep.passed
    lines.append(tr(f"score: {k}/{n} ({100 * k // max(n, 1)}%)", f"得分：{k}/{n}（{100 * k // max(n, 1)}%）"))
    return "\n".join(lines)


def _check(ex: Any, path: Path, args: argparse.Namespace) -> int:
    from fcnet.exercise.grading import get_lang
    from fcnet.exercise.sandbox import Limits, grade

    if args.timeout <= 0 or args.memory <= 0:
        raise ConfigError("--timeout and --memory must be positive")
    limits = Limits(per_test=float(args.timeout), memory=int(args.memory * (1 << 30)))
    rep = grade(ex.name, [path], seed=args.seed, lang=get_lang(), limits=limits)[0]
    print(format_report(ex, rep, limits))
    return 0 if rep.ok else 1


def _run(ex: Any, path: Path, args: argparse.Namespace) -> int:
    from fcnet.exercise.grading import get_lang, tr
    from fcnet.exercise.sandbox import Limits, run_student

    if not ex.runnable:
        from fcnet.exercise import EXERCISES

        can = ", ".join(e.name for e in EXERCISES.values() if e.runnable)
        raise ConfigError(f"exercise {ex.name} has no `run` (its functions are not a layer of a net): try {can}")
    if args.epochs < 1:
        raise ConfigError(f"--epochs must be at least 1, got {args.epochs}")
    rc, out, timed_out = run_student(ex.name, path, lang=get_lang(), epochs=args.epochs, seed=args.seed,
                                     limits=Limits(per_test=float(args.timeout)))
    print(out.rstrip())
    if timed_out:
        print(tr(f"✘ stopped after {args.timeout:g} s: an infinite loop, or try fewer --epochs",
                 f"✘ {args.timeout:g} 秒后停止：是否有死循环？或减少 --epochs"))
        return 1
    return 0 if rc == 0 else 1
