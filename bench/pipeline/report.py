"""Prints bench/pipeline's table, ratios and stage split from the JSON rows
of pipeline.py and the two deliver_bench lines; ends with the three lines
scripts read. Exit 1 when a tool did not deliver every article."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sink = json.loads(open(sys.argv[2]).read() or "{}")
bare = json.loads(open(sys.argv[3]).read() or "{}")
floor = json.loads(open(sys.argv[4]).read() or "{}")
cores, pages = sys.argv[5], sys.argv[6]

print(f"loopback site: half full-text, half teaser feeds (pages: {pages} extraction-corpus "
      f"pages, cycled), 20 items/feed, one host per feed; {cores} cores; Kafka acks=all zstd")
print(f"{'tool':<13}{'feeds':>6}{'articles':>9}{'wall s':>8}{'art/s':>8}"
      f"{'CPU s':>8}{'CPU s/1k art':>13}{'art/CPU-s':>10}{'peak RSS MB':>12}")
by = {}
bad = []
for r in rows:
    n = r.get("articles", 0)
    r["aps"] = n / r["wall_s"] if r["wall_s"] else 0
    r["cpu_per_k"] = 1000 * r["cpu_s"] / n if n else 0
    r["per_cpu"] = n / r["cpu_s"] if r["cpu_s"] else 0
    by[r["tool"]] = r
    print(f"{r['tool']:<13}{r['feeds']:>6}{n:>9}{r['wall_s']:>8.1f}{r['aps']:>8.0f}"
          f"{r['cpu_s']:>8.1f}{r['cpu_per_k']:>13.2f}{r['per_cpu']:>10.0f}"
          f"{r['peak_rss_mb']:>12.0f}")
    if r.get("note"):
        print(f"  note ({r['tool']}): {r['note']}")
    if n < r["expected"] or r.get("error"):
        bad.append(f"{r['tool']}: {n}/{r['expected']} articles {r.get('error', '')}")

nf1, nf2, py = by.get("newsflow 1w"), by.get("newsflow 2w"), by.get("python")
best = nf2 or nf1
ratio = best["aps"] / py["aps"] if best and py and py["aps"] else 0
scaling = nf2["aps"] / nf1["aps"] if nf1 and nf2 and nf1["aps"] else 0
if best and py:
    print(f"newsflow ({best['tool']}) / python: {ratio:.1f}x articles/s, "
          f"{py['cpu_per_k'] / max(1e-9, best['cpu_per_k']):.1f}x less CPU per article")
    # The goal is per core: articles per CPU-second of each tool
    # (Python's GIL keeps it near one core; newsflow uses CPU s / wall s).
    for r in (nf1, nf2):
        if r and r["per_cpu"] and py["per_cpu"]:
            print(f"per core: {r['tool']} {r['per_cpu']:.0f} articles per CPU-second, python "
                  f"{py['per_cpu']:.0f}: {r['per_cpu'] / py['per_cpu']:.1f}x "
                  f"(cores used: {r['cpu_s'] / r['wall_s']:.2f} vs {py['cpu_s'] / py['wall_s']:.2f})")
print(f"newsflow 2 workers / 1 worker: {scaling:.2f}x articles/s")

for r in (nf1, nf2):
    if not r or "threads" not in r:
        continue
    t, s = r["threads"], r.get("stages", {})
    n = max(1, r["articles"])
    ms = lambda sec: 1000 * sec / n  # noqa: E731
    io_rest = t["io"] - s.get("serialize", 0) - s.get("state", 0)
    workers_rest = t["workers"] - s.get("parse", 0) - s.get("clean", 0) - s.get("extract", 0)
    parts = [("fetch+loop", io_rest), ("parse", s.get("parse", 0)),
             ("clean", s.get("clean", 0)), ("extract", s.get("extract", 0)),
             ("serialize", s.get("serialize", 0)), ("produce", t["kafka"]),
             ("state", s.get("state", 0)), ("pool other", workers_rest),
             ("other thr", t["other"])]
    print(f"{r['tool']} CPU ms/article by stage: " +
          "  ".join(f"{k} {ms(v):.3f}" for k, v in parts))
if floor.get("pages"):
    print(f"extraction, one thread, same {floor['pages']} pages: newsflow ExtractPage "
          f"{floor['extract_ms_per_page']:.2f} ms/page, libxml2 htmlReadMemory alone "
          f"{floor['libxml2_ms_per_page']:.2f} ms/page "
          f"({100 * floor['libxml2_ms_per_page'] / max(1e-9, floor['extract_ms_per_page']):.0f} % "
          f"of extraction is the parse)")

d = 0.0
if sink.get("articles_per_s") and bare.get("articles_per_s"):
    d = sink["articles_per_s"] / bare["articles_per_s"]
    print(f"deliver ({sink['articles']} records, ~{sink['avg_value_bytes']} B): KafkaSink "
          f"{sink['articles_per_s']:.0f}/s, bare librdkafka {bare['articles_per_s']:.0f}/s")
for b in bad:
    print("FAILED " + b)
print(f"pipeline ratio articles/s newsflow/python: {ratio:.2f}")
print(f"pipeline scaling articles/s 2 workers/1 worker: {scaling:.2f}")
print(f"deliver ratio KafkaSink/librdkafka: {d:.2f}")
sys.exit(1 if bad else 0)
