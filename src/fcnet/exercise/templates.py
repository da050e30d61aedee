"""The student's files: a Python module to fill in and a short notebook that uses it."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

from fcnet.exercise.catalogue import EXERCISES, Exercise
from fcnet.exercise.grading import get_lang, tr

__all__ = ["notebook", "student_module", "write_atomic"]


def _wrap(text: str, indent: str) -> str:
    lines = []
    for para in text.split("\n"):
        lines.extend(textwrap.wrap(para, 100, break_long_words=False) or [""])
    return "\n".join(indent + line if line else "" for line in lines)


def student_module(ex: Exercise) -> str:
    """The student file: the slide's claim on top, each function's formula in its docstring, bodies to write."""
    title = tr(*ex.title)
    head = tr(f"Exercise {ex.name} (slides {ex.slides}): {title}", f"练习 {ex.name}（第{ex.slides}页）：{title}")
    check = tr(f"Check it with:  fcnet exercise check {ex.name} --dir <this folder>",
               f"检查方法：fcnet exercise check {ex.name} --dir <本文件所在目录>")
    rules = tr("Use NumPy and math only; replace each `raise NotImplementedError` by your code.",
               "只使用 NumPy 和 math；把每个 `raise NotImplementedError` 替换为你的代码。")
    parts = [f'"""{head}\n\n{_wrap(tr(*ex.claim), "")}\n\n{rules}\n{check}\n"""\n\nimport numpy as np\n']
    for f in ex.funcs:
        doc = _wrap(tr(f.en, f.zh), "    ").lstrip()
        parts.append(f'\ndef {f.signature}:\n    """{doc}\n    """\n    raise NotImplementedError\n')
    return "\n".join(parts)


def notebook(ex: Exercise) -> str:
    """A short notebook (nbformat 4) that imports the student file, tries the slide's example and grades it."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    title = tr(*ex.title)
    lang = ", '--lang', 'zh'" if get_lang() == "zh" else ""  # the report in the notebook's language
    cells = [
        new_markdown_cell(f"# {tr('Exercise', '练习')} `{ex.name}` — {title}\n\n"
                          f"**{tr('Slides', '幻灯片')} {ex.slides}.** {tr(*ex.claim)}\n\n"
                          + tr(f"Write the functions in `{ex.name}.py` (next to this notebook), then run the cells.",
                               f"在本笔记本旁边的 `{ex.name}.py` 中完成函数，然后运行下面的单元格。")),
        new_code_cell(f"import importlib\n\nimport numpy as np\n\nimport {ex.name} as student\n\n"
                      "importlib.reload(student);"),
        new_markdown_cell(tr("Try it on the slide's example:", "用幻灯片上的例子试一试：")),
        new_code_cell(ex.demo),
        new_markdown_cell(tr("Grade it (hidden random cases; the score is printed at the end):",
                             "评分（含隐藏的随机用例；最后给出得分）：")),
        new_code_cell("import subprocess, sys\n\n"
                      f"res = subprocess.run([sys.executable, '-m', 'fcnet', 'exercise', 'check', '{ex.name}', "
                      f"'--dir', '.'{lang}], capture_output=True, text=True)\nprint(res.stdout, res.stderr)"),
    ]
    if ex.runnable:
        cells += [new_markdown_cell(tr("Train a small net on digits with your functions in place of fcnet's:",
                                       "用你的函数代替 fcnet 的实现，在 digits 上训练一个小网络：")),
                  new_code_cell(f"res = subprocess.run([sys.executable, '-m', 'fcnet', 'exercise', 'run', '{ex.name}', "
                                f"'--dir', '.'{lang}], capture_output=True, text=True)\nprint(res.stdout, res.stderr)")]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    nbformat.validate(nb)
    return nbformat.writes(nb)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def exercise(name: str) -> Exercise:
    """The exercise called ``name`` (ConfigError naming the choices otherwise)."""
    from fcnet.errors import ConfigError

    if name not in EXERCISES:
        names = ", ".join(EXERCISES)
        raise ConfigError(tr(f"unknown exercise {name!r}: choose one of {names} (see fcnet exercise list)",
                             f"没有练习 {name!r}：可选 {names}（见 fcnet exercise list）"))
    return EXERCISES[name]
