// bench_extract: newsflow's page extraction over the extraction corpus's dev
// pages. Decompresses every page into memory first, then times ExtractPage
// over all pages `--repeats` times (median reported) and scores the output
// with the benchmark's metric (tests/daemon/cleaner/extraction_metric.h).
//
//   bench_extract [--corpus DIR] [--repeats N] [--json FILE] [--workers N]
//
// --workers N runs each pass the way the daemon does: every page is a job on
// the runtime's WorkerPool (N threads), awaited from coroutines on one
// io_context; the time is wall time of the whole pass.
//
// --json writes {"tool", "pages", "bytes", "seconds", "pages_per_s",
// "mb_per_s", "precision", "recall", "f1", "predictions": {id: text}} so that
// bench/extract/peers.py can cross-check the metric and print the table.

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon/cleaner/html_cleaner.h"
#include "daemon/runtime/worker_pool.h"
#include "tests/daemon/cleaner/extraction_metric.h"
#include "tests/testing/corpus.h"

namespace {

struct Page {
  std::string id, url, html, gold;
};

}  // namespace

int main(int argc, char** argv) {
  std::string corpus = NEWSFLOW_CORPUS_DIR "/extraction/dev";
  std::string json_path;
  int repeats = 5;
  size_t workers = 0;  // 0: a plain loop on this thread
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--corpus" && i + 1 < argc) {
      corpus = argv[++i];
    } else if (a == "--repeats" && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--workers" && i + 1 < argc) {
      workers = static_cast<size_t>(std::max(0, std::atoi(argv[++i])));
    } else if (a == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: bench_extract [--corpus DIR] [--repeats N] "
                   "[--json FILE] [--workers N]\n");
      return 2;
    }
  }
  std::vector<Page> pages;
  size_t bytes = 0;
  for (auto& page : newsflow::testing::LoadExtractionPagesFrom(corpus)) {
    bytes += page.html.size();
    pages.push_back({std::move(page.id), std::move(page.url),
                     std::move(page.html), std::move(page.article_body)});
  }
  if (pages.empty()) {
    std::fprintf(stderr,
                 "bench_extract: no pages under %s (ground-truth.json)\n",
                 corpus.c_str());
    return 1;
  }

  std::vector<std::string> predictions(pages.size());
  std::vector<double> runs;
  newsflow::InitHtmlCleaner();
  boost::asio::io_context io(1);
  std::unique_ptr<newsflow::WorkerPool> pool;
  if (workers > 0) {
    pool = std::make_unique<newsflow::WorkerPool>(
        io.get_executor(),
        newsflow::WorkerPoolOptions{.threads = workers, .nice = 0});
  }
  for (int r = 0; pool && r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < pages.size(); ++i) {
      boost::asio::co_spawn(
          io,
          [&, i, r]() -> newsflow::Awaitable<void> {
            auto extract = [&pages, i] {
              newsflow::CleanOptions options;
              options.base_url = pages[i].url;
              return newsflow::ExtractPage(pages[i].html, options).content.text;
            };
            std::string text = co_await pool->Run(std::move(extract));
            if (r == 0) predictions[i] = std::move(text);
          },
          boost::asio::detached);
    }
    io.run();
    io.restart();
    runs.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count());
  }
  for (int r = 0; !pool && r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < pages.size(); ++i) {
      newsflow::CleanOptions options;
      options.base_url = pages[i].url;
      newsflow::ExtractedPage page =
          newsflow::ExtractPage(pages[i].html, options);
      if (r == 0) predictions[i] = std::move(page.content.text);
    }
    runs.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count());
  }
  std::sort(runs.begin(), runs.end());
  double median = runs[runs.size() / 2];

  std::vector<newsflow::testing::PageScore> scores;
  for (size_t i = 0; i < pages.size(); ++i)
    scores.push_back(
        newsflow::testing::ScorePage(predictions[i], pages[i].gold));
  newsflow::testing::CorpusScore c = newsflow::testing::Aggregate(scores);

  double pps = pages.size() / median;
  double mbs = bytes / median / 1e6;
  if (workers > 0) std::printf("workers=%zu ", workers);
  std::printf(
      "newsflow: pages=%zu bytes=%zu repeats=%d median=%.3fs "
      "pages/s=%.1f MB/s=%.2f P=%.4f R=%.4f F1=%.4f accuracy=%.4f\n",
      pages.size(), bytes, repeats, median, pps, mbs, c.precision, c.recall,
      c.f1, c.accuracy);

  if (!json_path.empty()) {
    nlohmann::json out;
    out["tool"] = "newsflow";
    out["pages"] = pages.size();
    out["bytes"] = bytes;
    out["seconds"] = median;
    out["pages_per_s"] = pps;
    out["mb_per_s"] = mbs;
    out["precision"] = c.precision;
    out["recall"] = c.recall;
    out["f1"] = c.f1;
    nlohmann::json preds = nlohmann::json::object();
    for (size_t i = 0; i < pages.size(); ++i)
      preds[pages[i].id] = predictions[i];
    out["predictions"] = std::move(preds);
    std::ofstream(json_path)
        << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
