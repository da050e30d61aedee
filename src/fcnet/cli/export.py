"""``fcnet export``: a trained run as one ONNX graph or as a PyTorch ``nn.Sequential``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="export a trained run to ONNX or PyTorch (raw features in, probabilities out)",
                       description="Export the whole prediction path of a run (standardisation, every layer, "
                                   "batch norm in evaluation form, softmax).")
    p.add_argument("run", help="run directory (or model directory)")
    p.add_argument("--format", choices=("onnx", "torch"), default="onnx",
                   help="onnx: one .onnx file; torch: a directory with model.safetensors and model.py")
    p.add_argument("--out", required=True, help="the .onnx file (onnx) or the directory (torch) to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fcnet.export import export_onnx, export_torch, prediction_path
    from fcnet.train import io

    model, pre, meta = io.load_model(args.run)
    steps = prediction_path(model, pre, softmax=True)
    out = Path(args.out)
    if args.format == "onnx":
        export_onnx(steps, out)
        print(f"wrote {out}: input 'x' ({model.in_features} raw features), output 'probabilities' "
              f"({model.classes} classes)")
    else:
        export_torch(steps, out, meta.get("classes"), description=f"fcnet model of {args.run} as a PyTorch "
                                                                  "nn.Sequential.")
        print(f"wrote {out / 'model.safetensors'} and {out / 'model.py'} (from model import load; net = load())")
    return 0
