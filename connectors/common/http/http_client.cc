#include "connectors/common/http/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cassert>
#include <charconv>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>

#include "daemon/core/logging.h"
#include "daemon/core/text_util.h"
#include "daemon/core/url.h"

namespace newsflow {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' ||
                        s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

Errc MapCurlCode(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Errc::kDns;
    case CURLE_COULDNT_CONNECT:
      return Errc::kConnect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return Errc::kTls;
    case CURLE_OPERATION_TIMEDOUT:
      return Errc::kTimeout;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_WEIRD_SERVER_REPLY:
      return Errc::kConnectionReset;
    case CURLE_TOO_MANY_REDIRECTS:
      return Errc::kTooManyRedirects;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return Errc::kInvalidArgument;
    case CURLE_FILESIZE_EXCEEDED:
      return Errc::kTooLarge;
    case CURLE_BAD_CONTENT_ENCODING:
      return Errc::kParse;
    default:
      return Errc::kInternal;
  }
}

bool IsPrivateV4(uint32_t a) {  // host byte order
  auto in = [a](uint32_t net, int bits) {
    return (a >> (32 - bits)) == (net >> (32 - bits));
  };
  return in(0x00000000, 8) ||   // 0/8 "this network"
         in(0x0A000000, 8) ||   // 10/8
         in(0x64400000, 10) ||  // 100.64/10 CGNAT
         in(0x7F000000, 8) ||   // 127/8 loopback
         in(0xA9FE0000, 16) ||  // 169.254/16 link-local (cloud metadata)
         in(0xAC100000, 12) ||  // 172.16/12
         in(0xC0000000, 24) ||  // 192.0.0/24 IETF protocol assignments
         in(0xC0A80000, 16) ||  // 192.168/16
         in(0xC6120000, 15) ||  // 198.18/15 benchmarking
         in(0xE0000000, 4) ||   // multicast
         in(0xF0000000, 4);     // reserved + broadcast
}

// Statuses whose Location the client follows (RFC 9110 section 15.4).
bool IsFollowedRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 ||
         status == 308;
}

// Same scheme, host and port (the URL model's default-port rules).
bool SameOrigin(const Url& a, const Url& b) {
  return a.scheme() == b.scheme() && a.HostKey() == b.HostKey() &&
         a.port() == b.port();
}

bool IsPrivateSockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(sa);
    return IsPrivateV4(ntohl(v4->sin_addr.s_addr));
  }
  if (sa->sa_family == AF_INET6) {
    char text[INET6_ADDRSTRLEN] = {};
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return IsPrivateAddress(text);
  }
  return true;  // unix sockets and the like: never for page links
}

}  // namespace

bool IsPrivateAddress(std::string_view ip) {
  std::string s(ip);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    return IsPrivateV4(ntohl(v4.s_addr));
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return true;
  const uint8_t* b = v6.s6_addr;
  static const uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 15) == 0 && (b[15] == 0 || b[15] == 1)) {
    return true;  // :: and ::1
  }
  // IPv4-mapped ::ffff:a.b.c.d and NAT64 64:ff9b::a.b.c.d: judge the v4.
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0,
                                     0, 0,    0,    0,    0, 0};
  auto v4_at = [b](int i) {
    return (uint32_t{b[i]} << 24) | (uint32_t{b[i + 1]} << 16) |
           (uint32_t{b[i + 2]} << 8) | b[i + 3];
  };
  // IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks):
  // the first 96 bits zero.
  if (std::memcmp(b, kZero, 12) == 0 || std::memcmp(b, kMapped, 12) == 0 ||
      std::memcmp(b, kNat64, 12) == 0) {
    return IsPrivateV4(v4_at(12));
  }
  // 6to4 2002:AABB:CCDD::/48 carries the IPv4 a relay delivers to.
  if (b[0] == 0x20 && b[1] == 0x02) return IsPrivateV4(v4_at(2));
  // Teredo 2001:0::/32: the client's IPv4 is the last 32 bits inverted.
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) {
    return IsPrivateV4(~v4_at(12)) || IsPrivateV4(v4_at(4));
  }
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) {
    return true;  // 2001:db8::/32 documentation
  }
  if (b[0] == 0x01 && b[1] == 0 && std::memcmp(b + 2, kZero, 6) == 0) {
    return true;  // 100::/64 discard-only
  }
  if ((b[0] & 0xfe) == 0xfc) return true;                  // fc00::/7 ULA
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;  // fec0::/10
  if (b[0] == 0xff) return true;                           // multicast
  return false;
}

const std::string& HttpResponse::Header(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return kEmpty;
}

// The byte budget for bodies in flight (HttpClientOptions::
// max_body_bytes_in_flight). Shared with the leases in delivered responses,
// which may be released on any thread (a worker that parsed the body):
// hence the mutex, and `wake`, which posts the client's admission to its
// io_context; the client clears it when destroyed.
class BodyBudget {
 public:
  BodyBudget(size_t limit, Gauge* gauge) : limit_(limit), gauge_(gauge) {}
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;

