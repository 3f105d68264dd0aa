#pragma once

// ArticleBuilder: one feed item → the Article the sinks publish. Cleans the
// feed's own HTML, decides whether the item is only a teaser, fetches and
// extracts the full page when the feed's `full_article` mode asks for it,
// and normalizes. Shared by the daemon and `newsflowd fetch`, so both
// publish exactly the same values.
//
// Threading: called on the io_context thread; the page fetch runs there
// (HttpClient), the cleaning, extraction and normalization on the worker
// pool. Asio in this header: include it only from runtime .cc files.

#include <memory>
#include <string>

#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/article.h"
#include "daemon/runtime/async_util.h"
#include "daemon/runtime/feed_plan.h"

namespace newsflow {

class WorkerPool;

// What every build of one poll shares. Read-only once the poll starts.
struct BuildContext {
  HttpClient* http = nullptr;            // REQUIRES: non-null, outlives builds
  WorkerPool* workers = nullptr;         // null: CPU work inline (tests)
  std::shared_ptr<const FeedPlan> plan;  // REQUIRES: non-null
  FeedRef feed;  // id/url from the plan, title/link/language from the feed
};

// Decides whether to fetch the page for an item (exposed for tests).
bool WantsFullPage(FullArticleMode mode, std::string_view raw_html,
                   const CleanedContent& from_feed, std::string_view link);

// Whether a page fetch that failed with a retryable error (timeout, 5xx,
// 429, DNS, connect) falls back to the feed's content now: at the
// `plan.max_page_attempts`th failed poll (`failed_before` earlier ones), or
// at once when the feed's own text is substantial (not empty and not a
// teaser by LooksLikeTeaser: the item was only fetched because of
// full_article: always). Exposed for tests.
bool PageFailureFallsBack(int failed_before, int max_page_attempts,
                          bool feed_text_substantial);

// Builds the article. Errors only for failures worth retrying on the next
// poll (a page fetch that timed out, a 5xx, a 429) while
// PageFailureFallsBack() says so; `failed_page_attempts` is how many earlier
// polls' page fetches of this item failed (the caller counts them, see
// FeedPoller). A page that is gone, or failed too often, falls back to the
// feed's content with content_source_reason "page_fetch_failed".
Awaitable<Result<Article>> BuildArticle(std::shared_ptr<const BuildContext> ctx,
                                        FeedItem item,
                                        int failed_page_attempts = 0);

}  // namespace newsflow
