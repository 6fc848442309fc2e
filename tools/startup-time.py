#!/usr/bin/env python3
"""Start-up time of tcpipsharp builds, measured in one loop that alternates them (docs/cli.md, "Start-up time").

    tools/startup-time.py [--runs N] [--capture FILE] NAME=PROGRAM [NAME=PROGRAM ...]

Each round runs every command line once with every program, in an order that rotates from round to round, so that a
noisy machine (2 cores shared with other work) slows every build alike; the medians of the wall times (fork to exit)
are printed as a Markdown table with the difference to the first program, and the load averages before and after;
a second table gives the medians of the CPU time (user + system, from wait4), which a loaded machine disturbs less.
Each run must end with the exit status the command line has (0, or 2 for the refused `up`), or the script fails:
a build that stops early would look fast.
"""
import argparse
import os
import statistics
import sys
import time


QUIET = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="rounds (each program runs each command line once per round)")
    parser.add_argument("--capture", default="Stack.Tests/Captures/ping.pcap", help="the capture `decode` reads")
    parser.add_argument("programs", nargs="+", metavar="NAME=PROGRAM")
    args = parser.parse_args()
    programs = [p.split("=", 1) for p in args.programs]
    if any(len(p) != 2 or not os.access(p[1], os.X_OK) for p in programs):
        parser.error("each program is NAME=PATH to an executable")
    lines = [
        ("`--version`", ["--version"], 0),
        ("`up --tap x --ip 192.0.2.2/40` (parsed, refused)", ["up", "--tap", "x", "--ip", "192.0.2.2/40"], 2),
        (f"`decode {os.path.basename(args.capture)}`", ["decode", args.capture], 0),
    ]
    jobs = [(p, l) for p in range(len(programs)) for l in range(len(lines))]
    times = {job: [] for job in jobs}
    cpu = {job: [] for job in jobs}
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for run in range(args.runs):
        shift = run % len(jobs)
        for p, l in jobs[shift:] + jobs[:shift]:
            name, path = programs[p]
            _, argv, expected = lines[l]
            t0 = time.perf_counter_ns()
            pid = os.posix_spawn(path, [path, *argv], os.environ, file_actions=QUIET)
            _, wait_status, usage = os.wait4(pid, 0)
            elapsed = time.perf_counter_ns() - t0
            status = os.waitstatus_to_exitcode(wait_status)
            if status != expected:
                print(f"startup-time: {name} {' '.join(argv)} exited {status}, expected {expected}", file=sys.stderr)
                return 1
            times[(p, l)].append(elapsed / 1e6)
            cpu[(p, l)].append((usage.ru_utime + usage.ru_stime) * 1e3)
    load_after = os.getloadavg()
    print(f"{started}, {os.cpu_count()} cores, {args.runs} runs of each, medians; load average "
          f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} before, "
          f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} after")
    print()
    for title, table in (("wall time", times), ("CPU time (user + system)", cpu)):
        print(f"| {title} | " + " | ".join(label for label, _, _ in lines) + " |")
        print("| --- |" + " --- |" * len(lines))
        for p, (name, _) in enumerate(programs):
            cells = []
            for l in range(len(lines)):
                m, base = statistics.median(table[(p, l)]), statistics.median(table[(0, l)])
                cells.append(f"{m:.1f} ms" if p == 0 else f"{m:.1f} ms ({m - base:+.1f})")
            print(f"| {name} | " + " | ".join(cells) + " |")
        print()
    for p, (name, path) in enumerate(programs):
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
