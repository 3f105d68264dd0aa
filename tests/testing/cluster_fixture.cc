#include "tests/testing/cluster_fixture.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/testing/http_probe.h"

namespace newsflow::testing {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

// Deterministic prose of about `bytes` bytes for item `item` of `feed`.
std::string ItemText(int feed, int item, size_t bytes) {
  static const char* kWords[] = {
      "council", "harbour", "minister", "river",  "market", "station",
      "budget",  "weather", "school",   "bridge", "report", "village",
      "trade",   "season",  "court",    "energy", "museum", "hospital"};
  std::string text;
  unsigned state = static_cast<unsigned>(feed * 7919 + item * 104729 + 1);
  int sentence = 0;
  while (text.size() < bytes) {
    text += "The ";
    for (int w = 0; w < 10; ++w) {
      state = state * 1103515245u + 12345u;
      text += kWords[(state >> 16) % 18];
      text += ' ';
    }
    text += "said feed " + std::to_string(feed) + " story " +
            std::to_string(item) + " line " + std::to_string(sentence++) + ". ";
  }
  return text;
}

// RFC 822 date of item `item`: one minute apart from 2025-10-06 10:00 UTC.
std::string PubDate(int item) {
  const std::time_t t = 1759744800 + static_cast<std::time_t>(item) * 60;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// Runs a shell command; returns the last non-empty line of its stdout.
std::string ShellLastLine(const std::string& cmd) {
  std::string last;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) {
      std::string line(buf);
      while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) {
        line.pop_back();
      }
      if (!line.empty()) last = line;
    }
    ::pclose(p);
  }
  return last;
}

}  // namespace

bool WaitFor(const std::function<bool()>& done, milliseconds timeout,
             milliseconds step) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

// --- ClusterNewsSite ---------------------------------------------------------

ClusterNewsSite::ClusterNewsSite(NewsSiteOptions options)
    : options_(options), items_(options.feeds, options.initial_items) {
  server_ = std::make_unique<LoopbackHttpServer>(
      [this](const TestRequest& req) { return Serve(req); });
}

std::string ClusterFeedName(int feed, int feeds) {
  const int width = feeds > 100 ? 3 : 2;
  std::string digits = std::to_string(feed);
  if (static_cast<int>(digits.size()) < width) {
    digits.insert(0, width - digits.size(), '0');
  }
  return "f" + digits;
}

std::string ClusterFeedUrl(int feed, int feeds) {
  return "http://" + ClusterFeedName(feed, feeds) + ".cluster.test/rss.xml";
}

std::string ClusterNewsSite::FeedName(int feed) const {
  return ClusterFeedName(feed, options_.feeds);
}

std::string ClusterNewsSite::FeedUrl(int feed) const {
  return ClusterFeedUrl(feed, options_.feeds);
}

int ClusterNewsSite::FeedIndex(const std::string& name) const {
  if (name.size() < 2 || name[0] != 'f') return -1;
  int index = 0;
  for (size_t i = 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    index = index * 10 + (name[i] - '0');
  }
  if (index >= options_.feeds || FeedName(index) != name) return -1;
  return index;
}

std::string ClusterNewsSite::Title(int feed, int item) const {
  return FeedName(feed) + " item " + std::to_string(item);
}

void ClusterNewsSite::AddItem(int feed) {
  std::lock_guard lock(mu_);
  ++items_.at(feed);
}

void ClusterNewsSite::AddItemToEveryFeed() {
  std::lock_guard lock(mu_);
  for (int& n : items_) ++n;
}

std::vector<FeedFetch> ClusterNewsSite::Fetches(SteadyTime since) const {
  std::lock_guard lock(mu_);
  std::vector<FeedFetch> out;
  for (const auto& f : fetches_) {
    if (f.at >= since) out.push_back(f);
  }
  return out;
}

std::set<std::string> ClusterNewsSite::ServedTitles() const {
  std::lock_guard lock(mu_);
  return served_titles_;
}

size_t ClusterNewsSite::ItemCount() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (int i : items_) n += static_cast<size_t>(i);
  return n;
}

