#include "tests/testing/schema_check.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

namespace newsflow::testing {

std::string ArticleSchemaErrors(const std::string& json_text) {
  static const valijson::Schema* schema = [] {
    std::ifstream in(std::string(NEWSFLOW_SOURCE_DIR) +
                     "/docs/article.schema.json");
    auto doc = new nlohmann::json(nlohmann::json::parse(in));
    auto* s = new valijson::Schema;
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(*doc);
    parser.populateSchema(adapter, *s);
    return s;
  }();
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(json_text);
  } catch (const std::exception& e) {
    return std::string("not JSON: ") + e.what();
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(value);
  if (validator.validate(*schema, adapter, &results)) return "";
  std::ostringstream out;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    std::string path;
    for (const auto& p : error.context) path += p;
    out << path << ": " << error.description << "\n";
  }
  return out.str();
}

}  // namespace newsflow::testing
