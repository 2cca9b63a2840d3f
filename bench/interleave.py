#!/usr/bin/env python3
"""Wall time of a few commands run in turn, round after round, for A/B comparisons of one change.

Each variant is LABEL=COMMAND, where COMMAND may start with NAME=VALUE environment settings:

    python3 bench/interleave.py --runs 300 \\
        "tmp=build/release/bin/petit trigger jobs one --storage memory: --quiet" \\
        "shm=TMPDIR=/dev/shm build/release/bin/petit trigger jobs one --storage memory: --quiet"

The variants take turns (the order reversed every other round), so that a machine whose speed
drifts during the measurement (other work, thermal or host contention on a VM) weighs on each of
them alike. Output is discarded; a command that fails is reported and counted. Prints the median,
quartiles and mean wall time of each, in milliseconds, measured around the spawn (so it includes
Python's own spawn cost, the same for every variant: compare variants, not absolute figures).
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time


def parse_variant(spec):
    label, sep, command = spec.partition("=")
    if not sep or not label or not command:
        sys.exit("interleave.py: %r: expected LABEL=COMMAND" % spec)
    words = shlex.split(command)
    env = dict(os.environ)
    while words and "=" in words[0] and not words[0].startswith(("/", ".")):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words:
        sys.exit("interleave.py: %r: no command after the environment settings" % spec)
    return label, words, env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="rounds (each runs every variant)")
    parser.add_argument("variants", nargs="+", metavar="LABEL=COMMAND")
    args = parser.parse_args()
    variants = [parse_variant(spec) for spec in args.variants]
    times = {label: [] for label, _, _ in variants}
    failures = {label: 0 for label, _, _ in variants}
    for round_number in range(args.runs):
        order = variants if round_number % 2 == 0 else variants[::-1]
        for label, argv, env in order:
            start = time.perf_counter()
            done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, check=False)
            times[label].append((time.perf_counter() - start) * 1000.0)
            if done.returncode != 0:
                failures[label] += 1
    for label, values in times.items():
        values.sort()
        quarter = len(values) // 4
        print("%-12s median %.3f ms  p25 %.3f  p75 %.3f  mean %.3f  (%d runs, %d failed)" % (
            label, statistics.median(values), values[quarter], values[3 * quarter],
            statistics.mean(values), len(values), failures[label]))


if __name__ == "__main__":
    main()
