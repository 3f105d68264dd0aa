"""bench/pipeline --scaling: does the daemon's cost grow linearly with the
work? newsflowd `run --once` (jsonl sink, fresh state) on full-text feeds
of the loopback site (20 items each, no page fetches), 1,000 / 4,000 /
16,000 feeds, once with every feed on its own host (127.x.y.z) and once
with all of them on 127.0.0.1 under the default politeness spacing
(http.min_host_interval 100ms: the one-host runs take N/10 s). Then the
idle cost: the daemon (not --once) on the largest own-host size, after its
first polls, while every feed waits for its next interval.

  scaling.py --site-port P --daemon PATH [--sizes 1000,4000,16000]
             [--layouts own,one] [--idle-seconds 30]
"""
import argparse
import os
import subprocess
import tempfile
import time

from pipeline import host_of, proc_cpu

TICK = os.sysconf("SC_CLK_TCK")


def config(path, tmp, port, n, one_host, once):
    lines = [f"state:\n  path: {tmp}/state.db", "http:\n  allow_private_targets: true",
             "metrics:\n  listen: \"\"", "log:\n  level: warn", "sinks: [jsonl]",
             f"jsonl_path: {tmp}/out.jsonl", "defaults:\n  interval: 1h", "feeds:"]
    for k in range(n):
        host = "127.0.0.1" if one_host else host_of(k)
        lines.append(f"  - name: f{k}\n    url: http://{host}:{port}/f/{2 * k}.xml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def lines_in(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def run_once(args, n, one_host):
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "c.yaml")
        config(cfg, tmp, args.site_port, n, one_host, True)
        start = time.monotonic()
        p = subprocess.Popen([args.daemon, "run", "--config", cfg, "--once"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - start
        articles = lines_in(os.path.join(tmp, "out.jsonl"))
        cpu = ru.ru_utime + ru.ru_stime
        return {"layout": "one host" if one_host else "own hosts", "feeds": n,
                "articles": articles, "wall_s": wall, "cpu_s": cpu,
                "cpu_ms_per_article": 1000 * cpu / max(1, articles),
                "rss_kb_per_feed": ru.ru_maxrss / n,
                "exit": os.waitstatus_to_exitcode(status)}


def run_idle(args, n):
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "c.yaml")
        config(cfg, tmp, args.site_port, n, False, False)
        p = subprocess.Popen([args.daemon, "run", "--config", cfg],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = os.path.join(tmp, "out.jsonl")
        deadline = time.monotonic() + 600
        while lines_in(out) < n * 20 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)  # the last acks and state writes
        c0, t0 = proc_cpu(p.pid), time.monotonic()
        time.sleep(args.idle_seconds)
        c1, t1 = proc_cpu(p.pid), time.monotonic()
        p.terminate()
        p.wait(timeout=60)
        share = (c1 - c0) / (t1 - t0)
        return {"feeds": n, "idle_core_pct": 100 * share,
                "idle_core_pct_per_10k_feeds": 100 * share * 10000 / n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--site-port", type=int, required=True)
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--pages", default="")
    ap.add_argument("--sizes", default="1000,4000,16000")
    ap.add_argument("--layouts", default="own,one")
    ap.add_argument("--idle-seconds", type=float, default=30)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'layout':<10}{'feeds':>7}{'articles':>10}{'wall s':>9}{'CPU s':>8}"
          f"{'CPU ms/article':>15}{'RSS KB/feed':>12}", flush=True)
    for layout in args.layouts.split(","):
        for n in sizes:
            r = run_once(args, n, layout == "one")
            print(f"{r['layout']:<10}{n:>7}{r['articles']:>10}{r['wall_s']:>9.1f}"
                  f"{r['cpu_s']:>8.2f}{r['cpu_ms_per_article']:>15.3f}"
                  f"{r['rss_kb_per_feed']:>12.1f}"
                  + ("" if r["exit"] == 0 else f"  exit {r['exit']}"), flush=True)
    if args.idle_seconds > 0:
        r = run_idle(args, max(sizes))
        print(f"idle, {r['feeds']} feeds waiting for their next poll: "
              f"{r['idle_core_pct']:.2f} % of a core "
              f"({r['idle_core_pct_per_10k_feeds']:.2f} % per 10,000 feeds)")


if __name__ == "__main__":
    main()
