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
        a.add_argument("name", metavar="NAME", help="exercise name (see `fcnet exercise list`); for start and check "
                                                    "also a section name or all")
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
    from fcnet.exercise.grading import set_lang, tr

    set_lang(args.lang or "en")
    if args.action == "list":
        return _list()
    folder = Path(args.dir)
    group = _group(args.name)
    if args.action in ("check", "run"):
        _check_limits(args)
    if args.action == "start":
        return _start(group, folder, args.force)
    if args.action == "check" and len(group) > 1:
        return _check_many(group, folder, args)
    ex = group[0]
    if len(group) > 1:
        raise ConfigError(tr(f"`run` takes one exercise, not the section {args.name!r}: e.g. {group[0].name}",
                             f"`run` 只接受一个练习，而不是章节 {args.name!r}：例如 {group[0].name}"))
    path = folder / f"{ex.name}.py"
    if not path.is_file():
        raise ConfigError(tr(f"no student file {path}: run `fcnet exercise start {ex.name} --dir {folder}` first",
                             f"没有学生文件 {path}：请先运行 `fcnet exercise start {ex.name} --dir {folder}`"))
    if args.action == "check":
        return _check(ex, path, args)
    return _run(ex, path, args)


def _check_limits(args: argparse.Namespace) -> None:
    """--seed, --timeout and --memory before any grading: a bad value is the caller's, not the student's."""
    import math

    from fcnet.exercise.grading import tr

    if args.seed is not None and args.seed < 0:
        raise ConfigError(tr(f"--seed must be 0 or more, got {args.seed}", f"--seed 必须不小于 0，实际为 {args.seed}"))
    for opt in ("timeout", "memory"):
        value = getattr(args, opt, None)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ConfigError(tr(f"--{opt} must be positive (a finite number), got {value:g}",
                                 f"--{opt} 必须为正数，实际为 {value:g}"))


def _group(name: str) -> list[Any]:
    """The exercises NAME stands for: one exercise, every exercise of a section, or ``all``."""
    from fcnet.exercise import EXERCISES, SECTIONS
    from fcnet.exercise.templates import exercise

    if name == "all":
        return sorted(EXERCISES.values(), key=_first_slide)
    if name in SECTIONS and name not in EXERCISES:
        return sorted((e for e in EXERCISES.values() if e.section == name), key=_first_slide)
    return [exercise(name)]


def _first_slide(e: Any) -> int:
    return int(e.slides.replace(",", "-").split("-")[0])


def _list() -> int:
    from fcnet.exercise import EXERCISES, SECTIONS
    from fcnet.exercise.graders import TESTS
    from fcnet.exercise.grading import tr

    print(tr("Exercises (by slide); start one with `fcnet exercise start NAME`:",
             "练习（按幻灯片顺序）；用 `fcnet exercise start NAME` 开始："))
    for e in sorted(EXERCISES.values(), key=_first_slide):
        run_mark = tr("  [run]", "  [可训练]") if e.runnable else ""
        print(f"  {e.name:<15} {tr('slides', '第') + ' ' + e.slides + tr('', ' 页'):<16} "
              f"{tr(*SECTIONS[e.section])}: {tr(*e.title)} ({len(TESTS[e.name])} {tr('tests', '项测试')}){run_mark}")
    print(tr("Sections (NAME may also be a section, or all, for start and check): ",
             "章节（start 与 check 的 NAME 也可以是章节名或 all）：") + ", ".join(SECTIONS))
    return 0


