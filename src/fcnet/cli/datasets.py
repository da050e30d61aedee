"""``fcnet datasets``: the data sets fcnet knows and where each is found."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="list data sets and where their files are found")
    p.add_argument("--data-dir", help="also look in this directory")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fcnet.data import describe

    rows = describe(args.data_dir)
    w = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{w}}  {r['where']}")
        print(f"{'':<{w}}  {r['doc']}")
    return 0
