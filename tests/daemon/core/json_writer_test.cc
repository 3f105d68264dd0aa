#include "daemon/core/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace newsflow {
namespace {

TEST(JsonWriterTest, WritesNestedContainersWithCommas) {
  JsonWriter w;
  w.BeginObject();
  w.Field("a", int64_t{1});
  w.Key("b").BeginArray().String("x").Int(2).Null().Bool(true).EndArray();
  w.Key("c").BeginObject().EndObject();
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":["x",2,null,true],"c":{}})");
}

TEST(JsonWriterTest, EscapesControlCharactersAndQuotes) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\x01", 7));
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001")");
}

TEST(JsonWriterTest, ReplacesInvalidUtf8SoOutputAlwaysParses) {
  std::string out;
  AppendJsonString(out, "caf\xC3\xA9 \xFF\xC3 \xED\xA0\x80 \xF0\x9F\x98\x80");
  auto parsed = nlohmann::json::parse(out);  // throws on invalid output
  EXPECT_EQ(parsed.get<std::string>(),
            "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD "
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xF0\x9F\x98\x80");
}

TEST(JsonWriterTest, StringOrNullWritesNullForEmpty) {
  JsonWriter w;
  w.BeginArray().StringOrNull("").StringOrNull("x").EndArray();
  EXPECT_EQ(w.str(), R"([null,"x"])");
}

}  // namespace
}  // namespace newsflow
