#include "daemon/runtime/metrics_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>

#include "daemon/core/logging.h"
#include "daemon/core/metrics.h"

namespace newsflow {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Shared by the server object and its coroutines, so that a coroutine that
// wakes up after Stop() (with operation_aborted) still has valid state.
struct MetricsServer::State {
  State(asio::io_context& io, MetricsRegistry& r, MetricsServerProbes p)
      : acceptor(io), registry(r), probes(std::move(p)) {}
  tcp::acceptor acceptor;
  MetricsRegistry& registry;
  MetricsServerProbes probes;
  std::list<std::weak_ptr<beast::tcp_stream>> connections;
  bool stopped = false;
  uint16_t port = 0;
  std::shared_ptr<spdlog::logger> log = GetLogger("metrics");
};

namespace {

// Idle keep-alive connections and slow clients are cut after this.
constexpr auto kIoTimeout = std::chrono::seconds(30);
// Scrape requests are tiny; anything bigger is not a scraper.
constexpr size_t kMaxRequestBytes = 16 * 1024;
// Connections served at once; further clients wait in the listen backlog
// until one closes (scrapers open one or two).
constexpr size_t kMaxConnections = 64;
// After a failed accept (EMFILE, ENFILE, ENOBUFS, ...) the loop sleeps,
// doubling from the first to the last value, instead of spinning on a
// listening socket that stays readable.
constexpr auto kAcceptBackoffMin = std::chrono::milliseconds(50);
constexpr auto kAcceptBackoffMax = std::chrono::seconds(2);
// At most one "accept failed" log line per this period (with a count).
constexpr auto kAcceptLogEvery = std::chrono::seconds(10);

http::response<http::string_body> Respond(
    MetricsServer::State& s, const http::request<http::string_body>& req) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "newsflowd");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "method not allowed\n";
  } else if (path == "/metrics") {
    if (s.probes.collect) s.probes.collect();
    res.result(http::status::ok);
    res.set(http::field::content_type,
            "text/plain; version=0.0.4; charset=utf-8");
    res.body() = s.registry.RenderPrometheus();
    if (s.probes.extra) res.body() += s.probes.extra();
  } else if (path == "/healthz") {
    // Answering at all proves the event loop turns: this runs on it.
    const bool live = !s.probes.live || s.probes.live();
    res.result(live ? http::status::ok : http::status::service_unavailable);
    res.body() = live ? "ok\n" : "event loop stalled\n";
  } else if (path == "/readyz") {
    std::optional<std::string> problem;
    if (s.probes.ready) problem = s.probes.ready();
    res.result(problem ? http::status::service_unavailable : http::status::ok);
    res.body() = problem ? "not ready: " + *problem + "\n" : "ready\n";
  } else {
    res.result(http::status::not_found);
    res.body() = "not found; try /metrics, /healthz or /readyz\n";
  }
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();
  return res;
}

asio::awaitable<void> Serve(std::shared_ptr<MetricsServer::State> s,
                            std::shared_ptr<beast::tcp_stream> stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBytes);
    parser.header_limit(kMaxRequestBytes);
    stream->expires_after(kIoTimeout);
    auto [rec, n] = co_await http::async_read(
        *stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (rec || s->stopped) break;  // closed, timed out, malformed or stopping
    auto res = Respond(*s, parser.get());
    const bool keep = res.keep_alive();
    stream->expires_after(kIoTimeout);
    auto [wec, m] = co_await http::async_write(
        *stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !keep || s->stopped) break;
  }
  beast::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream->close();
}

size_t LiveConnections(MetricsServer::State& s) {
  std::erase_if(s.connections, [](const auto& w) { return w.expired(); });
  return s.connections.size();
}

asio::awaitable<void> Accept(std::shared_ptr<MetricsServer::State> s) {
  asio::steady_timer pause(s->acceptor.get_executor());
  std::chrono::milliseconds backoff = kAcceptBackoffMin;
  auto last_log = std::chrono::steady_clock::time_point{};
  size_t failures_since_log = 0;
  while (!s->stopped) {
    if (LiveConnections(*s) >= kMaxConnections) {
      // Connection cap: let the open ones finish before taking more.
      pause.expires_after(kAcceptBackoffMin);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    auto [ec, socket] =
        co_await s->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (s->stopped) break;
    if (ec) {
      // EMFILE and friends: the pending connection stays in the backlog and
      // the socket stays readable, so retrying at once spins a core. Keep
      // serving, but back off and log at a bounded rate.
      ++failures_since_log;
      const auto now = std::chrono::steady_clock::now();
      if (now - last_log >= kAcceptLogEvery) {
        s->log->warn(
            "Accept failed; backing off. error={} failures={} backoff_ms={}",
            ec.message(), failures_since_log, backoff.count());
        last_log = now;
        failures_since_log = 0;
      }
      pause.expires_after(backoff);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      backoff =
          std::min<std::chrono::milliseconds>(backoff * 2, kAcceptBackoffMax);
      continue;
    }
    backoff = kAcceptBackoffMin;
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    s->connections.push_back(stream);
    asio::co_spawn(s->acceptor.get_executor(), Serve(s, stream),
                   asio::detached);
  }
}

Result<tcp::endpoint> Resolve(asio::io_context& io, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Error::Config("invalid listen address \"" + listen + "\"",
                         "metrics.listen");
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto results = resolver.resolve(
      host, port, tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Error::Io("cannot resolve \"" + listen + "\": " + ec.message(),
                     "metrics.listen");
  }
  return results.begin()->endpoint();
}

}  // namespace

MetricsServer::MetricsServer(std::shared_ptr<State> state)
    : state_(std::move(state)) {}

MetricsServer::~MetricsServer() { Stop(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    asio::io_context& io, const std::string& listen, MetricsRegistry& registry,
    MetricsServerProbes probes) {
  auto endpoint = Resolve(io, listen);
  if (!endpoint) return endpoint.error();
  auto s = std::make_shared<State>(io, registry, std::move(probes));
  beast::error_code ec;
  s->acceptor.open(endpoint->protocol(), ec);
  if (!ec) s->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s->acceptor.bind(*endpoint, ec);
  if (!ec) s->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error::Io("cannot listen on " + listen + ": " + ec.message(),
                     "metrics.listen");
  }
  s->port = s->acceptor.local_endpoint(ec).port();
  asio::co_spawn(io, Accept(s), asio::detached);
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(s)));
}

uint16_t MetricsServer::port() const { return state_->port; }

void MetricsServer::Stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto& weak : state_->connections) {
    if (auto stream = weak.lock()) stream->socket().close(ignored);
  }
  state_->connections.clear();
}

}  // namespace newsflow
