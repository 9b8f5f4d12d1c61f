#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Times `imgbus process` against the djpeg | cjpeg pipe in alternating pairs.

hyperfine runs all repetitions of one command before the next, so a change in the machine's
speed during the run (another tenant of the VM, a halted vCPU) lands on one side only. Here each
pair runs both conversions back to back, in turns of order, and the figure to quote is the median
of the per-pair ratios. Neither side runs through a shell: the pipe is built from two processes
joined by an OS pipe, as a shell would build it.

    bench/pipeline_pairs.py IMGBUS INPUT.jpg [PAIRS 60]

Prints the median and quartiles of each side's wall time, of the ratio imgbus / pipe, and each
side's CPU time (user + system of all its processes).
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def timed(start_processes):
    """Runs the processes that start_processes starts and returns (wall seconds, CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    processes = start_processes()
    for process in processes:
        process.wait()
        if process.returncode != 0:
            sys.exit(f"pipeline_pairs: {process.args[0]} exited with {process.returncode}")
    wall = time.perf_counter() - begin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def imgbus_run(imgbus, source, target):
    return lambda: [subprocess.Popen([imgbus, "process", source, target, "--quality", "90"],
                                     stdout=subprocess.DEVNULL)]


def pipe_run(source, target):
    def start():
        with open(target, "wb") as out:
            decode = subprocess.Popen(["djpeg", "-grayscale", source], stdout=subprocess.PIPE)
            encode = subprocess.Popen(["cjpeg", "-grayscale", "-quality", "90"],
                                      stdin=decode.stdout, stdout=out)
            decode.stdout.close()  # so that djpeg gets SIGPIPE if cjpeg exits early
            return [decode, encode]
    return start


def quartiles(values):
    q1, median, q3 = statistics.quantiles(values, n=4)
    return f"median {median:.4f}  (quartiles {q1:.4f} .. {q3:.4f})"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    imgbus, source = sys.argv[1], sys.argv[2]
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    with tempfile.TemporaryDirectory() as work:
        ours = imgbus_run(imgbus, source, os.path.join(work, "imgbus.jpg"))
        theirs = pipe_run(source, os.path.join(work, "pipe.jpg"))
        for _ in range(3):  # warm the page cache and the binaries
            timed(ours)
            timed(theirs)
        samples = {"imgbus": [], "pipe": []}
        for pair in range(pairs):
            order = [("imgbus", ours), ("pipe", theirs)]
            if pair % 2:
                order.reverse()
            for name, run in order:
                samples[name].append(timed(run))
    print(f"pairs: {pairs}, load average after: {open('/proc/loadavg').read().split()[:3]}")
    for name in ("imgbus", "pipe"):
        print(f"{name:7s} wall s {quartiles([s[0] for s in samples[name]])}")
        print(f"{name:7s} cpu s  {quartiles([s[1] for s in samples[name]])}")
    ratios = [a[0] / b[0] for a, b in zip(samples["imgbus"], samples["pipe"])]
    print(f"imgbus / pipe wall, per pair: {quartiles(ratios)}")


if __name__ == "__main__":
    main()
