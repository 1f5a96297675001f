"""Merge comparisons run in pieces (other seeds, other strategies) into one report.

Usage: python scripts/merge_comparisons.py PART.json [PART.json ...] --out DIR [--stem NAME]

Each part is a ``compare_<schedule>.json`` written by ``petridish compare``; all parts must
share the schedule, space, evaluator, targets and the dish settings of their ``+dish``
entries (older files, which did not record them, merge only with each other). Writes
``DIR/<stem>.json``, ``.md`` and ``.png`` (stem default: ``compare_<schedule>``).
"""

from __future__ import annotations

import argparse
import sys

from petridish.search.compare import merge_comparisons, read_json, write_comparison


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("parts", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--stem", default=None)
    args = ap.parse_args(argv)
    try:
        merged = merge_comparisons([read_json(p) for p in args.parts])
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for kind, path in write_comparison(merged, args.out, args.stem).items():
        print(f"{kind}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
