#pragma once

// Blocking HTTP probes of a daemon's metrics endpoint (/metrics, /healthz,
// /readyz) for integration tests: one GET per connection, POSIX sockets, no
// dependency on the code under test.

#include <cstdint>
#include <optional>
#include <string>

namespace newsflow::testing {

struct HttpResult {
  int status = 0;  // 0 when the connection failed
  std::string body;
};

// One GET of http://127.0.0.1:`port``path` (Connection: close, 5 s receive
// timeout).
HttpResult HttpGet(uint16_t port, const std::string& path);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to 0 and
// closed), for a daemon's metrics.listen.
uint16_t FreeLoopbackPort();

// The value of the sample `series` in a Prometheus text exposition: the
// metric name with its labels exactly as exposed, e.g.
// "newsflow_articles_in_flight" or "newsflow_feed_up{feed=\"a\"}"; nullopt when
// absent.
std::optional<double> PrometheusValue(const std::string& exposition,
                                      const std::string& series);

}  // namespace newsflow::testing
