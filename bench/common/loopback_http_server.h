#pragma once

// ServeLoopbackHttp: the benchmarks' HTTP/1.1 server (bench/fetch,
// bench/memory, bench/pipeline). One epoll thread, keep-alive, every answer
// built in memory by the caller's responder, so the server costs little of
// the two cores the measured tools share. Not a product component: it trusts
// its clients (no limits on request size or connection count).

#include <functional>
#include <string>

namespace newsflow::bench {

// What the responder answers to one request.
struct LoopbackReply {
  std::string bytes;  // the whole response: status line, headers, body
  bool slow = false;  // send it 4 KB per write, 50 ms apart (a slow peer)
};

// `request` is the request head up to and including the blank line.
// Called on the server's thread.
using LoopbackResponder = std::function<LoopbackReply(const std::string&)>;

struct LoopbackServerOptions {
  // 0.0.0.0 (every 127.x.y.z reaches it: one host name per feed without
  // DNS) instead of 127.0.0.1.
  bool listen_any = false;
  // Where the chosen ephemeral port is written (atomically, "PORT\n").
  std::string port_file;
};

// Serves until the process ends. Returns 1 only when it cannot listen.
int ServeLoopbackHttp(const LoopbackServerOptions& options,
                      const LoopbackResponder& respond);

// The value of header `name` (case-insensitive) in a request head, or "".
std::string RequestHeader(const std::string& request, const char* name);

}  // namespace newsflow::bench
