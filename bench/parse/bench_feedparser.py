"""feedparser over corpus/realfeeds: same protocol as bench_parse.cc.

Usage: bench_feedparser.py <realfeeds dir> <rounds> <repeats>
Times are process CPU time (the machine is shared). Prints one JSON line {"tool","bytes","items","ok","feeds","failed","mbps",
"items_per_s"} with the median repeat.
"""
import json
import os
import statistics
import sys
import time

import feedparser


def plausible(d, rough):
    # Same rule as bench_parse.cc; feedparser reports recovery through
    # `bozo` but still returns what it read, so bozo alone is not a failure.
    if not d.feed.get("title"):
        return False
    got = len(d.entries)
    if got < rough - 1 or got > rough:
        return False
    for e in d.entries:
        if not e.get("title") and not e.get("link") and not e.get("summary"):
            continue
        if not e.get("title") or not e.get("link"):
            return False
    return True


def main():
    directory, rounds, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(os.path.join(directory, "index.json")) as f:
        index = json.load(f)
    bodies = []
    for e in index:
        with open(os.path.join(directory, e["file"]), "rb") as f:
            bodies.append(f.read())
    total = sum(len(b) for b in bodies)
    ok, failed = 0, []
    for e, b in zip(index, bodies):
        if plausible(feedparser.parse(b), e["items"]):
            ok += 1
        else:
            failed.append(e["file"])
    secs, items = [], 0
    for _ in range(repeats):
        items = 0
        start = time.process_time()
        for _ in range(rounds):
            for b in bodies:
                items += len(feedparser.parse(b).entries)
        secs.append(time.process_time() - start)
    med = statistics.median(secs)
    print(json.dumps({
        "tool": "feedparser " + feedparser.__version__, "bytes": total,
        "items": items // rounds, "ok": ok, "feeds": len(index),
        "failed": failed, "mbps": total * rounds / med / 1e6,
        "items_per_s": items / med}))


if __name__ == "__main__":
    main()
