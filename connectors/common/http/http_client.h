#pragma once

// HttpClient: every HTTP transfer of the daemon (feeds and article pages)
// goes through one libcurl multi handle driven by the daemon's Asio
// io_context (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION mapped onto Asio
// socket waits and a steady_timer). No thread per transfer, no
// curl_easy_perform.
//
// Threading: construct, call and destroy on the io_context's thread. Every
// completion callback runs on that thread, never from inside Fetch().
// Ownership: the io_context must outlive the client.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/error.h"
#include "daemon/core/metrics.h"

namespace boost::asio {
class io_context;
}

namespace newsflow {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One GET. The defaults are the safe ones for a URL that came from the
// outside (a feed's item link): SSRF guard on, no credentials, bounded time,
// size and redirects.
struct HttpRequest {
  std::string url;            // http:// or https:// only
  HttpHeaders headers;        // extra request headers
  std::string etag;           // sends If-None-Match when set
  std::string last_modified;  // sends If-Modified-Since when set
  std::string user_agent;     // empty: the client's default
  std::string proxy;          // e.g. "http://127.0.0.1:3128"; empty: none
  std::chrono::milliseconds connect_timeout{10'000};
  // Cap on the time on the wire, redirect hops included; time spent
  // waiting for the host's politeness slot or a transfer slot is not
  // counted.
  std::chrono::milliseconds total_timeout{30'000};
  size_t max_body_bytes = 16 << 20;  // decompressed; larger → kTooLarge
  int max_redirects = 5;             // longer chains → kTooManyRedirects
  // Cookie header value ("a=1; b=2"). Like an Authorization or Cookie
  // entry in `headers`, sent to the request's own origin only: a redirect
  // to another scheme, host or port drops it.
  std::string cookie;
  // SSRF guard. The default (false) refuses (kBlocked) any connection —
  // first hop, redirects and reused connections alike — whose resolved peer
  // address is private, loopback, link-local, CGNAT, multicast or
  // unspecified. Checked on the address curl connects to (after DNS), so DNS
  // rebinding fails. With a proxy the peer is the proxy, which the operator
  // chose: the guard then only checks a literal-IP target URL (the proxy
  // resolves names). Set true only for URLs the operator configured.
  bool allow_private_targets = false;
  // The guard for redirect hops that leave the first URL's host: false (the
  // default) guards them even when `allow_private_targets` lets the first
  // host be private. The client follows redirects itself, one hop at a
  // time: a hop to another origin (scheme, host, port) also goes without
  // `headers` and `cookie` (credentials stay with the origin asked for).
  bool allow_private_redirect_targets = false;
  // Set to true (on the io_context thread) to cancel: a queued or deferred
  // request never starts, a running transfer (any hop) is aborted within
  // about a second; the callback then gets Errc::kCancelled. Null: never.
  std::shared_ptr<const bool> cancelled;
};

struct HttpResponse {
  int status = 0;             // final status after redirects
  std::string effective_url;  // URL after redirects
  HttpHeaders headers;        // of the final response; names lower-cased
  std::string body;           // decompressed
  int redirect_count = 0;
  // Status of the first response when it was a redirect (301/302/307/308),
  // else 0; lets callers tell permanent from temporary moves.
  int first_redirect_status = 0;
  std::chrono::milliseconds elapsed{0};
  // Keeps `body`'s bytes counted against the client's
  // max_body_bytes_in_flight until the last copy of this handle is
  // destroyed or reset (on any thread). Whoever consumes the body (parses
  // or cleans it) drops the response, or resets this, when done. Null when
  // the client has no budget.
  std::shared_ptr<const void> body_budget;

  // First value of header `name` (lower-case), or "" when absent.
  const std::string& Header(std::string_view name) const;
};

struct HttpClientOptions {
  std::string default_user_agent =
      "newsflowd/0.1 (+https://github.com/newsflow)";
  // Limit on transfers running at once; more are queued inside the client.
  size_t max_concurrent = 256;
  // Limit on connections to one host (CURLMOPT_MAX_HOST_CONNECTIONS).
  long max_host_connections = 2;
  // Minimum spacing between the starts of two requests to one host (per
  // host name, port ignored); 0 disables. Requests that come too early wait
  // inside the client (timers, no thread).
  std::chrono::milliseconds min_host_interval{0};
  // A 429 or 503 with Retry-After holds back every later request to that
  // host until then (at most this long); 0 disables the host-wide pause.
  std::chrono::seconds max_host_throttle{600};
  // Budget for response bodies in flight, in bytes; 0 = none. A transfer
  // starts only when its worst case (its request's max_body_bytes, at most
  // the budget) fits next to what running transfers reserved and delivered
  // bodies still hold (HttpResponse::body_budget); waiting transfers start
  // in FIFO order. At completion the reservation shrinks to the body's
  // allocation, which stays charged until the consumer lets go.
  size_t max_body_bytes_in_flight = 0;
  // Optional metrics (owned by the caller, outliving the client): bytes
  // reserved or held now, and transfers that, next in line, had to wait
  // for the budget.
  Gauge* body_bytes_in_flight = nullptr;
  Counter* body_budget_waits = nullptr;
};

// True for addresses a page link must not reach unless allowed: loopback,
// RFC 1918, link-local, CGNAT (100.64/10), unspecified, multicast,
// broadcast, IPv6 ULA/link-local and IPv4-mapped forms of those. `ip` is a
// numeric address; anything unparsable counts as private.
bool IsPrivateAddress(std::string_view ip);

using FetchCallback = std::function<void(Result<HttpResponse>)>;

class HttpClient {
 public:
  HttpClient(boost::asio::io_context& io, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a GET. `done` receives the response for any HTTP status (the
  // caller decides what a 404 means) or an Error for transport failures:
  // kDns, kConnect, kTls, kTimeout, kConnectionReset, kTooLarge,
  // kTooManyRedirects, kInvalidArgument (bad URL or scheme), kBlocked
  // (SSRF guard, see HttpRequest::allow_private_targets).
  void Fetch(HttpRequest request, FetchCallback done);

  // Aborts every transfer; their callbacks receive kCancelled.
  void CancelAll();

  // Transfers started and not yet completed (including queued ones and
  // ones waiting for their host's rate slot).
  size_t Active() const;

  // Body bytes reserved by running transfers plus those held by delivered
  // responses (see HttpClientOptions::max_body_bytes_in_flight); any thread.
  size_t BodyBytesInFlight() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace newsflow
