#include "daemon/cli/commands.h"

#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "config/config.h"
#include "connectors/builtin.h"
#include "connectors/sources/feed/feed_parser.h"
#include "daemon/cleaner/html_cleaner.h"
#include "daemon/core/json_writer.h"
#include "daemon/core/logging.h"
#include "daemon/runtime/daemon.h"

#ifndef NEWSFLOW_VERSION
#define NEWSFLOW_VERSION "0.0.0"
#endif

namespace newsflow {
namespace {

constexpr char kUsage[] =
    "usage: newsflowd <command> [options]\n"
    "\n"
    "commands:\n"
    "  run [--config FILE] [--once]   run the daemon (default config\n"
    "                                 /etc/newsflow/newsflow.yaml); --once "
    "polls\n"
    "                                 every feed once, drains and exits\n"
    "  check-config FILE              validate a config; errors as "
    "FILE:LINE:COL\n"
    "  fetch URL [--full-article] [--config FILE] [--proxy URL]\n"
    "                                 fetch, parse and clean a feed once; "
    "print the\n"
    "                                 articles as JSON lines\n"
    "  parse FILE [--url URL] [--content-type CT]\n"
    "                                 print the parser's view of a feed file "
    "as JSON\n"
    "  extract FILE... [--url URL] [--content-type CT] [--jsonl]\n"
    "                                 extract the article text of pages (.html "
    "or\n"
    "                                 .html.gz); --jsonl prints one object per "
    "file\n"
    "  cluster status [--config FILE]  cluster mode: which instance owns "
    "which feed\n"
    "  --version, --help; COMMAND --help for a command's options\n"
    "\n"
    "signals (run):\n"
    "  SIGHUP          reload the config: added feeds start, removed feeds "
    "stop\n"
    "                  after their in-flight work, changed feeds restart; a "
    "bad\n"
    "                  file is rejected and the running config stays\n"
    "  SIGTERM/SIGINT  stop polling, drain in-flight articles to the sinks (up "
    "to\n"
    "                  pipeline.drain_timeout), exit 0\n"
    "\n"
    "endpoints (metrics.listen, default 127.0.0.1:9464):\n"
    "  /metrics (Prometheus), /healthz (event loop alive), /readyz (started "
    "and\n"
    "  sink healthy; 503 with the reason otherwise)\n"
    "\n"
    "files: /etc/newsflow/newsflow.yaml (config; include: conf.d/*.yaml, "
    "opml:),\n"
    "  /var/lib/newsflow/state.db (state). Under systemd: sd_notify "
    "READY/STATUS/\n"
    "  WATCHDOG/RELOADING/STOPPING and logs to the journal. See newsflowd(8) "
    "and\n"
    "  the operator guide.\n"
    "\n"
    "exit codes: 0 ok, 1 bad input or config, 2 usage, 3 internal error\n";

// `newsflowd COMMAND --help`: the command's own synopsis (stdout, exit 0).
struct CommandHelp {
  const char* command;
  const char* text;
};
constexpr CommandHelp kCommandHelp[] = {
    {"run",
     "usage: newsflowd run [--config FILE] [--once]\n"
     "\n"
     "Run the daemon with the configuration FILE (default\n"
     "/etc/newsflow/newsflow.yaml; see newsflow.yaml(5)).\n"
     "  --config FILE  the configuration file\n"
     "  --once         poll every feed once, drain and exit (1 if a feed "
     "failed)\n"
     "SIGHUP reloads the file, SIGTERM drains and exits 0. Under systemd:\n"
     "sd_notify READY/STATUS/WATCHDOG/RELOADING/STOPPING, logs to the "
     "journal.\n"},
    {"check-config",
     "usage: newsflowd check-config FILE\n"
     "\n"
     "Validate FILE and the files it includes. Prints \"FILE: ok (N feeds)\"\n"
     "and exits 0, or prints FILE:LINE:COL: message and exits 1.\n"},
    {"fetch",
     "usage: newsflowd fetch URL [--full-article] [--config FILE] [--proxy "
     "URL]\n"
     "\n"
     "Fetch, parse and clean the feed at URL once and print its articles as\n"
     "JSON lines (no state, no sink).\n"
     "  --full-article  fetch every item's page\n"
     "  --config FILE   take http settings from FILE\n"
     "  --proxy URL     fetch through this proxy\n"},
    {"parse",
     "usage: newsflowd parse FILE [--url URL] [--content-type CT]\n"
     "\n"
     "Print the parser's view of a feed file as JSON.\n"
     "  --url URL          the feed's URL (resolves relative links)\n"
     "  --content-type CT  the Content-Type it was served with\n"},
    {"extract",
     "usage: newsflowd extract FILE... [--url URL] [--content-type CT] "
     "[--jsonl]\n"
     "\n"
     "Print the article text of saved pages (.html or .html.gz).\n"
     "  --url URL          the page's URL (resolves relative links)\n"
     "  --content-type CT  the Content-Type it was served with (its charset\n"
     "                     is used as the HTTP header's would be)\n"
     "  --jsonl            one JSON object per file (default with several "
     "files)\n"},
    {"cluster",
     "usage: newsflowd cluster status [--config FILE]\n"
     "\n"
     "Cluster mode (docs/cluster.md): ask the group's coordinator which\n"
     "daemon owns which partition and print, per configured feed, its\n"
     "partition and owning instance (\"-\" = unowned), then a summary.\n"
     "Exit 1 with one line when the group cannot be reached.\n"
     "  --config FILE  the configuration file (default\n"
     "                 /etc/newsflow/newsflow.yaml)\n"},
};

// True (and the help printed) when args[1..] asks for COMMAND's help.
bool PrintedCommandHelp(const std::vector<std::string>& args) {
  bool asked = false;
  for (size_t i = 1; i < args.size(); ++i) {
    asked = asked || args[i] == "--help" || args[i] == "-h";
  }
  if (!asked) return false;
  for (const CommandHelp& h : kCommandHelp) {
    if (args[0] == h.command) {
      std::fputs(h.text, stdout);
      return true;
    }
  }
  return false;
}

int Usage(const std::string& problem) {
  std::fprintf(stderr, "newsflowd: %s\n%s", problem.c_str(), kUsage);
  return kExitUsage;
}

int Fail(const std::string& line) {
  std::fprintf(stderr, "newsflowd: %s\n", line.c_str());
  return kExitBadInput;
}

// Reads a whole file; transparently gunzips files that start with the gzip
// magic bytes. Both the file and what it inflates to are capped like HTTP
// bodies (http.max_body_bytes' default): a 1 MiB .gz that inflates to 1 GiB
// is an error, not a bad_alloc.
Result<std::string> ReadInput(const std::string& path) {
  const size_t cap = HttpConfig{}.max_body_bytes;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Errc::kNotFound, "cannot open file", path);
  std::string data;
  char block[1 << 16];
  while (in.read(block, sizeof block) || in.gcount() > 0) {
    data.append(block, static_cast<size_t>(in.gcount()));
    if (data.size() > cap) {
      return Error(Errc::kTooLarge,
                   "file larger than " + std::to_string(cap) + " bytes", path);
    }
  }
  if (data.size() < 2 || static_cast<unsigned char>(data[0]) != 0x1f ||
      static_cast<unsigned char>(data[1]) != 0x8b) {
    return data;
  }
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return Error::Internal("zlib init failed", path);
  }
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(block);
    zs.avail_out = sizeof block;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(block, sizeof block - zs.avail_out);
    if (out.size() > cap) {
      inflateEnd(&zs);
      return Error(Errc::kTooLarge,
                   "gzip data inflates past " + std::to_string(cap) + " bytes",
                   path);
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return Error::Parse(
        "corrupt gzip data (offset " + std::to_string(zs.total_in) + ")", path);
  }
  return out;
}

