#include "daemon/runtime/article_builder.h"

#include <spdlog/spdlog.h>

#include "daemon/core/logging.h"
#include "daemon/normalizer/normalizer.h"

namespace newsflow {

bool WantsFullPage(FullArticleMode mode, std::string_view raw_html,
                   const CleanedContent& from_feed, std::string_view link) {
  if (link.empty()) return false;
  switch (mode) {
    case FullArticleMode::kNever:
      return false;
    case FullArticleMode::kAlways:
      return true;
    case FullArticleMode::kAuto:
      return from_feed.text.empty() || LooksLikeTeaser(raw_html, from_feed);
  }
  return false;
}

Awaitable<Result<Article>> BuildArticle(std::shared_ptr<const BuildContext> ctx,
                                        FeedItem item) {
  // The feed's richest body: content:encoded / Atom content, else summary.
  const std::string& raw = !item.content.empty() ? item.content : item.summary;
  CleanOptions clean = ctx->clean;
  clean.base_url = item.link.empty() ? ctx->feed.link : item.link;
  CleanedContent content = CleanFragment(raw, clean);
  ContentSource source = ContentSource::kFeed;
  std::optional<PageMetadata> page;

  if (WantsFullPage(ctx->full_article, raw, content, item.link)) {
    HttpRequest request = ctx->page_request;
    request.url = item.link;
    Result<HttpResponse> response = co_await AsyncFetch(*ctx->http, request);
    auto log = GetLogger("feed." + ctx->feed.id);
    if (!response) {
      Error e = response.error().At("article " + RedactUrl(item.link));
      if (e.IsRetryable()) co_return e;
      log->warn("Full-article fetch failed; using the feed's content. error={}",
                e.ToString());
    } else if (response->status < 200 || response->status > 299) {
      Error e(Errc::kHttpStatus, "HTTP " + std::to_string(response->status),
              "article " + RedactUrl(item.link), response->status);
      if (e.IsRetryable()) co_return e;
      log->warn("Full-article fetch failed; using the feed's content. error={}",
                e.ToString());
    } else {
      CleanOptions page_clean = ctx->clean;
      page_clean.base_url =
          response->effective_url.empty() ? item.link : response->effective_url;
      ExtractedPage extracted = ExtractPage(response->body, page_clean);
      // Keep the feed's body when the page yields less (paywall, JS page).
      if (extracted.content.text.size() > content.text.size()) {
        content = std::move(extracted.content);
        source = ContentSource::kPage;
      } else {
        log->debug("Page extraction gave less text than the feed. url={}",
                   RedactUrl(item.link));
      }
      page = std::move(extracted.metadata);
    }
  }

  NormalizeInput in;
  in.feed = ctx->feed;
  in.item = &item;
  in.content = &content;
  in.content_source = source;
  in.page = page ? &*page : nullptr;
  in.language_override = ctx->language_override;
  in.fetched_at = Now();
  co_return Normalize(in);
}

}  // namespace newsflow