  // Reserves `bytes` (clamped to the limit) if they fit; returns what was
  // reserved, 0 when they do not fit.
  size_t TryReserve(size_t bytes) {
    bytes = std::max<size_t>(1, std::min(bytes, limit_));
    std::lock_guard<std::mutex> lock(mu_);
    if (used_ + bytes > limit_) return 0;
    used_ += bytes;
    Publish();
    return bytes;
  }
  void Release(size_t bytes) {
    if (bytes == 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    assert(bytes <= used_);
    used_ -= std::min(bytes, used_);
    Publish();
    if (wake_) wake_();
  }
  void SetWake(std::function<void()> wake) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = std::move(wake);
  }
  size_t used() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }

 private:
  void Publish() {
    if (gauge_ != nullptr) gauge_->Set(static_cast<double>(used_));
  }

  const size_t limit_;
  Gauge* const gauge_;
  mutable std::mutex mu_;
  size_t used_ = 0;
  std::function<void()> wake_;
};

namespace {

// What a delivered body holds of the budget, released when the last
// HttpResponse::body_budget copy goes.
std::shared_ptr<const void> BodyLease(std::shared_ptr<BodyBudget> budget,
                                      size_t bytes) {
  class Lease {
   public:
    Lease(std::shared_ptr<BodyBudget> budget, size_t bytes)
        : budget_(std::move(budget)), bytes_(bytes) {}
    ~Lease() { budget_->Release(bytes_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    std::shared_ptr<BodyBudget> budget_;
    size_t bytes_;
  };
  return std::make_shared<const Lease>(std::move(budget), bytes);
}

}  // namespace

class HttpClient::Impl {
 public:
  Impl(asio::io_context& io, HttpClientOptions options);
  ~Impl();

  void Fetch(HttpRequest request, FetchCallback done);
  void CancelAll();
  size_t Active() const {
    return running_.size() + queue_.size() + deferred_.size() + undelivered_;
  }
  size_t BodyBytesInFlight() const { return budget_ ? budget_->used() : 0; }

 private:
  // One transfer: the request, its easy handle and what has been received.
  struct Transfer {
    Impl* impl = nullptr;
    HttpRequest request;
    FetchCallback done;
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    HttpResponse response;
    int current_status = 0;
    int first_status = 0;
    bool too_large = false;
    bool guard = false;    // SSRF guard active for this transfer
    bool blocked = false;  // the guard refused a peer
    std::string blocked_peer;
    Clock::time_point started;
    // The redirect chain this transfer is one hop of (the client follows
    // redirects itself, one transfer per hop, so that each hop gets its own
    // credentials and SSRF decision).
    std::string chain_first_url;  // the URL the caller asked for
    Clock::time_point chain_started;
    // Time the chain's earlier hops spent on the wire: total_timeout caps
    // this plus the current hop. Waiting for a politeness slot or a free
    // transfer slot does not count (a feed queued behind a thousand others
    // of its host must not time out before it was even sent).
    Clock::duration chain_active{};
    int chain_hops = 0;          // redirects followed before this hop
    int chain_first_status = 0;  // status of the first hop's response
    char error_buffer[CURL_ERROR_SIZE] = {};
    // Bytes of the body budget this hop holds while it runs (0: no budget).
    std::shared_ptr<BodyBudget> budget;
    size_t reserved = 0;
    bool counted_wait = false;  // counted in body_budget_waits

    ~Transfer() {
      if (easy != nullptr) curl_easy_cleanup(easy);
      if (header_list != nullptr) curl_slist_free_all(header_list);
      // The body has not been handed out (error, redirect hop, cancel):
      // its reservation goes back, and waiting transfers may start.
      if (budget) budget->Release(reserved);
    }
  };

  // A socket libcurl asked us to watch. libcurl owns the fd; the descriptor
  // only registers it with the reactor and is release()d (never closed) when
  // curl says CURL_POLL_REMOVE or closes the socket.
  struct Watch {
    explicit Watch(asio::io_context& io) : descriptor(io) {}
    asio::posix::stream_descriptor descriptor;
    int want = 0;  // CURL_POLL_IN / OUT bits
    bool read_pending = false;
    bool write_pending = false;
    bool removed = false;
  };

  static int OnSocket(CURL* easy, curl_socket_t fd, int what, void* userp,
                      void* socketp);
  static int OnTimer(CURLM* multi, long timeout_ms, void* userp);
  static int OnCloseSocket(void* clientp, curl_socket_t fd);
  static int OnProgress(void* clientp, curl_off_t, curl_off_t, curl_off_t,
                        curl_off_t);
  static size_t OnWrite(char* data, size_t size, size_t n, void* userp);
  static size_t OnHeader(char* data, size_t size, size_t n, void* userp);
  static curl_socket_t OnOpenSocket(void* clientp, curlsocktype purpose,
                                    curl_sockaddr* address);
  static int OnPrereq(void* clientp, char* primary_ip, char* local_ip,
                      int primary_port, int local_port);

  // Enqueues now or, when the host's rate slot is in the future, later.
  void Admit(std::unique_ptr<Transfer> t);
  void Enqueue(std::unique_ptr<Transfer> t);
  // Pauses requests to the host of `url` per a 429/503's Retry-After.
  void ThrottleHost(const std::string& url, const std::string& retry_after);

  void Start(std::unique_ptr<Transfer> t);
  void StartQueued();
  void WatchSocket(curl_socket_t fd, int what);
  void RemoveSocket(curl_socket_t fd);
  void Arm(const std::shared_ptr<Watch>& w, curl_socket_t fd);
  void OnReady(const std::shared_ptr<Watch>& w, curl_socket_t fd, int bit,
               const boost::system::error_code& ec);
  void SocketAction(curl_socket_t fd, int mask);
  void DrainCompleted();
  void Complete(CURL* easy, CURLcode code);
  // Starts the next hop of `t`'s redirect chain (its response is a
  // redirect with a Location), or delivers the error that ends it.
  void FollowRedirect(std::unique_ptr<Transfer> t);
  void Deliver(FetchCallback done, Result<HttpResponse> result);

  asio::io_context& io_;
  const HttpClientOptions options_;
  CURLM* multi_ = nullptr;
  asio::steady_timer timer_;
  // Handlers queued on the io_context check this before touching `this`;
  // the destructor clears it so nothing runs after destruction.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> running_;
  std::deque<std::unique_ptr<Transfer>> queue_;
  std::unordered_map<curl_socket_t, std::shared_ptr<Watch>> watches_;
  size_t undelivered_ = 0;
  // Per-host rate limit: the earliest start of the next request per host,
  // and transfers waiting for their slot (keyed by a sequence number so a
  // timer can find its transfer, or learn that CancelAll took it).
  std::unordered_map<std::string, Clock::time_point> next_host_start_;
  static constexpr size_t kMinHostPrune = 4096;
  size_t prune_hosts_at_ = kMinHostPrune;  // size that triggers a prune
  std::map<uint64_t, std::unique_ptr<Transfer>> deferred_;
  uint64_t next_deferred_id_ = 0;
  // Null without max_body_bytes_in_flight.
  std::shared_ptr<BodyBudget> budget_;
  // CURLOPT_MAXAGE_CONN: seconds an idle connection may wait for reuse;
  // twice the politeness spacing, at least kMinConnectionMaxAgeSeconds.
  static constexpr long kMinConnectionMaxAgeSeconds = 2;
  long connection_max_age_s_ = kMinConnectionMaxAgeSeconds;
  static constexpr long kDnsCacheTimeoutSeconds = 5;
};

HttpClient::Impl::Impl(asio::io_context& io, HttpClientOptions options)
    : io_(io), options_(std::move(options)), timer_(io) {
  GlobalInitOnce();
  connection_max_age_s_ =
      std::max<long>(kMinConnectionMaxAgeSeconds,
                     static_cast<long>(std::chrono::ceil<std::chrono::seconds>(
                                           2 * options_.min_host_interval)
                                           .count()));
  multi_ = curl_multi_init();
  assert(multi_ != nullptr);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Impl::OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Impl::OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                    options_.max_host_connections);
  // Connections kept for reuse. libcurl 7.88 evicts an idle connection
  // from a full cache (CURLMOPT_MAXCONNECTS, busy ones counted) with
  // Curl_conncache_extract_oldest, which walks every host's bundle and
  // leaves the evicted connection's bundle in the cache even when it is
  // empty: with every feed on its own host the cache collects one bundle per
  // host ever polled, and every later eviction walks them all (at 16,000
  // feeds that walk was the io thread's largest cost; bench/pipeline README,
  // "Cost that grows with the work"). So eviction by that path must stay
  // rare: the cap is libcurl's own default (4 x the transfers that may run),
  // and idle connections are closed by age instead (kConnectionMaxAge, set
  // per transfer; libcurl prunes them at most once a second, removing empty
  // bundles properly).
  curl_multi_setopt(
      multi_, CURLMOPT_MAXCONNECTS,
      static_cast<long>(4 * std::max<size_t>(16, options_.max_concurrent)));
  if (options_.max_body_bytes_in_flight > 0) {
    budget_ = std::make_shared<BodyBudget>(options_.max_body_bytes_in_flight,
                                           options_.body_bytes_in_flight);
    // Bytes released (any thread) may let the head of the queue start.
    budget_->SetWake([this, alive = alive_] {
      asio::post(io_, [this, alive] {
        if (*alive) StartQueued();
      });
    });
  }
}

HttpClient::Impl::~Impl() {
  *alive_ = false;
  if (budget_) budget_->SetWake(nullptr);  // leases may outlive the client
  // Remove the easy handles before the multi so that curl closes their
  // sockets through OnCloseSocket while our maps still exist.
  for (auto& [easy, transfer] : running_)
    curl_multi_remove_handle(multi_, easy);
  running_.clear();
  queue_.clear();
  deferred_.clear();
  curl_multi_cleanup(multi_);
  for (auto& [fd, w] : watches_) {
    boost::system::error_code ec;
    w->removed = true;
    w->descriptor.cancel(ec);
    w->descriptor.release();
  }
  watches_.clear();
}

void HttpClient::Impl::Fetch(HttpRequest request, FetchCallback done) {
  auto t = std::make_unique<Transfer>();
  t->impl = this;
  t->request = std::move(request);
  // libcurl fetches the URL as the URL model (a browser) reads it, so the
  // host it connects to is the host key of politeness and the SSRF check
  // ("https://a.example\@b.example/" is a.example to both). What the model
  // cannot read as http(s) is left to libcurl to refuse.
  if (Result<Url> u = Url::Parse(t->request.url); u && u->IsHttp()) {
    t->request.url = u->href();
  }
  t->done = std::move(done);
  t->chain_first_url = t->request.url;
  t->chain_started = Clock::now();
  Admit(std::move(t));
}

void HttpClient::Impl::Admit(std::unique_ptr<Transfer> t) {
  const auto interval = options_.min_host_interval;
  if (interval.count() <= 0 && next_host_start_.empty()) {
    Enqueue(std::move(t));  // no rate limit and no throttled host
    return;
  }
  const auto now = Clock::now();
  if (next_host_start_.size() > prune_hosts_at_) {
    // Bounded memory: forget hosts whose slot is already in the past. The
    // next prune waits until the map doubled, so that with many hosts
    // inside their interval (every feed on its own host) the scan is
    // amortized O(1) per request instead of O(hosts).
    std::erase_if(next_host_start_,
                  [now](const auto& kv) { return kv.second <= now; });
    prune_hosts_at_ = std::max(kMinHostPrune, 2 * next_host_start_.size());
  }
  Clock::time_point slot = now;
  const std::string host = HostKeyOf(t->request.url);
  if (interval.count() > 0) {
    Clock::time_point& next = next_host_start_[host];
    slot = std::max(now, next);
    next = slot + interval;
  } else if (auto it = next_host_start_.find(host);
             it != next_host_start_.end()) {
    slot = std::max(now, it->second);  // a throttled host (Retry-After)
  }
  if (slot <= now) {
    Enqueue(std::move(t));
    return;
  }
  const uint64_t id = next_deferred_id_++;
  deferred_.emplace(id, std::move(t));
  auto timer = std::make_shared<asio::steady_timer>(io_, slot);
  timer->async_wait(
      [this, id, timer, alive = alive_](const boost::system::error_code&) {
        if (!*alive) return;
        auto it = deferred_.find(id);
        if (it == deferred_.end()) return;  // cancelled meanwhile
        auto transfer = std::move(it->second);
        deferred_.erase(it);
        Enqueue(std::move(transfer));
      });
}

void HttpClient::Impl::Enqueue(std::unique_ptr<Transfer> t) {
  // FIFO: behind whatever already waits (for a slot or for the budget).
  queue_.push_back(std::move(t));
  StartQueued();
}

void HttpClient::Impl::Start(std::unique_ptr<Transfer> t) {
  const HttpRequest& r = t->request;
  if (r.cancelled && *r.cancelled) {
    Deliver(std::move(t->done),
            Error(Errc::kCancelled, "cancelled before it started: " + r.url,
                  r.url));
    return;
  }
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    Deliver(std::move(t->done),
            Error(Errc::kInternal, "curl_easy_init failed: " + r.url, r.url));
    return;
  }
  t->easy = easy;
  t->started = Clock::now();
  // The chain's clock starts with its first hop: time spent waiting for a
  // slot, the host's rate or the body budget is not transfer time.
  if (t->chain_hops == 0) t->chain_started = t->started;

