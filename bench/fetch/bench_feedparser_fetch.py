"""Plain Python feedparser loop over the same loopback URLs: one full cycle
and one conditional (ETag) cycle, sequential, as a simple reader would.
Prints one JSON line per cycle (same fields as bench_fetch)."""
import json
import resource
import sys
import time

import feedparser


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    base, feeds = sys.argv[1], int(sys.argv[2])
    etags = [None] * feeds
    for cycle in (1, 2):
        t0, c0 = time.monotonic(), cpu()
        parsed = not_modified = failed = items = 0
        for i in range(feeds):
            d = feedparser.parse(f"{base}/feed/{i}", etag=etags[i])
            status = d.get("status")
            if status == 304:
                not_modified += 1
            elif status == 200 and d.entries:
                parsed += 1
                items += len(d.entries)
                etags[i] = d.get("etag")
            else:
                failed += 1
        wall, used = time.monotonic() - t0, cpu() - c0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"tool": "feedparser", "cycle": cycle, "feeds": feeds,
                          "parsed": parsed, "not_modified": not_modified,
                          "failed": failed, "items": items,
                          "wall_s": round(wall, 3), "cpu_s": round(used, 3),
                          "feeds_per_s": round(feeds / wall, 1),
                          "peak_rss_mb": round(rss, 1)}), flush=True)


if __name__ == "__main__":
    main()
