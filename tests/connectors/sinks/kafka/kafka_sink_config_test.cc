#include "connectors/sinks/kafka/kafka_sink_config.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <boost/asio/io_context.hpp>

#include "connectors/sinks/kafka/kafka_sink.h"

namespace newsflow {
namespace {

std::string Get(rd_kafka_conf_t* conf, const char* key) {
  char buf[512];
  size_t size = sizeof(buf);
  if (rd_kafka_conf_get(conf, key, buf, &size) != RD_KAFKA_CONF_OK) {
    return "<unknown>";
  }
  return buf;
}

TEST(KafkaSinkConfigTest, AppliesOptionsAndDefaults) {
  KafkaSinkOptions options;
  options.brokers = "10.0.0.1:9093,10.0.0.2:9093";
  options.client_id = "nf-unit";
  auto conf = BuildProducerConf(options);
  ASSERT_TRUE(conf) << conf.error().ToString();
  rd_kafka_conf_t* c = conf->get();
  EXPECT_EQ(Get(c, "bootstrap.servers"), "10.0.0.1:9093,10.0.0.2:9093");
  EXPECT_EQ(Get(c, "client.id"), "nf-unit");
  EXPECT_EQ(Get(c, "enable.idempotence"), "true");
  EXPECT_EQ(Get(c, "acks"), "-1");  // librdkafka's spelling of "all"
  EXPECT_EQ(Get(c, "compression.type"), "zstd");
  EXPECT_EQ(Get(c, "linger.ms"), "50");
  EXPECT_EQ(Get(c, "partitioner"), "murmur2_random");
  EXPECT_EQ(Get(c, "message.timeout.ms"), "300000");
}

TEST(KafkaSinkConfigTest, TypedOptionsReachTheConf) {
  KafkaSinkOptions options;
  options.linger_ms = 250;
  options.compression = "lz4";
  options.message_timeout_ms = 1234;
  auto conf = BuildProducerConf(options);
  ASSERT_TRUE(conf) << conf.error().ToString();
  EXPECT_EQ(Get(conf->get(), "linger.ms"), "250");
  EXPECT_EQ(Get(conf->get(), "compression.type"), "lz4");
  EXPECT_EQ(Get(conf->get(), "message.timeout.ms"), "1234");
}

TEST(KafkaSinkConfigTest, PassThroughOverridesEverything) {
  KafkaSinkOptions options;
  options.linger_ms = 250;
  options.librdkafka = {{"linger.ms", "7"},
                        {"compression.type", "gzip"},
                        {"partitioner", "consistent_random"},
                        {"bootstrap.servers", "override:1"},
                        {"message.max.bytes", "4000000"}};
  auto conf = BuildProducerConf(options);
  ASSERT_TRUE(conf) << conf.error().ToString();
  rd_kafka_conf_t* c = conf->get();
  EXPECT_EQ(Get(c, "linger.ms"), "7");
  EXPECT_EQ(Get(c, "compression.type"), "gzip");
  EXPECT_EQ(Get(c, "partitioner"), "consistent_random");
  EXPECT_EQ(Get(c, "bootstrap.servers"), "override:1");
  EXPECT_EQ(Get(c, "message.max.bytes"), "4000000");
  EXPECT_EQ(Get(c, "enable.idempotence"), "true");  // untouched default
}

TEST(KafkaSinkConfigTest, TlsAndSaslPropertiesPassThrough) {
  KafkaSinkOptions options;
  options.librdkafka = {{"security.protocol", "SASL_SSL"},
                        {"sasl.mechanisms", "SCRAM-SHA-512"},
                        {"sasl.username", "newsflow"},
                        {"sasl.password", "secret"},
                        {"ssl.endpoint.identification.algorithm", "https"}};
  auto conf = BuildProducerConf(options);
  ASSERT_TRUE(conf) << conf.error().ToString();
  EXPECT_EQ(Get(conf->get(), "security.protocol"), "sasl_ssl");
  EXPECT_EQ(Get(conf->get(), "sasl.mechanisms"), "SCRAM-SHA-512");
  EXPECT_EQ(Get(conf->get(), "sasl.username"), "newsflow");
  EXPECT_EQ(Get(conf->get(), "ssl.endpoint.identification.algorithm"), "https");
}

TEST(KafkaSinkConfigTest, UnknownPropertyIsAnErrorNamingIt) {
  KafkaSinkOptions options;
  options.librdkafka = {{"no.such.property", "1"}};
  auto conf = BuildProducerConf(options);
  ASSERT_FALSE(conf);
  EXPECT_EQ(conf.error().code(), Errc::kConfig);
  EXPECT_NE(conf.error().ToString().find("no.such.property"), std::string::npos)
      << conf.error().ToString();
}

TEST(KafkaSinkConfigTest, BadValueIsAnErrorNamingTheKey) {
  KafkaSinkOptions options;
  options.librdkafka = {{"acks", "banana"}};
  auto conf = BuildProducerConf(options);
  ASSERT_FALSE(conf);
  EXPECT_EQ(conf.error().code(), Errc::kConfig);
  EXPECT_NE(conf.error().message().find("'acks'"), std::string::npos)
      << conf.error().ToString();
}

TEST(KafkaSinkConfigTest, BadTypedOptionIsAnError) {
  KafkaSinkOptions options;
  options.compression = "rar";
  auto conf = BuildProducerConf(options);
  ASSERT_FALSE(conf);
  EXPECT_NE(conf.error().message().find("compression.type"), std::string::npos)
      << conf.error().ToString();
}

// Conflicts between properties surface at producer creation (no broker
// needed: rd_kafka_new does not connect synchronously).
TEST(KafkaSinkConfigTest, CreateRejectsAcksOneWithIdempotence) {
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.librdkafka = {{"acks", "1"}};
  auto sink = KafkaSink::Create(io, options);
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error().code(), Errc::kConfig);
}

TEST(KafkaSinkConfigTest, CreateSucceedsWithoutBrokerAndCloses) {
  boost::asio::io_context io;
  KafkaSinkOptions options;
  options.brokers = "127.0.0.1:1";  // nothing listens there
  auto sink = KafkaSink::Create(io, options);
  ASSERT_TRUE(sink) << sink.error().ToString();
  EXPECT_EQ((*sink)->Name(), "sink.kafka");
  EXPECT_TRUE((*sink)->Close(std::chrono::milliseconds(100)));
}

}  // namespace
}  // namespace newsflow
