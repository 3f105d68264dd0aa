#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>

#include "config/config.h"
#include "connectors/builtin.h"
#include "daemon/cli/commands.h"
#include "daemon/core/timezone.h"
#include "daemon/runtime/article_builder.h"

namespace newsflow {
namespace {

// Exactly the daemon's path for one feed — PollFeed, then BuildArticle per
// item — minus the state store and the sink: articles go to stdout.
Awaitable<int> FetchAndPrint(HttpClient* http, FeedPollRequest request,
                             std::shared_ptr<BuildContext> build) {
  auto polled = co_await AsyncPollFeed(*http, request);
  if (!polled) {
    std::fprintf(stderr, "newsflowd: %s\n", polled.error().ToString().c_str());
    co_return kExitBadInput;
  }
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
    auto loaded = LoadConfigFile(config_path, BuiltinSinks());
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

  asio::io_context io(1);
  HttpClientOptions http_options;
  http_options.default_user_agent = config.http.user_agent;
  HttpClient http(io, http_options);
  HttpRequest base;
  base.user_agent =
      feed.user_agent.empty() ? config.http.user_agent : feed.user_agent;
  base.proxy = !proxy.empty()        ? proxy
               : !feed.proxy.empty() ? feed.proxy
                                     : config.http.proxy;
  base.headers = feed.headers;
  base.connect_timeout = config.http.connect_timeout;
  base.total_timeout = config.http.total_timeout;
  base.max_body_bytes = config.http.max_body_bytes;
  base.max_redirects = config.http.max_redirects;

  FeedPollRequest request;
  request.feed_name = feed.name;
  request.http = base;
  request.http.url = url;
  if (!feed.timezone.empty()) {
    auto zone = TimeZone::Load(feed.timezone);
    if (!zone) {
      std::fprintf(stderr, "newsflowd: warning: %s; dates read as UTC\n",
                   zone.error().ToString().c_str());
    } else {
      request.assumed_zone = std::make_shared<const TimeZone>(std::move(*zone));
    }
  }
  auto build = std::make_shared<BuildContext>();
  build->http = &http;
  build->page_request = base;
  build->feed.id = feed.name;
  build->feed.url = url;
  build->full_article = feed.full_article;
  build->clean.remove_selectors = feed.remove_selectors;
  build->clean.keep_selectors = feed.keep_selectors;
  build->language_override = feed.language;

  int rc = kExitInternal;
  asio::co_spawn(io, FetchAndPrint(&http, std::move(request), build),
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
