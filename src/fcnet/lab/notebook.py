"""One Jupyter notebook per lab: the slides' claims (the report's short summary first, the full claims folded
below it) and formulas as text, the lab's parameters in a cell a student edits, then cells that call the
lab's own ``run`` and show its tables and figures.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from fcnet.errors import ConfigError
from fcnet.i18n import math_text, tr
from fcnet.lab import LABS
from fcnet.lab.report import LabResult, shown_claim
from fcnet.train.io import atomic_write

__all__ = ["build_notebook", "lab_parameters", "write_notebook"]

_SCALARS = (bool, int, float, str)


def _plain(v: Any) -> bool:
    """A value a student can edit as a Python literal: numbers, strings, and lists/tuples/dicts of them."""
    if isinstance(v, _SCALARS):
        return not isinstance(v, str) or len(v) < 40
    if isinstance(v, (list, tuple)):
        return len(v) <= 12 and all(_plain(x) for x in v)
    if isinstance(v, dict):
        return len(v) <= 12 and all(isinstance(k, str) and _plain(x) for k, x in v.items())
    return False


def lab_parameters(module: ModuleType) -> dict[str, Any]:
    """The lab's tunable module constants (upper-case names; the slides' own numbers, SLIDE*, excluded)."""
    return {k: v for k, v in vars(module).items()
            if k.isupper() and not k.startswith(("SLIDE", "_")) and not k.endswith("_ZH") and _plain(v)
            and not (isinstance(v, dict) and all(isinstance(x, str) for x in v.values()))}  # labels, not knobs


def _md(text: str) -> dict[str, Any]:
    import nbformat

    return nbformat.v4.new_markdown_cell(text)


def _code(src: str, tags: list[str] | None = None) -> dict[str, Any]:
    import nbformat

    cell = nbformat.v4.new_code_cell(src)
    if tags:
        cell.metadata["tags"] = tags
    return cell


def build_notebook(name: str, res: LabResult, seed: int, full: bool, lang: str, out: str = "lab_out",
                   overrides: dict[str, Any] | None = None) -> Any:
    """The notebook of lab ``name`` (an ``nbformat`` NotebookNode); ``overrides`` replace parameter values."""
    try:
        import nbformat
    except ImportError:
        raise ConfigError("writing notebooks needs nbformat: pip install 'fcnet[notebook]'") from None
    module = importlib.import_module(LABS[name])
    params = {**lab_parameters(module), **(overrides or {})}
    head, rest = shown_claim(res)
    intro = [f"# {res.title} — {tr('slides', '第')} {res.slides}{tr('', ' 页')}", "", f"**{head}**"]
    if res.formulas:
        intro += ["", *[f"$$ {math_text(f)} $$" for f in res.formulas]]
    if rest:  # the report's folded text, folded the same way (Jupyter renders <details>)
        label = (tr("The full claims, slide by slide, with their setups", "逐页的全部结论及其实验设置")
                 if res.summary else tr("The rest of the claims and their setups", "其余结论及其实验设置"))
        intro += ["", f"<details><summary>{label}</summary>", "", rest, "", "</details>"]
    intro += ["", tr("Change the parameters in the next cell and run all cells again: the lab's own `run` "
                     "computes every table and figure below.",
                     "修改下一个单元中的参数并重新运行全部单元：下面的表格与图都由实验自己的 `run` 计算。")]
    lines = [f"seed = {seed!r}", f"full = {full!r}", f"out = {out!r}", f"lang = {lang!r}",
             tr(f"# parameters of fcnet.lab.{name} (module constants its run reads)",
                f"# fcnet.lab.{name} 的参数（run 读取的模块常量）")]
    lines += [f"{k} = {v!r}" for k, v in params.items()]
    setters = "\n".join(f"lab.{k} = {k}" for k in params)
    run_src = ("import warnings\nfrom pathlib import Path\n\n"
               "warnings.filterwarnings('ignore', message='IProgress not found')  "
               + tr("# tqdm without ipywidgets\n", "# 没有 ipywidgets 时 tqdm 的提示\n") +
               f"import fcnet.lab.{name} as lab\n"
               "from fcnet.cli.lab import choose_language\nfrom fcnet.lab.report import format_result\n"
               "from fcnet.viz.style import apply_style\n\n"
               f"choose_language(lang)\napply_style()\n{setters}\nPath(out).mkdir(parents=True, exist_ok=True)\n"
               "res = lab.run(Path(out), seed=seed, full=full)")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [_md("\n".join(intro)), _code("\n".join(lines), ["parameters"]), _code(run_src, ["run"]),
                _md(tr("The lab's tables (the same text `fcnet lab` prints):",
                       "实验的表格（与 `fcnet lab` 输出相同）：")),
                _code("print(format_result(res))", ["tables"]),
                _md(tr("Its figures:", "实验的图：")),
                _code("from IPython.display import Image, display\n\nfor p in res.figures:\n"
                      "    display(Image(filename=str(p)))", ["figures"]),
                _code("res.numbers.keys()  " + tr("# the numbers every claim rests on", "# 各结论所依据的数值"),
                      ["numbers"])]
    return nb


def write_notebook(path: Path, nb: Any) -> Path:
    """Write ``nb`` atomically as a .ipynb file (validated by nbformat)."""
    import nbformat

    nbformat.validate(nb)
    return atomic_write(path, (json.dumps(nb, ensure_ascii=False, indent=1) + "\n").encode())