  // One Cookie header (RFC 6265): `cookie` joins a Cookie entry of
  // `headers` when there is one.
  bool cookie_sent = r.cookie.empty();
  for (const auto& [name, value] : r.headers) {
    std::string line = name + ": " + value;
    if (!cookie_sent && EqualsIgnoreCaseAscii(name, "cookie")) {
      line += "; " + r.cookie;
      cookie_sent = true;
    }
    t->header_list = curl_slist_append(t->header_list, line.c_str());
  }
  if (!r.etag.empty()) {
    t->header_list =
        curl_slist_append(t->header_list, ("If-None-Match: " + r.etag).c_str());
  }
  if (!r.last_modified.empty()) {
    t->header_list = curl_slist_append(
        t->header_list, ("If-Modified-Since: " + r.last_modified).c_str());
  }
  // A custom "Cookie:" header, not CURLOPT_COOKIE: curl drops custom
  // Cookie and Authorization headers when a redirect leaves the first
  // origin (scheme, host and port), but sends CURLOPT_COOKIE everywhere.
  if (!cookie_sent) {
    t->header_list =
        curl_slist_append(t->header_list, ("Cookie: " + r.cookie).c_str());
  }
  const std::string& agent =
      r.user_agent.empty() ? options_.default_user_agent : r.user_agent;

  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption opt, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy, opt, value);
  };
  set(CURLOPT_URL, r.url.c_str());
  set(CURLOPT_PRIVATE, static_cast<void*>(t.get()));
  set(CURLOPT_ERRORBUFFER, t->error_buffer);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl was built with
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  // Redirects are followed by FollowRedirect(), one transfer per hop.
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(std::max<int64_t>(1, r.connect_timeout.count())));
  // The total timeout covers the whole redirect chain.
  const auto chain_left =
      r.total_timeout -
      std::chrono::duration_cast<std::chrono::milliseconds>(t->chain_active);
  set(CURLOPT_TIMEOUT_MS,
      static_cast<long>(std::max<int64_t>(1, chain_left.count())));
  // An empty string also disables the *_proxy environment variables, so
  // routing is decided by configuration only.
  set(CURLOPT_PROXY, r.proxy.c_str());
  set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  set(CURLOPT_USERAGENT, agent.c_str());
  if (t->header_list != nullptr) set(CURLOPT_HTTPHEADER, t->header_list);
  set(CURLOPT_WRITEFUNCTION, &Impl::OnWrite);
  set(CURLOPT_WRITEDATA, static_cast<void*>(t.get()));
  set(CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
  set(CURLOPT_HEADERDATA, static_cast<void*>(t.get()));
  set(CURLOPT_CLOSESOCKETFUNCTION, &Impl::OnCloseSocket);
  set(CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  // Idle connections live long enough for the next request of a host that
  // is being fetched (politeness spacing, a feed's pages), not until its
  // next poll minutes later (see CURLMOPT_MAXCONNECTS in the constructor).
  set(CURLOPT_MAXAGE_CONN, connection_max_age_s_);
  // libcurl prunes its DNS cache by walking every entry when any transfer
  // ends, and keeps entries for 60 s by default: with thousands of feeds on
  // their own hosts that is thousands of entries per transfer. A few seconds
  // still cover a host's redirect hops and its next requests.
  set(CURLOPT_DNS_CACHE_TIMEOUT, kDnsCacheTimeoutSeconds);
  if (r.cancelled) {
    // Polled by curl about once a second and on every chunk of data.
    set(CURLOPT_NOPROGRESS, 0L);
    set(CURLOPT_XFERINFOFUNCTION, &Impl::OnProgress);
    set(CURLOPT_XFERINFODATA, static_cast<void*>(t.get()));
  }
  t->guard = !r.allow_private_targets;
  if (t->guard) {
    set(CURLOPT_OPENSOCKETFUNCTION, &Impl::OnOpenSocket);
    set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(t.get()));
    // A reused connection skips OnOpenSocket; the pre-request check sees
    // the peer of every request, reused or not, redirects included.
    set(CURLOPT_PREREQFUNCTION, &Impl::OnPrereq);
    set(CURLOPT_PREREQDATA, static_cast<void*>(t.get()));
  }
  if (rc != CURLE_OK) {
    Error e(MapCurlCode(rc), std::string(curl_easy_strerror(rc)) + ": " + r.url,
            r.url);
    Deliver(std::move(t->done), std::move(e));
    return;
  }
  CURLMcode mc = curl_multi_add_handle(multi_, easy);
  if (mc != CURLM_OK) {
    Error e(Errc::kInternal,
            std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc) +
                ": " + r.url,
            r.url);
    Deliver(std::move(t->done), std::move(e));
    return;
  }
  running_.emplace(easy, std::move(t));
}

