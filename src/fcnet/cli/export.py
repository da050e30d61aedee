"""``fcnet export``: a trained run as one ONNX graph or as a PyTorch ``nn.Sequential``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="export a trained run to ONNX or PyTorch (raw features in, probabilities out)",
                       description="Export the whole prediction path of a run (standardisation, every layer, "
                                   "batch norm in evaluation form, softmax).")
    p.add_argument("run", help="run directory (or model directory)")
    p.add_argument("--format", choices=("onnx", "torch"), default="onnx",
                   help="onnx: one .onnx file; torch: a directory with model.safetensors and model.py")
    p.add_argument("--out", required=True, help="the .onnx file (onnx) or the directory (torch) to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out (never a run's own files)")
    p.set_defaults(func=run)


def check_out(out: Path, fmt: str, run_dir: Path, overwrite: bool) -> None:
    """Refuse an --out that would destroy something: a run's files, an existing file or a non-empty directory."""
    target = out.resolve()
    run = run_dir.resolve()
    from fcnet.train.rundir import is_run

    inside = next((d for d in (target, *target.parents) if d == run or is_run(d)
                   or (d.is_dir() and (d / "model.json").exists())), None)
    if inside is not None:
        raise ConfigError(f"--out {out} is inside a run directory ({inside}); exporting there would replace that "
                          "run's own files: choose a path outside every run")
    if fmt == "onnx":
        if target.is_dir():
            raise ConfigError(f"--out {out} is a directory: give the .onnx file to write, e.g. {out}/model.onnx")
        if not target.parent.is_dir():
            raise ConfigError(f"--out {out}: directory {out.parent} does not exist; create it first")
        if target.exists() and not overwrite:
            raise ConfigError(f"--out {out} exists: add --overwrite to replace it, or choose another path")
    else:
        if target.exists() and not target.is_dir():
            raise ConfigError(f"--out {out} is a file: --format torch writes a directory; choose another path")
        if target.is_dir() and any(target.iterdir()) and not overwrite:
            raise ConfigError(f"--out {out} is a directory that is not empty: add --overwrite to replace its "
                              "model.safetensors and model.py, or choose another path")
        if not target.parent.is_dir():
            raise ConfigError(f"--out {out}: directory {out.parent} does not exist; create it first")


def run(args: argparse.Namespace) -> int:
    from fcnet.export import export_onnx, export_torch, prediction_path
    from fcnet.train import io

    if not args.out.strip():
        raise ConfigError("--out is empty: give the .onnx file or the directory to write")
    out = Path(args.out)
    check_out(out, args.format, Path(args.run), args.overwrite)
    model, pre, meta = io.load_run(args.run)
    steps = prediction_path(model, pre, softmax=True)
    if args.format == "onnx":
        export_onnx(steps, out)
        print(f"wrote {out}: input 'x' ({model.in_features} raw features), output 'probabilities' "
              f"({model.classes} classes)")
    else:
        export_torch(steps, out, meta.get("classes"), description=f"fcnet model of {args.run} as a PyTorch "
                                                                  "nn.Sequential.")
        print(f"wrote {out / 'model.safetensors'} and {out / 'model.py'} (from model import load; net = load())")
    return 0