// Splits args into positionals and --flag / --flag VALUE options.
struct ParsedArgs {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;
  std::string error;
  std::string Get(const std::string& name) const {
    for (const auto& [k, v] : options) {
      if (k == name) return v;
    }
    return "";
  }
  bool Has(const std::string& name) const {
    for (const auto& [k, v] : options) {
      if (k == name) return true;
    }
    return false;
  }
};

ParsedArgs ParseArgs(const std::vector<std::string>& args, size_t from,
                     const std::vector<std::string>& flags,
                     const std::vector<std::string>& valued) {
  ParsedArgs out;
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      out.positional.push_back(a);
      continue;
    }
    std::string name = a, value;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    }
    if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
      out.options.emplace_back(name, "");
    } else if (std::find(valued.begin(), valued.end(), name) != valued.end()) {
      if (value.empty()) {
        if (i + 1 >= args.size()) {
          out.error = name + " needs a value";
          return out;
        }
        value = args[++i];
      }
      out.options.emplace_back(name, value);
    } else {
      out.error = "unknown option " + name;
      return out;
    }
  }
  return out;
}

int CheckConfig(const ParsedArgs& a) {
  if (a.positional.size() != 1) return Usage("check-config takes one FILE");
  auto config = LoadConfigFile(a.positional[0], BuiltinSinks());
  if (!config) {
    // "<3>" under systemd (ExecReload=): `journalctl -p err` finds it.
    std::fprintf(stderr, "%s%s\n", StderrErrorPrefix(),
                 config.error().ToString().c_str());
    return kExitBadInput;
  }
  std::printf("%s: ok (%zu feeds)\n", a.positional[0].c_str(),
              config->feeds.size());
  return kExitOk;
}