def _start(group: list[Any], folder: Path, force: bool) -> int:
    from fcnet.exercise import templates
    from fcnet.exercise.grading import tr
    from fcnet.exercise.templates import notebook, student_module

    if folder.exists() and not folder.is_dir():
        raise ConfigError(tr(f"--dir {folder} is a file, not a folder: choose a folder (it is created if missing)",
                             f"--dir {folder} 是文件而不是文件夹：请指定一个文件夹（不存在时会自动创建）"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(tr(f"cannot create --dir {folder}: {exc.strerror or exc}",
                             f"无法创建 --dir {folder}：{exc.strerror or exc}")) from None
    for ex in group:  # refuse before writing anything
        path = folder / f"{ex.name}.py"
        if path.exists() and not force:
            raise ConfigError(tr(f"{path} exists already (your work?): pass --force to overwrite it, or choose "
                                 "another --dir", f"{path} 已存在（是你的作业吗？）：用 --force 覆盖，或换一个 --dir"))
    for ex in group:
        path, nb_path = folder / f"{ex.name}.py", folder / f"{ex.name}.ipynb"
        try:
            templates.write_atomic(path, student_module(ex))
        except OSError as exc:
            raise ConfigError(tr(f"cannot write {path}: {exc.strerror or exc}: choose another --dir",
                                 f"无法写入 {path}：{exc.strerror or exc}：请换一个 --dir")) from None
        written = [str(path)]
        try:
            templates.write_atomic(nb_path, notebook(ex))
            written.append(str(nb_path))
        except OSError as exc:
            print(tr(f"note: no notebook written ({nb_path}: {exc.strerror or exc})",
                     f"提示：未写入笔记本（{nb_path}：{exc.strerror or exc}）"), file=sys.stderr)
        except ImportError:
            print(tr("note: no notebook written: install nbformat (pip install 'fcnet[exercise]')",
                     "提示：未写入笔记本：请安装 nbformat（pip install 'fcnet[exercise]'）"), file=sys.stderr)
        files = ", ".join(written)
        print(tr(f"wrote {files}; fill in the functions, then: fcnet exercise check {ex.name} --dir {folder}",
                 f"已写入 {files}；完成函数后运行：fcnet exercise check {ex.name} --dir {folder}"))
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


def _check(ex: Any, path: Path, args: argparse.Namespace, summary: list[Any] | None = None) -> int:
    from fcnet.exercise.grading import get_lang, tr
    from fcnet.exercise.sandbox import Limits, grade

    if args.timeout <= 0 or args.memory <= 0:
        raise ConfigError(tr("--timeout and --memory must be positive", "--timeout 与 --memory 必须为正数"))
    limits = Limits(per_test=float(args.timeout), memory=int(args.memory * (1 << 30)))
    rep = grade(ex.name, [path], seed=args.seed, lang=get_lang(), limits=limits)[0]
    print(format_report(ex, rep, limits))
    if summary is not None:
        summary.append((ex.name, rep.passed, len(rep.results), ""))
    return 0 if rep.ok else 1


def _check_many(group: list[Any], folder: Path, args: argparse.Namespace) -> int:
    """Grade every exercise of a section (or all) in ``folder``; each report, then one line per exercise."""
    from fcnet.exercise.grading import tr

    summary = []
    for ex in group:
        path = folder / f"{ex.name}.py"
        if not path.is_file():
            summary.append((ex.name, 0, None, tr("no file", "无文件")))
            continue
        _check(ex, path, args, summary)
        print()
    print(tr(f"summary for {folder}:", f"{folder} 的汇总："))
    total = done = 0
    for name, passed, n, note in summary:
        if n is None:
            print(f"  {name:<15} {note}")
            total += 1
            continue
        print(f"  {name:<15} {passed}/{n} ({100 * passed // max(n, 1)}%)")
        total += 1
        done += passed == n
    print(tr(f"exercises passed: {done}/{total}", f"通过的练习：{done}/{total}"))
    return 0 if done == total else 1


def _run(ex: Any, path: Path, args: argparse.Namespace) -> int:
    from fcnet.exercise.grading import get_lang, tr
    from fcnet.exercise.sandbox import Limits, run_student

    if not ex.runnable:
        from fcnet.exercise import EXERCISES

        can = ", ".join(e.name for e in EXERCISES.values() if e.runnable)
        raise ConfigError(tr(f"exercise {ex.name} has no `run` (its functions are not a layer of a net): try {can}",
                             f"练习 {ex.name} 没有 `run`（它的函数不是网络的一层）：可以试试 {can}"))
    if args.epochs < 1:
        raise ConfigError(tr(f"--epochs must be at least 1, got {args.epochs}",
                             f"--epochs 至少为 1，实际为 {args.epochs}"))
    rc, out, timed_out = run_student(ex.name, path, lang=get_lang(), epochs=args.epochs, seed=args.seed,
                                     limits=Limits(per_test=float(args.timeout)))
    print(out.rstrip())
    if timed_out:
        print(tr(f"✘ stopped after {args.timeout:g} s: an infinite loop, or try fewer --epochs",
                 f"✘ {args.timeout:g} 秒后停止：是否有死循环？或减少 --epochs"))
        return 1
    return 0 if rc == 0 else 1