void HttpClient::Impl::StartQueued() {
  while (!queue_.empty() &&
         running_.size() < std::max<size_t>(1, options_.max_concurrent)) {
    Transfer& head = *queue_.front();
    if (budget_ && head.reserved == 0) {
      // The worst case must fit, or the head waits (and everything behind
      // it: first come, first served, so a big body is not starved).
      head.reserved = budget_->TryReserve(head.request.max_body_bytes);
      if (head.reserved == 0) {
        if (!head.counted_wait && options_.body_budget_waits != nullptr) {
          options_.body_budget_waits->Inc();
        }
        head.counted_wait = true;
        return;  // a release posts StartQueued again
      }
      head.budget = budget_;
    }
    auto t = std::move(queue_.front());
    queue_.pop_front();
    Start(std::move(t));
  }
}

void HttpClient::Impl::CancelAll() {
  auto running = std::move(running_);
  running_.clear();
  auto queued = std::move(queue_);
  queue_.clear();
  for (auto& [id, t] : deferred_) queued.push_back(std::move(t));
  deferred_.clear();
  for (auto& [easy, t] : running) {
    curl_multi_remove_handle(multi_, easy);
    Deliver(std::move(t->done),
            Error(Errc::kCancelled, "cancelled: " + t->request.url,
                  t->request.url));
  }
  for (auto& t : queued) {
    Deliver(std::move(t->done),
            Error(Errc::kCancelled, "cancelled: " + t->request.url,
                  t->request.url));
  }
}

