"""Writing student files for the exercise tests: the reference solution and its catalogued mistakes."""

from __future__ import annotations

from pathlib import Path

from fcnet.exercise.catalogue import EXERCISES, Mistake, solution_source


def with_mistake(name: str, mistake: Mistake) -> str:
    """The reference solution of ``name`` with ``mistake``'s edits applied (each must match exactly once)."""
    src = solution_source(name)
    for old, new in mistake.edits:
        assert src.count(old) == 1, f"{name}/{mistake.name}: edit {old!r} matches {src.count(old)} times"
        src = src.replace(old, new)
    return src


def write(folder: Path, stem: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.py"
    path.write_text(text, encoding="utf-8")
    return path


def student_files(name: str, folder: Path) -> list[Path]:
    """The reference first, then one file per catalogued mistake."""
    ex = EXERCISES[name]
    paths = [write(folder, f"{name}_reference", solution_source(name))]
    paths += [write(folder, f"{name}__{m.name}", with_mistake(name, m)) for m in ex.mistakes]
    return paths
