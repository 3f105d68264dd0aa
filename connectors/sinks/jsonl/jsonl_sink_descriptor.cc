#include "connectors/sinks/jsonl/jsonl_sink_descriptor.h"

#include "config/yaml_fields.h"
#include "connectors/sinks/jsonl/jsonl_sink.h"

namespace newsflow {
namespace {

Result<std::shared_ptr<const SinkSettings>> Parse(
    const yaml_fields::SinkYaml& yaml) {
  auto settings = std::make_shared<JsonlSinkSettings>();
  const YAML::Node node = yaml.Get("jsonl_path");
  if (node.IsDefined() && !node.IsNull()) {
    auto path = yaml_fields::ReadString(yaml.src, node, "jsonl_path");
    if (!path) return path.error();
    settings->options.path = std::move(*path);
  }
  return std::shared_ptr<const SinkSettings>(std::move(settings));
}

Result<std::unique_ptr<Sink>> Create(boost::asio::io_context& io,
                                     const SinkSettings& settings) {
  auto sink = JsonlSink::Create(
      io, static_cast<const JsonlSinkSettings&>(settings).options);
  if (!sink) return sink.error();
  return std::unique_ptr<Sink>(std::move(*sink));
}

}  // namespace

std::vector<std::string> JsonlSinkSettings::ChangedPaths(
    const SinkSettings& other) const {
  const auto& o = static_cast<const JsonlSinkSettings&>(other).options;
  if (o == options) return {};
  return {"jsonl_path"};
}

SinkDescriptor JsonlSinkDescriptor() {
  SinkDescriptor d;
  d.type = "jsonl";
  d.keys = {"jsonl_path"};
  d.parse = Parse;
  d.check_enabled =
      [](const SinkSettings& settings) -> std::optional<std::string> {
    if (!static_cast<const JsonlSinkSettings&>(settings).options.path.empty()) {
      return std::nullopt;
    }
    return "needs jsonl_path (a file, or \"-\" for stdout)";
  };
  d.create = Create;
  d.fields = {{"jsonl_path", ReloadClass::kRestart, "",
               "JSON lines output file of the jsonl sink; - = stdout"}};
  d.known_paths = [] { return std::vector<std::string>{"jsonl_path"}; };
  return d;
}

}  // namespace newsflow