void HttpClient::Impl::Deliver(FetchCallback done,
                               Result<HttpResponse> result) {
  ++undelivered_;
  asio::post(io_, [this, alive = alive_, done = std::move(done),
                   result = std::move(result)]() mutable {
    if (!*alive) return;
    --undelivered_;
    if (done) done(std::move(result));
  });
}

// --- libcurl callbacks (must not call back into the multi handle) --------

int HttpClient::Impl::OnSocket(CURL* /*easy*/, curl_socket_t fd, int what,
                               void* userp, void* /*socketp*/) {
  auto* self = static_cast<Impl*>(userp);
  if (what == CURL_POLL_REMOVE) {
    self->RemoveSocket(fd);
  } else if (*self->alive_) {
    self->WatchSocket(fd, what);
  }
  return 0;
}

int HttpClient::Impl::OnTimer(CURLM* /*multi*/, long timeout_ms, void* userp) {
  auto* self = static_cast<Impl*>(userp);
  if (timeout_ms < 0 || !*self->alive_) {
    self->timer_.cancel();
    return 0;
  }
  // Even a 0 ms timeout goes through the io_context: curl forbids calling
  // curl_multi_socket_action from inside this callback.
  self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  self->timer_.async_wait(
      [self, alive = self->alive_](const boost::system::error_code& ec) {
        if (ec || !*alive) return;
        self->SocketAction(CURL_SOCKET_TIMEOUT, 0);
      });
  return 0;
}

