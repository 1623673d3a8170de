"""A training-step peer driven over stdin (train_step.c, train_torch.py) for
bench-train.sh and bench-train-image.sh: "n" runs n steps and answers their
seconds on one line; at end of input the peer answers its loss and peak RSS.
Each timed step also measures, from /proc, the share of the CPUs that other
processes used meanwhile, so that the benchmarks can keep quiet steps."""
import os
import subprocess
import sys
import time

NCPU = len(os.sched_getaffinity(0))
HZ = os.sysconf("SC_CLK_TCK")


def start(cmd, who):
    """Starts a peer and waits for its "ready" line (p.info: its fields)."""
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    line = p.stdout.readline().split()
    if not line or line[0] != "ready":
        sys.exit("%s: %s did not start: %r" % (who, cmd[0], line))
    p.info = dict(zip(line[1::2], line[2::2]))
    return p


def busy_ticks():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]  # user nice system irq softirq steal


def proc_ticks(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def steps(p, n):
    p.stdin.write("%d\n" % n)
    p.stdin.flush()
    return [float(x) for x in p.stdout.readline().split()]


def timed_step(p):
    """One step's seconds, and the share of the CPUs that other processes
    used meanwhile (from /proc: all busy time minus this process's)."""
    b0, p0, t0 = busy_ticks(), proc_ticks(p.pid), time.time()
    t = steps(p, 1)[0]
    wall = time.time() - t0
    other = (busy_ticks() - b0) - (proc_ticks(p.pid) - p0)
    return t, max(0.0, other / (NCPU * wall * HZ))


def finish(p):
    """Ends the peer: its last loss and its peak RSS in KiB."""
    p.stdin.close()
    f = p.stdout.readline().split()
    p.wait()
    return float(f[1]), int(f[3])


def race(ours, torch, rounds, halfway=None):
    """Two warm-up steps each (first touches, OpenBLAS buffers, the
    allocator), then rounds of timed steps interleaved, alternating who goes
    first; halfway() is called once in the middle. The (seconds, others'
    share) of each side's steps."""
    steps(ours, 2)
    steps(torch, 2)
    t_ours, t_torch = [], []
    for r in range(rounds):
        for p, ts in ((ours, t_ours), (torch, t_torch))[:: 1 if r % 2 == 0 else -1]:
            ts.append(timed_step(p))
        if halfway and r == rounds // 2:
            halfway()
    return t_ours, t_torch
