#include "daemon/runtime/article_builder.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "daemon/cleaner/page_wall.h"
#include "daemon/core/logging.h"
#include "daemon/normalizer/normalizer.h"
#include "daemon/runtime/worker_pool.h"

namespace newsflow {
namespace {

// The feed's own body, cleaned (worker), and whether to fetch the page.
struct FeedBody {
  FeedItem item;
  CleanedContent content;
  bool wants_page = false;
  bool substantial = false;  // the feed's text is not a teaser
  // Set when the wanted page could not be fetched (content_source_reason).
  std::string source_reason;
};

FeedBody CleanFeedBody(const BuildContext& ctx, FeedItem item) {
  FeedBody out;
  // The feed's richest body: content:encoded / Atom content, else summary.
  const std::string& raw = !item.content.empty() ? item.content : item.summary;
  CleanOptions clean = ctx.plan->clean;
  clean.base_url = item.link.empty() ? ctx.feed.link : item.link;
  out.content = CleanFragment(raw, clean);
  out.wants_page =
      WantsFullPage(ctx.plan->full_article, raw, out.content, item.link);
  out.substantial =
      !out.content.text.empty() && !LooksLikeTeaser(raw, out.content);
  out.item = std::move(item);
  return out;
}

// Extracts the page when there is one, keeps the richer body, normalizes
// (worker).
Article ExtractAndNormalize(const BuildContext& ctx, FeedBody body,
                            std::optional<HttpResponse> page_response) {
  CleanedContent content = std::move(body.content);
  ContentSource source = ContentSource::kFeed;
  std::optional<PageMetadata> page;
  PageWall wall = PageWall::kNone;
  if (page_response) {
    CleanOptions page_clean = ctx.plan->clean;
    page_clean.base_url = page_response->effective_url.empty()
                              ? body.item.link
                              : page_response->effective_url;
    ExtractedPage extracted = ExtractPage(page_response->body, page_clean);
    // A consent wall or paywall never replaces the feed's body, however
    // long its text (daemon/cleaner/page_wall.h).
    wall = DetectPageWall(page_response->body, extracted.content.text);
    if (wall != PageWall::kNone) {
      GetLogger("feed." + ctx.feed.id)
          ->info("Page is a {}; keeping the feed's content. url={}",
                 PageWallReason(wall), RedactUrl(body.item.link));
    } else if (extracted.content.text.size() > content.text.size()) {
      // Keep the feed's body when the page yields less (JS page).
      content = std::move(extracted.content);
      source = ContentSource::kPage;
    } else {
      GetLogger("feed." + ctx.feed.id)
          ->debug("Page extraction gave less text than the feed. url={}",
                  RedactUrl(body.item.link));
    }
    page = std::move(extracted.metadata);
  }
  NormalizeInput in;
  in.feed = ctx.feed;
  in.item = &body.item;
  in.content = &content;
  in.content_source = source;
  in.page = page ? &*page : nullptr;
  in.language_override = ctx.plan->language_override;
  in.fetched_at = Now();
  Article article = Normalize(in);
  // A wall (issue 13) or a page that could not be fetched (issue 12; no
  // page then, so never both).
  article.content_source_reason = std::string(PageWallReason(wall));
  if (source == ContentSource::kFeed && !body.source_reason.empty()) {
    article.content_source_reason = std::move(body.source_reason);
  }
  return article;
}

}  // namespace

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

bool PageFailureFallsBack(int failed_before, int max_page_attempts,
                          bool feed_text_substantial) {
  return feed_text_substantial || failed_before + 1 >= max_page_attempts;
}

Awaitable<Result<Article>> BuildArticle(std::shared_ptr<const BuildContext> ctx,
                                        FeedItem item,
                                        int failed_page_attempts) {
  // Named, not inline in co_await: see worker_pool.h (GCC 12).
  auto clean = [ctx, item = std::move(item)]() mutable {
    // libxml2's own diagnostics name the feed and item they are about.
    ScopedHtmlDiagnostics diagnostics("feed." + ctx->feed.id, item.link);
    return CleanFeedBody(*ctx, std::move(item));
  };
  FeedBody body = co_await RunCpu(ctx->workers, std::move(clean));
  std::optional<HttpResponse> page;
  if (body.wants_page) {
    const std::string& link = body.item.link;
    Result<HttpResponse> response =
        co_await AsyncFetch(*ctx->http, PageRequestFor(*ctx->plan, link));
    auto log = GetLogger("feed." + ctx->feed.id);
    std::optional<Error> failed;
    if (!response) {
      failed = response.error().At("article " + RedactUrl(link));
    } else if (response->status < 200 || response->status > 299) {
      failed =
          Error(Errc::kHttpStatus, "HTTP " + std::to_string(response->status),
                "article " + RedactUrl(link), response->status);
    } else {
      page = std::move(*response);
    }
    if (failed) {
      // A retryable failure is retried at the next polls, up to the bound;
      // a permanent one (404, 410, refused by the SSRF guard) falls back
      // at once. Either way the article says why its body is the feed's.
      if (failed->IsRetryable() &&
          !PageFailureFallsBack(failed_page_attempts,
                                ctx->plan->max_page_attempts,
                                body.substantial)) {
        co_return *failed;
      }
      log->warn(
          "Full-article fetch failed; using the feed's content. error={} "
          "failed_polls={}",
          failed->ToString(), failed_page_attempts + 1);
      body.source_reason = kReasonPageFetchFailed;
    }
  }
  auto extract = [ctx, body = std::move(body),
                  page = std::move(page)]() mutable {
    ScopedHtmlDiagnostics diagnostics("feed." + ctx->feed.id, body.item.link);
    return ExtractAndNormalize(*ctx, std::move(body), std::move(page));
  };
  co_return co_await RunCpu(ctx->workers, std::move(extract));
}

}  // namespace newsflow