int HttpClient::Impl::OnProgress(void* clientp, curl_off_t, curl_off_t,
                                 curl_off_t, curl_off_t) {
  const auto* t = static_cast<const Transfer*>(clientp);
  return t->request.cancelled && *t->request.cancelled ? 1 : 0;
}

int HttpClient::Impl::OnCloseSocket(void* clientp, curl_socket_t fd) {
  // curl normally announces CURL_POLL_REMOVE first; this is the safety net
  // so a reactor registration never outlives its fd.
  static_cast<Impl*>(clientp)->RemoveSocket(fd);
  return ::close(fd);
}

curl_socket_t HttpClient::Impl::OnOpenSocket(void* clientp,
                                             curlsocktype /*purpose*/,
                                             curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(clientp);
  // Behind a proxy the peer is the operator's proxy: not ours to judge.
  if (t->request.proxy.empty() && IsPrivateSockaddr(&address->addr)) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        address->family == AF_INET6
            ? static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in6*>(&address->addr)
                       ->sin6_addr)
            : static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in*>(&address->addr)
                       ->sin_addr);
    inet_ntop(address->family, raw, text, sizeof text);
    t->blocked = true;
    t->blocked_peer = text;
    return CURL_SOCKET_BAD;  // curl fails the connect; Complete() names it
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

int HttpClient::Impl::OnPrereq(void* clientp, char* primary_ip,
                               char* /*local_ip*/, int /*primary_port*/,
                               int /*local_port*/) {
  auto* t = static_cast<Transfer*>(clientp);
  std::string peer;
  if (t->request.proxy.empty()) {
    peer = primary_ip != nullptr ? primary_ip : "";
  } else {
    // The proxy resolves names; we can still refuse a literal private IP
    // or localhost in the URL being requested (redirect hops included).
    char* effective = nullptr;
    curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &effective);
    std::string host = HostKeyOf(effective != nullptr ? effective : "");
    if (host == "localhost" || host.ends_with(".localhost")) {
      peer = host;
    } else {
      in_addr v4{};
      in6_addr v6{};
      if (inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
          inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        peer = host;
      }
    }
    if (peer.empty()) return CURL_PREREQFUNC_OK;
    if (peer != "localhost" && !peer.ends_with(".localhost") &&
        !IsPrivateAddress(peer)) {
      return CURL_PREREQFUNC_OK;
    }
    t->blocked = true;
    t->blocked_peer = peer;
    return CURL_PREREQFUNC_ABORT;
  }
  if (IsPrivateAddress(peer)) {
    t->blocked = true;
    t->blocked_peer = peer;
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

size_t HttpClient::Impl::OnWrite(char* data, size_t size, size_t n,
                                 void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  const size_t bytes = size * n;
  std::string& body = t->response.body;
  if (body.size() + bytes > t->request.max_body_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (body.size() + bytes > body.capacity()) {
    // Grow geometrically but never past the cap: the allocation, not just
    // the size, is what the budget reserved.
    body.reserve(std::min(t->request.max_body_bytes,
                          std::max(2 * body.capacity(), body.size() + bytes)));
  }
  body.append(data, bytes);
  return bytes;
}

size_t HttpClient::Impl::OnHeader(char* data, size_t size, size_t n,
                                  void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  const size_t bytes = size * n;
  std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect or a 1xx): keep only the final one.
    t->response.headers.clear();
    t->current_status = 0;
    auto sp = line.find(' ');
    if (sp != std::string_view::npos) {
      std::string_view code = line.substr(sp + 1, 3);
      std::from_chars(code.data(), code.data() + code.size(),
                      t->current_status);
    }
    if (t->first_status == 0) t->first_status = t->current_status;
    return bytes;
  }
  std::string_view trimmed = Trim(line);
  if (trimmed.empty()) {
    // End of a header block. Reject early on a declared length over the cap,
    // unless this response is a redirect curl is about to follow.
    const bool is_redirect = t->current_status >= 300 &&
                             t->current_status < 400 &&
                             !t->response.Header("location").empty();
    const std::string& length = t->response.Header("content-length");
    if (t->current_status >= 200 && !is_redirect && !length.empty()) {
      uint64_t declared = 0;
      auto [p, ec] = std::from_chars(length.data(),
                                     length.data() + length.size(), declared);
      if (ec == std::errc() && declared > t->request.max_body_bytes) {
        t->too_large = true;
        return 0;
      }
    }
    return bytes;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;  // folded or junk line
  t->response.headers.emplace_back(ToLowerAscii(Trim(line.substr(0, colon))),
                                   std::string(Trim(line.substr(colon + 1))));
  return bytes;
}

// --- Asio side -----------------------------------------------------------

void HttpClient::Impl::WatchSocket(curl_socket_t fd, int what) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) {
    auto w = std::make_shared<Watch>(io_);
    boost::system::error_code ec;
    w->descriptor.assign(fd, ec);
    if (ec) return;  // cannot watch; curl's own timeout will end the transfer
    it = watches_.emplace(fd, std::move(w)).first;
  }
  it->second->want = what & (CURL_POLL_IN | CURL_POLL_OUT);
  Arm(it->second, fd);
}