int Parse(const ParsedArgs& a) {
  if (a.positional.size() != 1) return Usage("parse takes one FILE");
  auto body = ReadInput(a.positional[0]);
  if (!body) return Fail(body.error().ToString());
  FeedParseOptions options;
  options.document_url = a.Get("--url");
  options.content_type = a.Get("--content-type");
  auto feed = ParseFeed(*body, options);
  if (!feed) return Fail(feed.error().At(a.positional[0]).ToString());
  std::string json = ParsedFeedToJson(*feed);
  json.push_back('\n');
  std::fwrite(json.data(), 1, json.size(), stdout);
  return kExitOk;
}

void WriteExtractedJson(const std::string& file, const ExtractedPage& page) {
  JsonWriter w;
  const PageMetadata& m = page.metadata;
  w.BeginObject();
  w.Field("file", file);
  w.Field("title", m.title);
  w.Field("text", page.content.text);
  w.Field("html", page.content.html);
  w.Key("authors").StringArray(m.authors);
  w.Key("published");
  if (m.published)
    w.String(FormatRfc3339(*m.published));
  else
    w.Null();
  w.Key("canonical_url").StringOrNull(m.canonical_url);
  w.Key("image").StringOrNull(m.image);
  w.Key("site_name").StringOrNull(m.site_name);
  w.Key("language").StringOrNull(m.language);
  w.EndObject();
  std::string line = w.Take();
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
}

int Extract(const ParsedArgs& a) {
  if (a.positional.empty()) return Usage("extract takes at least one FILE");
  const bool jsonl = a.Has("--jsonl") || a.positional.size() > 1;
  CleanOptions options;
  options.base_url = a.Get("--url");
  options.content_type = a.Get("--content-type");
  int rc = kExitOk;
  for (const std::string& file : a.positional) {
    auto body = ReadInput(file);
    if (!body) {
      std::fprintf(stderr, "newsflowd: %s\n", body.error().ToString().c_str());
      rc = kExitBadInput;
      continue;
    }
    ScopedHtmlDiagnostics diagnostics("extract", file);
    ExtractedPage page = ExtractPage(*body, options);
    if (jsonl) {
      WriteExtractedJson(file, page);
    } else {
      std::string text = page.content.text;
      text.push_back('\n');
      std::fwrite(text.data(), 1, text.size(), stdout);
    }
  }
  return rc;
}

}  // namespace

int RunCommandLine(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("missing command");
  const std::string& command = args[0];
  if (command == "--version" || command == "version") {
    std::printf("newsflowd %s\n", NEWSFLOW_VERSION);
    return kExitOk;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (PrintedCommandHelp(args)) return kExitOk;
  if (command == "run") {
    auto a = ParseArgs(args, 1, {"--once"}, {"--config"});
    if (!a.error.empty()) return Usage(a.error);
    if (!a.positional.empty()) return Usage("run takes no positional argument");
    DaemonOptions options;
    if (a.Has("--config")) options.config_path = a.Get("--config");
    options.once = a.Has("--once");
    return Daemon(options).Run();
  }
  if (command == "check-config") {
    auto a = ParseArgs(args, 1, {}, {});
    if (!a.error.empty()) return Usage(a.error);
    return CheckConfig(a);
  }
  if (command == "parse") {
    auto a = ParseArgs(args, 1, {}, {"--url", "--content-type"});
    if (!a.error.empty()) return Usage(a.error);
    return Parse(a);
  }
  if (command == "extract") {
    auto a = ParseArgs(args, 1, {"--jsonl"}, {"--url", "--content-type"});
    if (!a.error.empty()) return Usage(a.error);
    return Extract(a);
  }
  if (command == "fetch") {
    auto a = ParseArgs(args, 1, {"--full-article"}, {"--config", "--proxy"});
    if (!a.error.empty()) return Usage(a.error);
    if (a.positional.size() != 1) return Usage("fetch takes one URL");
    return RunFetchCommand(a.positional[0], a.Has("--full-article"),
                           a.Get("--config"), a.Get("--proxy"));
  }
  if (command == "cluster") {
    auto a = ParseArgs(args, 1, {}, {"--config"});
    if (!a.error.empty()) return Usage(a.error);
    if (a.positional.size() != 1 || a.positional[0] != "status") {
      return Usage("cluster takes one subcommand: status");
    }
    return RunClusterStatusCommand(
        a.Has("--config") ? a.Get("--config") : "/etc/newsflow/newsflow.yaml",
        BuiltinSinks());
  }
  return Usage("unknown command \"" + command + "\"");
}

}  // namespace newsflow
