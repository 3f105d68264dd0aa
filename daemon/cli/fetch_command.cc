#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>

#include "config/config.h"
#include "daemon/cleaner/html_cleaner.h"
#include "daemon/cli/commands.h"
#include "daemon/runtime/article_builder.h"
#include "daemon/runtime/feed_plan.h"
#include "daemon/runtime/worker_pool.h"

namespace newsflow {
namespace {

// Exactly the daemon's path for one feed — the feed plan's request,
// PollFeed's classification and parsing, then BuildArticle per item, CPU
// work on a worker pool — minus the state store and the sink: articles go
// to stdout.
Awaitable<int> FetchAndPrint(HttpClient* http, WorkerPool* workers,
                             FeedPollRequest request,
                             std::shared_ptr<const FeedPlan> plan) {
  Result<HttpResponse> response =
      co_await AsyncFetch(*http, ConditionalRequest(request));
  Result<FeedPollResult> polled = Error::Internal("feed not fetched");
  if (response) {
    // Named, not inline in co_await: see worker_pool.h (GCC 12).
    auto classify = [request, response = std::move(*response)]() mutable {
      return ClassifyFeedResponse(request, std::move(response));
    };
    polled = co_await workers->Run(std::move(classify));
  } else {
    polled = response.error().At("feed " + request.feed_name + " (" +
                                 request.http.url + ")");
  }
  if (!polled) {
    std::fprintf(stderr, "newsflowd: %s\n", polled.error().ToString().c_str());
    co_return kExitBadInput;
  }
  auto build = std::make_shared<BuildContext>();
  build->http = http;
  build->workers = workers;
  build->plan = plan;
  build->feed.id = plan->name;
  build->feed.url = plan->url;
  build->feed.title = polled->feed.title;
  build->feed.link = polled->feed.link;
  build->feed.language = polled->feed.language;
  std::shared_ptr<const BuildContext> ctx = build;
  int rc = kExitOk;
  for (FeedItem& item : polled->feed.items) {
    auto article = co_await BuildArticle(ctx, std::move(item));
    if (!article) {
      std::fprintf(stderr, "newsflowd: %s\n",
                   article.error().ToString().c_str());
      rc = kExitBadInput;
      continue;
    }
    std::string line = ArticleToJson(*article);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  co_return rc;
}

}  // namespace

int RunFetchCommand(const std::string& url, bool full_article,
                    const std::string& config_path, const std::string& proxy) {
  DaemonConfig config;
  if (!config_path.empty()) {
    auto loaded = LoadConfigFile(config_path);
    if (!loaded) {
      std::fprintf(stderr, "newsflowd: %s\n",
                   loaded.error().ToString().c_str());
      return kExitBadInput;
    }
    config = std::move(*loaded);
  }
  // Settings of a configured feed with this URL apply, if there is one.
  FeedConfig feed;
  feed.name = "cli";
  for (const FeedConfig& f : config.feeds) {
    if (f.url == url) feed = f;
  }
  feed.url = url;
  if (full_article) feed.full_article = FullArticleMode::kAlways;
  auto plan = std::make_shared<const FeedPlan>(
      MakeFeedPlan(feed, config, FeedPlanOverrides{.proxy = proxy}));
  if (!plan->warning.empty()) {
    std::fprintf(stderr, "newsflowd: warning: %s\n", plan->warning.c_str());
  }

  asio::io_context io(1);
  HttpClientOptions http_options;
  http_options.default_user_agent = config.http.user_agent;
  HttpClient http(io, http_options);
  InitHtmlCleaner();  // libxml2's global init, before the workers use it
  WorkerPool workers(io.get_executor(),
                     WorkerPoolOptions{.threads = config.pipeline.workers});

  FeedPollRequest request;
  request.feed_name = feed.name;
  request.http = plan->feed_request;
  request.assumed_zone = plan->assumed_zone;

  int rc = kExitInternal;
  asio::co_spawn(io, FetchAndPrint(&http, &workers, std::move(request), plan),
                 [&rc](std::exception_ptr e, int result) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       std::fprintf(stderr, "newsflowd: internal error: %s\n",
                                    ex.what());
                     }
                     rc = kExitInternal;
                     return;
                   }
                   rc = result;
                 });
  io.run();
  return rc;
}

}  // namespace newsflow