void HttpClient::Impl::RemoveSocket(curl_socket_t fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  auto w = std::move(it->second);
  watches_.erase(it);
  w->removed = true;
  w->want = 0;
  boost::system::error_code ec;
  w->descriptor.cancel(ec);
  w->descriptor.release();  // deregister; curl closes the fd itself
}

// Asio's epoll reactor is edge-triggered and waits are not speculative, so a
// socket that is already ready (curl left data unread) would never fire.
// A zero-timeout poll() gives us level-triggered semantics.
static bool ReadyNow(int fd, short events) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, 0) > 0 && p.revents != 0;
}

void HttpClient::Impl::Arm(const std::shared_ptr<Watch>& w, curl_socket_t fd) {
  auto arm_one = [&](int bit, bool& pending, short poll_events,
                     asio::posix::descriptor_base::wait_type type) {
    if (!(w->want & bit) || pending) return;
    pending = true;
    auto handler = [this, w, fd, bit,
                    alive = alive_](const boost::system::error_code& ec) {
      if (!*alive) return;
      OnReady(w, fd, bit, ec);
    };
    if (ReadyNow(fd, poll_events)) {
      asio::post(io_, [handler] { handler(boost::system::error_code()); });
    } else {
      w->descriptor.async_wait(type, std::move(handler));
    }
  };
  arm_one(CURL_POLL_IN, w->read_pending, POLLIN,
          asio::posix::descriptor_base::wait_read);
  arm_one(CURL_POLL_OUT, w->write_pending, POLLOUT,
          asio::posix::descriptor_base::wait_write);
}

void HttpClient::Impl::OnReady(const std::shared_ptr<Watch>& w,
                               curl_socket_t fd, int bit,
                               const boost::system::error_code& ec) {
  (bit == CURL_POLL_IN ? w->read_pending : w->write_pending) = false;
  if (w->removed || ec == asio::error::operation_aborted) return;
  if (!(w->want & bit)) return;  // curl no longer cares about this direction
  int mask = bit == CURL_POLL_IN ? CURL_CSELECT_IN : CURL_CSELECT_OUT;
  if (ec) mask |= CURL_CSELECT_ERR;
  SocketAction(fd, mask);
  if (!w->removed && *alive_) Arm(w, fd);
}

void HttpClient::Impl::SocketAction(curl_socket_t fd, int mask) {
  int still_running = 0;
  curl_multi_socket_action(multi_, fd, mask, &still_running);
  DrainCompleted();
}

void HttpClient::Impl::DrainCompleted() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    CURLcode code = msg->data.result;
    Complete(easy, code);
  }
  StartQueued();
}

