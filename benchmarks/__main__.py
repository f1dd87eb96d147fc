"""``make bench``: run the benchmarks, print one JSON line per figure, write them all.

python -m benchmarks [--only search_ms,full_sync] [--scale small|full] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks import desk, fanout, hold, search, sync
from benchmarks.figures import DEFAULT_OUT, SCALES, Report, note

FIGURES = (search.NAME, *sync.FIGURES, hold.NAME, *desk.FIGURES, *fanout.NAMES)


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FIGURES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown figure {', '.join(unknown) or text!r}; choose from {', '.join(FIGURES)}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure AgentDesk against its performance budgets (see benchmarks/README.md).",
    )
    parser.add_argument(
        "--only",
        type=_names,
        metavar="NAME[,NAME]",
        help=f"run only these figures: {', '.join(FIGURES)}",
    )
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="small",
        help="small (default, a few minutes) or full (the sizes of issue 10, much longer)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="where to write all figures as one JSON object (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    wanted = args.only or list(FIGURES)
    scale = SCALES[args.scale]
    report = Report(args.out, scale)
    started = time.perf_counter()
    failed = False

    sync_wanted = [n for n in sync.FIGURES if n in wanted]
    groups: list[tuple[list[str], Callable[[], None]]] = [
        ([search.NAME], lambda: search.run(scale, report)),
        (sync_wanted, lambda: sync.run(scale, report, sync_wanted)),
        ([hold.NAME], lambda: hold.run(scale, report)),
        (list(desk.FIGURES), lambda: desk.run(scale, report, wanted)),
        (list(fanout.NAMES), lambda: fanout.run(scale, report, wanted)),
    ]
    for names, measure in groups:
        if not any(n in wanted for n in names):
            continue
        try:
            measure()
        except Exception as exc:
            failed = True
            traceback.print_exc()
            for name in names:
                if name in wanted and not report.has(name):
                    report.failed(name, exc)

    report.data["seconds"] = round(time.perf_counter() - started, 1)
    report.write()
    note(f"done in {report.data['seconds']:.0f} s; figures in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