TestResponse ClusterNewsSite::Serve(const TestRequest& req) {
  TestResponse resp;
  // Host "f07.cluster.test" (absolute-form target through the proxy).
  const std::string host = req.host.substr(0, req.host.find(':'));
  const int feed = FeedIndex(host.substr(0, host.find('.')));
  if (feed < 0 || req.path != "/rss.xml" ||
      host.substr(host.find('.')) != ".cluster.test") {
    resp.status = 404;
    return resp;
  }
  std::lock_guard lock(mu_);
  const int count = items_[feed];
  // Validators: the item count names the document; 304 when presented.
  const std::string etag =
      "\"" + FeedName(feed) + "-" + std::to_string(count) + "\"";
  FeedFetch fetch{feed, req.Header("user-agent"), SteadyClock::now(), 200};
  resp.headers.emplace_back("ETag", etag);
  if (req.Header("if-none-match") == etag) {
    fetch.status = 304;
    fetches_.push_back(std::move(fetch));
    resp.status = 304;
    return resp;
  }
  fetches_.push_back(std::move(fetch));
  std::ostringstream x;
  const std::string name = FeedName(feed);
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<rss version=\"2.0\"><channel><title>Feed " << name << "</title>"
    << "<link>http://" << name << ".cluster.test/</link>"
    << "<description>cluster test feed</description>\n";
  for (int i = count - 1; i >= 0 && i >= count - options_.window; --i) {
    served_titles_.insert(Title(feed, i));
    x << "<item><title>" << Title(feed, i) << "</title>"
      << "<link>http://" << name << ".cluster.test/items/" << i << "</link>"
      << "<guid isPermaLink=\"false\">" << name << "-" << i << "</guid>"
      << "<pubDate>" << PubDate(i) << "</pubDate>"
      << "<description>" << ItemText(feed, i, options_.text_bytes)
      << "</description></item>\n";
  }
  x << "</channel></rss>\n";
  resp.headers.emplace_back("Content-Type", "application/rss+xml");
  resp.body = x.str();
  return resp;
}

std::map<int, std::set<std::string>> AgentsByFeed(
    const std::vector<FeedFetch>& fetches) {
  std::map<int, std::set<std::string>> out;
  for (const auto& f : fetches) out[f.feed].insert(f.agent);
  return out;
}

std::map<std::string, std::set<int>> FeedsByAgent(
    const std::vector<FeedFetch>& fetches) {
  std::map<std::string, std::set<int>> out;
  for (const auto& f : fetches) out[f.agent].insert(f.feed);
  return out;
}

// --- ClusterNode -------------------------------------------------------------

ClusterNode::ClusterNode(ClusterNodeOptions options)
    : options_(std::move(options)) {
  fs::create_directories(options_.dir);
  config_path_ = (fs::path(options_.dir) / "newsflow.yaml").string();
  log_path_ = (fs::path(options_.dir) / "daemon.log").string();
  metrics_port_ = FreeLoopbackPort();
  std::ofstream out(config_path_);
  out << "kafka:\n"
      << "  brokers: \"" << options_.brokers << "\"\n"
      << "  topic: " << options_.topic << "\n"
      << "  librdkafka: { linger.ms: \"5\" }\n"
      << "state:\n"
      << "  path: " << (fs::path(options_.dir) / "state.db").string()
      << "\n"
      // A port of our own: several daemons run on this host.
      << "metrics:\n"
      << "  listen: \"127.0.0.1:" << metrics_port_ << "\"\n"
      << "http:\n"
      << "  user_agent: \"" << agent() << "\"\n"
      << "  proxy: \"" << options_.proxy << "\"\n"
      << "  min_host_interval: 0s\n"
      << "scheduler:\n"
      << "  min_interval: 1s\n"
      << "pipeline:\n"
      << "  drain_timeout: " << options_.drain_timeout << "\n"
      << "log:\n"
      << "  level: " << options_.log_level << "\n"
      << "sinks: [kafka]\n";
  if (options_.cluster) {
    out << "cluster:\n"
        << "  group: " << options_.group << "\n"
        << "  exactly_once: " << (options_.exactly_once ? "true" : "false")
        << "\n"
        << "  instance: " << agent() << "\n"
        << "  session_timeout: " << options_.session_timeout << "\n"
        << "  commit_interval: " << options_.commit_interval << "\n";
  }
  out << "defaults:\n"
      << "  full_article: never\n"
      << "  interval: " << options_.poll_interval << "\n"
      << "feeds:\n";
  for (int i = 0; i < options_.feeds; ++i) {
    out << "  - name: " << ClusterFeedName(i, options_.feeds) << "\n"
        << "    url: " << ClusterFeedUrl(i, options_.feeds) << "\n"
        << "    interval: " << options_.poll_interval << "\n";
  }
}

ClusterNode::~ClusterNode() = default;  // ~DaemonProcess kills and reaps

void ClusterNode::Start() {
  process_ = std::make_unique<DaemonProcess>(
      std::vector<std::string>{"run", "--config", config_path_}, log_path_);
}

void ClusterNode::Kill() {
  if (process_ == nullptr) return;
  process_->Signal(SIGKILL);
  (void)process_->Wait(std::chrono::seconds(30));
  process_.reset();
}

void ClusterNode::Terminate() {
  if (process_ != nullptr) process_->Signal(SIGTERM);
}