void HttpClient::Impl::Complete(CURL* easy, CURLcode code) {
  auto it = running_.find(easy);
  if (it == running_.end()) return;
  std::unique_ptr<Transfer> t = std::move(it->second);
  running_.erase(it);
  curl_multi_remove_handle(multi_, easy);

  const std::string& url = t->request.url;
  if (t->blocked) {
    Deliver(std::move(t->done),
            Error(Errc::kBlocked,
                  "blocked: " + t->blocked_peer +
                      " is a private, loopback or link-local address "
                      "(http.allow_private_targets is false): " +
                      url,
                  url));
    return;
  }
  if (t->too_large) {
    Deliver(
        std::move(t->done),
        Error(Errc::kTooLarge,
              "body exceeds max_body_bytes (" +
                  std::to_string(t->request.max_body_bytes) + " bytes): " + url,
              url));
    return;
  }
  if (code == CURLE_ABORTED_BY_CALLBACK && t->request.cancelled &&
      *t->request.cancelled) {
    Deliver(std::move(t->done),
            Error(Errc::kCancelled, "cancelled: " + url, url));
    return;
  }
  if (code != CURLE_OK) {
    std::string text =
        t->error_buffer[0] != '\0' ? t->error_buffer : curl_easy_strerror(code);
    Deliver(std::move(t->done),
            Error(MapCurlCode(code), text + ": " + url, url));
    return;
  }
  HttpResponse& resp = t->response;
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  resp.status = static_cast<int>(status);
  if (t->chain_hops == 0) t->chain_first_status = resp.status;
  if (IsFollowedRedirect(resp.status) && !resp.Header("location").empty()) {
    FollowRedirect(std::move(t));
    return;
  }
  resp.effective_url = url;
  resp.redirect_count = t->chain_hops;
  if (t->chain_hops > 0 && t->chain_first_status >= 300 &&
      t->chain_first_status < 400) {
    resp.first_redirect_status = t->chain_first_status;
  }
  resp.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      Clock::now() - t->chain_started);
  if ((resp.status == 429 || resp.status == 503) &&
      options_.max_host_throttle.count() > 0) {
    ThrottleHost(t->request.url, resp.Header("retry-after"));
  }
  if (t->budget) {
    // The reservation shrinks to what the body occupies; that part travels
    // with the response until its consumer lets go of it.
    const size_t held = std::min(t->reserved, resp.body.capacity());
    resp.body_budget = BodyLease(t->budget, held);
    t->budget->Release(t->reserved - held);
    t->reserved = 0;
  }
  Deliver(std::move(t->done), std::move(resp));
}

void HttpClient::Impl::FollowRedirect(std::unique_ptr<Transfer> t) {
  const std::string from = t->request.url;
  const std::string location = t->response.Header("location");
  if (t->chain_hops + 1 > t->request.max_redirects) {
    Deliver(std::move(t->done),
            Error(Errc::kTooManyRedirects,
                  "more than " + std::to_string(t->request.max_redirects) +
                      " redirects: " + t->chain_first_url,
                  from));
    return;
  }
  Result<Url> next = Url::Parse(location, from);
  if (!next || !next->IsHttp()) {
    Deliver(std::move(t->done),
            Error(Errc::kInvalidArgument,
                  "redirect to a location that is not http(s): " +
                      RedactUrl(location) + " from " + from,
                  from));
    return;
  }
  auto hop = std::make_unique<Transfer>();
  hop->impl = this;
  hop->request = std::move(t->request);
  hop->request.url = next->href();
  hop->done = std::move(t->done);
  hop->chain_first_url = std::move(t->chain_first_url);
  hop->chain_started = t->chain_started;
  hop->chain_active = t->chain_active + (Clock::now() - t->started);
  hop->chain_hops = t->chain_hops + 1;
  hop->chain_first_status = t->chain_first_status;
  Result<Url> first = Url::Parse(hop->chain_first_url);
  // Credentials (configured headers, Cookie, Authorization) belong to the
  // origin the caller asked for; a hop to another scheme, host or port
  // goes without them.
  if (!first || !SameOrigin(*first, *next)) {
    hop->request.headers.clear();
    hop->request.cookie.clear();
  }
  // Only the host the operator configured may be private: a hop that
  // leaves it is guarded like a page link (after DNS, on connect, on reuse).
  if (!first || first->HostKey() != next->HostKey()) {
    hop->request.allow_private_targets =
        hop->request.allow_private_redirect_targets;
  }
  Admit(std::move(hop));
}

void HttpClient::Impl::ThrottleHost(const std::string& url,
                                    const std::string& retry_after) {
  if (retry_after.empty()) return;
  int64_t seconds = -1;
  auto [p, ec] = std::from_chars(
      retry_after.data(), retry_after.data() + retry_after.size(), seconds);
  if (ec != std::errc() || p != retry_after.data() + retry_after.size()) {
    const time_t when = curl_getdate(retry_after.c_str(), nullptr);
    if (when < 0) return;
    seconds =
        static_cast<int64_t>(when) - static_cast<int64_t>(::time(nullptr));
  }
  if (seconds <= 0) return;
  seconds = std::min<int64_t>(seconds, options_.max_host_throttle.count());
  // The server asked the whole host to slow down, not one URL.
  Clock::time_point& next = next_host_start_[HostKeyOf(url)];
  next = std::max(next, Clock::now() + std::chrono::seconds(seconds));
}

// --- public shell ----------------------------------------------------------

HttpClient::HttpClient(boost::asio::io_context& io, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

HttpClient::~HttpClient() = default;

void HttpClient::Fetch(HttpRequest request, FetchCallback done) {
  impl_->Fetch(std::move(request), std::move(done));
}

void HttpClient::CancelAll() { impl_->CancelAll(); }

size_t HttpClient::Active() const { return impl_->Active(); }

size_t HttpClient::BodyBytesInFlight() const {
  return impl_->BodyBytesInFlight();
}

}  // namespace newsflow
