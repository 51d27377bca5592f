"""Runs every benchmark in BENCHMARKS and prints their figures (`make bench`)."""

import importlib
import sys
import time

# Module names under bench/, each with a run() -> dict of figures. Later issues add theirs.
BENCHMARKS = ["bench.requests", "bench.intake", "bench.care", "bench.alerts"]


def main(names: list[str]) -> int:
    for name in names or BENCHMARKS:
        module = importlib.import_module(name)
        started = time.perf_counter()
        figures = module.run()
        elapsed = time.perf_counter() - started
        print(f"== {name} ({elapsed:.1f} s)")
        for key, value in figures.items():
            print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
