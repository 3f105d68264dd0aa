"""The pipeline a Python team would build: feedparser + trafilatura +
confluent-kafka, a thread pool for fetching. Reads feed URLs (one a line),
fetches each feed (urllib3 pool, keep-alive), parses it with feedparser,
and for every item: a full-text item (content:encoded) is cleaned with
trafilatura, a teaser item's page is fetched and extracted with trafilatura;
one JSON article per item goes to Kafka with the producer settings newsflow
uses (acks=all, zstd, linger.ms=50, idempotence). Exits once every record
is acknowledged; prints one JSON line (articles, failed).

  python_pipeline.py --urls FILE --brokers B --topic T [--threads 16]
"""
import argparse
import concurrent.futures
import hashlib
import json
import sys
import threading

import feedparser
import trafilatura
import urllib3
from confluent_kafka import Producer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--urls", required=True)
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--threads", type=int, default=16)
    args = ap.parse_args()
    urls = [u.strip() for u in open(args.urls) if u.strip()]

    http = urllib3.PoolManager(num_pools=len(urls) + 10, maxsize=2)
    producer = Producer({
        "bootstrap.servers": args.brokers, "acks": "all",
        "compression.type": "zstd", "linger.ms": 50,
        "enable.idempotence": True,
    })
    lock = threading.Lock()
    stats = {"acked": 0, "failed": 0, "items": 0}

    def on_delivery(err, _msg):
        with lock:
            stats["failed" if err else "acked"] += 1

    def article(feed_url, feed, entry):
        html = ""
        if entry.get("content"):
            html = entry.content[0].value
        source = "feed"
        if len(html) < 500 and entry.get("link"):
            # A teaser: fetch the page and extract its main text.
            r = http.request("GET", entry.link, timeout=30)
            html = r.data.decode("utf-8", "replace")
            source = "page"
        text = trafilatura.extract(html, url=entry.get("link"),
                                   include_comments=False) or ""
        guid = entry.get("id") or entry.get("link")
        return {
            "id": hashlib.sha256((feed_url + "\0" + guid).encode()).hexdigest()[:32],
            "url": entry.get("link"), "title": entry.get("title"),
            "feed": {"url": feed_url, "title": feed.feed.get("title")},
            "published": entry.get("published"),
            "authors": [a.get("name") for a in entry.get("authors", [])],
            "summary": entry.get("summary"), "content_text": text,
            "content_source": source, "word_count": len(text.split()),
        }

    def poll(feed_url):
        r = http.request("GET", feed_url, timeout=30)
        feed = feedparser.parse(r.data)
        for entry in feed.entries:
            a = article(feed_url, feed, entry)
            with lock:
                stats["items"] += 1
            while True:
                try:
                    producer.produce(args.topic, key=a["id"],
                                     value=json.dumps(a).encode(),
                                     on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)

    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        for f in concurrent.futures.as_completed(pool.submit(poll, u) for u in urls):
            f.result()
    producer.flush(120)
    print(json.dumps({"items": stats["items"], "acked": stats["acked"],
                      "failed": stats["failed"]}))
    return 0 if stats["failed"] == 0 and stats["acked"] == stats["items"] else 1


if __name__ == "__main__":
    sys.exit(main())
