"""bench/pipeline driver (run by bench/pipeline/run with the bench venv's
Python: confluent-kafka for the topic counts). Starts nothing itself but the
measured tools; the site and the broker are already up.

  pipeline.py --site-port P --brokers B --daemon PATH --feeds N
              [--python-feeds N] [--workers 1,2] [--out JSON]

newsflow: one newsflowd per worker count, cold (fresh state, fresh topic),
measured from exec until the topic holds every article (watermarks polled
every 50 ms), then stopped; CPU, peak RSS (VmHWM) and per-thread CPU are
read from /proc at that moment, the stage CPU counters from /metrics.
python: python_pipeline.py, measured from exec to exit (it exits once every
record is acked), CPU and peak RSS from wait4().
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from confluent_kafka import Consumer, KafkaException, TopicPartition

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def host_of(i):
    """Feed i's own host name: 127.1.0.1, 127.1.0.2, ... (all loopback)."""
    return f"127.{1 + i // 62500}.{(i % 62500) // 250}.{i % 250 + 1}"


def feed_url(i, port, one_host=False):
    return f"http://{'127.0.0.1' if one_host else host_of(i)}:{port}/f/{i}.xml"


def topic_count(brokers, topic):
    c = Consumer({"bootstrap.servers": brokers, "group.id": "nf-bench-count",
                  "enable.auto.commit": False})
    try:
        md = c.list_topics(topic, timeout=10)
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            return 0
        total = 0
        for p in t.partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += hi - lo
        return total
    finally:
        c.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def thread_cpu(pid):
    """CPU seconds per thread group: io (the main thread), workers, kafka
    (librdkafka's rdk:* threads), other."""
    out = {"io": 0.0, "workers": 0.0, "kafka": 0.0, "other": 0.0}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        if int(tid) == pid:
            out["io"] += cpu
        elif comm.startswith("nf-worker"):
            out["workers"] += cpu
        elif comm.startswith("rdk:"):
            out["kafka"] += cpu
        else:
            out["other"] += cpu
    return out


def stage_cpu(metrics_port):
    """newsflow_stage_cpu_microseconds_total{stage=...} as seconds."""
    stages = {}
    try:
        body = urllib.request.urlopen(
            f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    except OSError:
        return stages
    for line in body.splitlines():
        if line.startswith("newsflow_stage_cpu_microseconds_total{"):
            name = line.split('stage="', 1)[1].split('"', 1)[0]
            stages[name] = float(line.rsplit(" ", 1)[1]) / 1e6
    return stages


def daemon_config(path, args, topic, workers, metrics_port, state_dir, one_host):
    lines = [
        "kafka:",
        f"  brokers: \"{args.brokers}\"",
        f"  topic: {topic}",
        "state:",
        f"  path: {state_dir}/state.db",
        "http:",
        "  allow_private_targets: true",
        "metrics:",
        f"  listen: \"127.0.0.1:{metrics_port}\"",
        "pipeline:",
        f"  workers: {workers}",
        "log:",
        "  level: warn",
        "sinks: [kafka]",
        "defaults:",
        "  interval: 1h",
        "feeds:",
    ]
    for i in range(args.feeds):
        lines.append(f"  - name: f{i}")
        lines.append(f"    url: {feed_url(i, args.site_port, one_host)}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def run_newsflow(args, workers, tag):
    expected = args.feeds * 20
    topic = f"bench.pipeline.nf{workers}.{tag}"
    with tempfile.TemporaryDirectory() as tmp:
        metrics_port = free_port()
        cfg = os.path.join(tmp, "newsflow.yaml")
        daemon_config(cfg, args, topic, workers, metrics_port, tmp, False)
        err = open(os.path.join(tmp, "stderr"), "w+")
        start = time.monotonic()
        p = subprocess.Popen([args.daemon, "run", "--config", cfg],
                             stdout=subprocess.DEVNULL, stderr=err)
        count = 0
        deadline = start + args.timeout
        c = Consumer({"bootstrap.servers": args.brokers,
                      "group.id": "nf-bench-count", "enable.auto.commit": False})
        partitions = None
        while time.monotonic() < deadline and p.poll() is None:
            if partitions is None:
                md = c.list_topics(topic, timeout=5)
                t = md.topics.get(topic)
                if t is not None and t.error is None and t.partitions:
                    partitions = [TopicPartition(topic, q) for q in t.partitions]
            if partitions is not None:
                try:
                    count = sum(c.get_watermark_offsets(tp, timeout=5)[1]
                                for tp in partitions)
                except KafkaException:
                    count = 0  # a partition without its leader yet
                if count >= expected:
                    break
            time.sleep(0.05)
        wall = time.monotonic() - start
        c.close()
        row = {"tool": f"newsflow {workers}w", "feeds": args.feeds,
               "articles": count, "expected": expected, "wall_s": wall}
        if p.poll() is None:
            row["cpu_s"] = proc_cpu(p.pid)
            row["peak_rss_mb"] = proc_hwm_mb(p.pid)
            row["threads"] = thread_cpu(p.pid)
            row["stages"] = stage_cpu(metrics_port)
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        else:
            row["cpu_s"] = 0.0
            row["peak_rss_mb"] = 0.0
            err.seek(0)
            row["error"] = "daemon exited early: " + err.read()[-2000:]
        row["topic_count"] = topic_count(args.brokers, topic)
        return row


def run_python(args, tag):
    """The Python reference. A run killed by a signal (a segfault inside a C
    extension was seen once in CI, 0.3 s in, before any output) is retried
    once on a fresh topic; the crash is reported in the row, not hidden."""
    crashes = []
    for attempt in range(2):
        row = run_python_once(args, f"{tag}.{attempt}")
        if not (row.get("returncode", 0) < 0 and "error" in row):
            break
        crashes.append(row["error"])
    if crashes and "error" not in row:
        row["note"] = f"retried after: {crashes[0][:300]}"
    return row


def run_python_once(args, tag):
    feeds = args.python_feeds
    topic = f"bench.pipeline.py.{tag}"
    urls = os.path.join(tempfile.mkdtemp(), "urls")
    with open(urls, "w") as f:
        for i in range(feeds):
            f.write(feed_url(i, args.site_port) + "\n")
    start = time.monotonic()
    p = subprocess.Popen([sys.executable, "-X", "faulthandler",
                          os.path.join(HERE, "python_pipeline.py"),
                          "--urls", urls, "--brokers", args.brokers,
                          "--topic", topic, "--threads", str(args.python_threads)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    out = p.stdout.read()
    err = p.stderr.read()
    row = {"tool": "python", "feeds": feeds, "expected": feeds * 20,
           "wall_s": wall, "returncode": p.returncode,
           "cpu_s": ru.ru_utime + ru.ru_stime,
           "peak_rss_mb": ru.ru_maxrss / 1024}
    try:
        row.update(json.loads(out.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        row["error"] = f"python pipeline failed ({p.returncode}): {err[-2000:]}"
    row["articles"] = topic_count(args.brokers, topic)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--site-port", type=int, required=True)
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--feeds", type=int, default=2000)
    ap.add_argument("--python-feeds", type=int, default=0)
    ap.add_argument("--python-threads", type=int, default=16)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--skip-python", action="store_true")
    args = ap.parse_args()
    if args.python_feeds <= 0:
        args.python_feeds = args.feeds
    tag = f"{int(time.time())}-{os.getpid()}"
    rows = []
    for w in [int(x) for x in args.workers.split(",")]:
        rows.append(run_newsflow(args, w, tag))
        print(json.dumps(rows[-1]), flush=True)
    if not args.skip_python:
        rows.append(run_python(args, tag))
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