std::optional<int> ClusterNode::Wait(milliseconds timeout) {
  if (process_ == nullptr) return std::nullopt;
  auto code = process_->Wait(timeout);
  if (code) process_.reset();
  return code;
}

std::optional<int> ClusterNode::Stop(milliseconds timeout) {
  Terminate();
  auto code = Wait(timeout);
  if (!code) Kill();
  return code;
}

pid_t ClusterNode::pid() const {
  return process_ != nullptr ? process_->pid() : -1;
}

bool ClusterNode::Alive() const {
  if (process_ == nullptr) return false;
  std::ifstream stat("/proc/" + std::to_string(process_->pid()) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  // "pid (comm) S ...": the state follows the last ')'.
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() &&
         line[paren + 2] != 'Z' && line[paren + 2] != 'X';
}

double ClusterNode::Metric(const std::string& series) const {
  if (process_ == nullptr) return -1;
  auto scraped = HttpGet(metrics_port_, "/metrics");
  if (scraped.status != 200) return -1;
  return PrometheusValue(scraped.body, series).value_or(-1);
}

std::string ClusterNode::Log() const {
  std::ifstream in(log_path_);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string OwnershipSnapshot::ToString() const {
  std::string s = stable ? "stable:" : "not stable:";
  for (double v : owned) s += " " + std::to_string(static_cast<int>(v));
  if (!exited.empty()) s += "; daemon " + exited + " exited";
  return s;
}

OwnershipSnapshot WaitForStableOwnership(
    const std::vector<const ClusterNode*>& nodes, int feeds, milliseconds quiet,
    milliseconds timeout) {
  OwnershipSnapshot snap;
  std::vector<double> last;
  SteadyTime since = SteadyClock::now();
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    std::vector<double> now;
    double sum = 0;
    bool all_positive = true;
    for (const auto* n : nodes) {
      if (!n->Alive()) {
        snap.exited = n->agent();
        return snap;
      }
      now.push_back(n->FeedsOwned());
      sum += now.back();
      all_positive = all_positive && now.back() > 0;
    }
    const bool complete = all_positive && sum == feeds;
    if (now != last || !complete) since = SteadyClock::now();
    last = now;
    snap.owned = now;
    if (complete && SteadyClock::now() - since >= quiet) {
      snap.stable = true;
      return snap;
    }
    if (SteadyClock::now() >= deadline) return snap;
    std::this_thread::sleep_for(milliseconds(250));
  }
}

// --- Articles ----------------------------------------------------------------

Result<std::vector<TopicArticle>> ReadArticles(const std::string& bootstrap,
                                               const std::string& topic,
                                               Isolation isolation,
                                               milliseconds timeout) {
  auto messages = ConsumeToEnd(bootstrap, topic, isolation, timeout);
  if (!messages) return messages.error();
  std::vector<TopicArticle> out;
  for (const auto& m : *messages) {
    TopicArticle a;
    a.partition = m.partition;
    a.offset = m.offset;
    auto v = nlohmann::json::parse(m.value, nullptr, false);
    if (v.is_discarded() || !v.is_object()) {
      return Error(Errc::kSink, "a message that is not article JSON",
                   topic + "/" + std::to_string(m.partition) + "@" +
                       std::to_string(m.offset));
    }
    a.id = v.value("id", "");
    a.content_hash = v.value("content_hash", "");
    a.title = v.value("title", "");
    a.event = v.value("event", "");
    out.push_back(std::move(a));
  }
  return out;
}

ArticleTally Tally(const std::vector<TopicArticle>& articles) {
  ArticleTally t;
  for (const auto& a : articles) {
    ++t.copies[{a.id, a.content_hash}];
    t.titles.insert(a.title);
    ++t.messages;
  }
  return t;
}

size_t ArticleTally::DuplicateCount() const {
  size_t n = 0;
  for (const auto& [key, count] : copies) n += count > 1 ? count - 1 : 0;
  return n;
}

std::string ArticleTally::Duplicates() const {
  std::string s;
  int shown = 0;
  for (const auto& [key, count] : copies) {
    if (count <= 1) continue;
    if (++shown > 20) break;
    s += key.first + "/" + key.second.substr(0, 12) + " x" +
         std::to_string(count) + "\n";
  }
  return s;
}

std::string MissingTitles(const std::set<std::string>& want,
                          const std::set<std::string>& have) {
  std::vector<std::string> missing;
  std::set_difference(want.begin(), want.end(), have.begin(), have.end(),
                      std::back_inserter(missing));
  std::string s;
  for (size_t i = 0; i < missing.size() && i < 15; ++i) {
    s += (i ? ", " : "") + missing[i];
  }
  if (missing.size() > 15) s += ", ...";
  return s + " (" + std::to_string(missing.size()) + " missing)";
}

}  // namespace newsflow::testing
