#!/usr/bin/env python3
"""Peers of newsflow's extractor on the extraction dev split, plus the table.

Runs trafilatura and readability-lxml (pinned in bench/extract/run) over the
same decompressed pages in one process, `--rounds` timed passes (median),
scores every tool with the benchmark's metric (a port of
tests/daemon/cleaner/extraction_metric.cc: Python's re.findall(r'\\w+') *is*
the tokenizer) and prints one table. newsflow runs as the bench_extract
binary (`--bench-extract`), interleaved with the peers round by round; its
--json predictions are re-scored here and must give the same P/R/F1 as the
C++ metric (printed as the cross-check; exit 1 otherwise).
"""
import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

WORD = re.compile(r"\w+")


def shingles(text):
    t = WORD.findall(text or "")
    if not t:
        return Counter()
    if len(t) < 4:
        return Counter([tuple(t)])
    return Counter(tuple(t[i:i + 4]) for i in range(len(t) - 3))


def score_page(pred, gold):
    ps, gs = shingles(pred), shingles(gold)
    tp = sum(min(c, gs.get(k, 0)) for k, c in ps.items())
    fp = sum(max(0, c - gs.get(k, 0)) for k, c in ps.items())
    fn = sum(max(0, c - ps.get(k, 0)) for k, c in gs.items())
    total = tp + fp + fn
    if total:
        tp, fp, fn = tp / total, fp / total, fn / total
    if fp == 0 and fn == 0:
        p = r = 1.0
    else:
        p = tp / (tp + fp) if tp + fp > 0 else 0.0
        r = tp / (tp + fn) if tp + fn > 0 else 0.0
    return dict(tp=tp, fp=fp, fn=fn, p=p, r=r,
                has_pred=tp + fp > 0, has_gold=tp + fn > 0,
                exact=WORD.findall(pred or "") == WORD.findall(gold or ""))


def aggregate(scores):
    ps, rs = [], []
    for s in scores:
        perfect = s["fp"] == 0 and s["fn"] == 0
        if perfect or s["has_pred"]:
            ps.append(s["p"])
        if perfect or s["has_gold"]:
            rs.append(s["r"])
    p = sum(ps) / len(ps) if ps else 0.0
    r = sum(rs) / len(rs) if rs else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return p, r, f1


def load(corpus):
    with open(os.path.join(corpus, "ground-truth.json"), encoding="utf-8") as f:
        gold = json.load(f)
    pages = []
    for pid, entry in gold.items():
        with gzip.open(os.path.join(corpus, "html", pid + ".html.gz")) as f:
            raw = f.read()
        # The pages are UTF-8 (corpus README); decode once, outside timing.
        pages.append((pid, entry.get("url", ""), raw.decode("utf-8", "replace"),
                      entry.get("articleBody", ""), len(raw)))
    return pages


def run_trafilatura():
    import trafilatura

    def extract(html, url):
        return trafilatura.extract(html, url=url, include_comments=False) or ""
    return "trafilatura " + trafilatura.__version__, extract


def run_readability():
    import lxml.html
    from importlib.metadata import version
    from readability import Document

    blocks = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
              "h6", "blockquote", "pre", "table", "tr", "td", "th", "br",
              "section", "article", "figure", "figcaption", "dd", "dt"}

    def extract(html, url):
        summary = Document(html, url=url).summary(html_partial=True)
        if not summary.strip():
            return ""
        root = lxml.html.fromstring(summary)
        # Block boundaries separate words (text_content() would glue them).
        for el in root.iter():
            if isinstance(el.tag, str) and el.tag in blocks:
                el.tail = "\n" + (el.tail or "")
        return root.text_content()
    return "readability-lxml " + version("readability-lxml"), extract


def one_pass(extract, pages):
    out = []
    t0 = time.perf_counter()
    for pid, url, html, _gold, _n in pages:
        try:
            out.append(extract(html, url))
        except Exception:  # a peer failing on a page scores empty
            out.append("")
    return out, time.perf_counter() - t0


def run_newsflow(binary, corpus, passes, tmpdir):
    path = os.path.join(tmpdir, "newsflow.json")
    subprocess.run([binary, "--corpus", corpus, "--repeats", str(passes),
                    "--json", path], check=True, stdout=subprocess.DEVNULL)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bench-extract", required=True,
                    help="path of the bench_extract binary")
    ap.add_argument("--tools", default="trafilatura,readability")
    args = ap.parse_args()

    pages = load(args.corpus)
    nbytes = sum(p[4] for p in pages)
    tools = []
    makers = {"trafilatura": run_trafilatura, "readability": run_readability}
    for name in [t for t in args.tools.split(",") if t]:
        try:
            label, extract = makers[name]()
        except Exception as e:  # missing peer: say so, keep the others
            print("%s unavailable: %s" % (name, e), file=sys.stderr)
            continue
        one_pass(extract, pages[:5])  # warm-up: lazy imports, caches
        tools.append((label, extract))

    # Rounds interleave the tools so that load from other processes on a
    # shared machine hits all of them alike; speed ratios are paired per
    # round and their median reported.
    secs = {"newsflow": []}
    preds = {}
    nf = None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            got = run_newsflow(args.bench_extract, args.corpus, 3, tmp)
            secs["newsflow"].append(got["seconds"])
            if nf is None:
                nf = got
            for label, extract in tools:
                out, t = one_pass(extract, pages)
                secs.setdefault(label, []).append(t)
                preds.setdefault(label, out)

    exit_code = 0
    scores = [score_page(nf["predictions"].get(p[0], ""), p[3]) for p in pages]
    p, r, f1 = aggregate(scores)
    same = all(abs(a - b) < 1e-9 for a, b in
               ((p, nf["precision"]), (r, nf["recall"]), (f1, nf["f1"])))
    print("metric cross-check on newsflow's output: C++ P/R/F1 "
          "%.6f/%.6f/%.6f, Python %.6f/%.6f/%.6f: %s" %
          (nf["precision"], nf["recall"], nf["f1"], p, r, f1,
           "equal" if same else "DIFFERENT"))
    if not same:
        exit_code = 1
    quality = {"newsflow": (p, r, f1)}
    for label, _ in tools:
        quality[label] = aggregate([score_page(pr, pg[3])
                                    for pr, pg in zip(preds[label], pages)])

    traf = next((l for l in secs if l.startswith("trafilatura")), None)
    print("\n%d pages, %.2f MB of HTML, %d interleaved rounds (newsflow: "
          "median of 3 passes per round), one core" %
          (len(pages), nbytes / 1e6, args.rounds))
    print("%-26s %9s %7s %7s %7s %7s %11s" %
          ("tool", "pages/s", "MB/s", "P", "R", "F1", "vs trafi."))
    for label, ts in secs.items():
        med = statistics.median(ts)
        ratio = "-"
        if traf:
            ratio = "%.1fx" % statistics.median(
                [t_traf / t for t, t_traf in zip(ts, secs[traf])])
        p, r, f1 = quality[label]
        print("%-26s %9.1f %7.2f %7.4f %7.4f %7.4f %11s" %
              (label, len(pages) / med, nbytes / med / 1e6, p, r, f1, ratio))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
