# Kafka test helpers and the ctest fixture that runs a real local broker
# (scripts/kafka-broker). Integration tests opt in with
#   nf_add_test(... LIBS nf_testing_kafka ... FIXTURES kafka_broker
#               ENV "NEWSFLOW_KAFKA_DIR=${NEWSFLOW_TEST_KAFKA_DIR}")
#
# Each build tree has its own broker state directory, so two ctest runs (two
# trees, or another user's) never share a broker or stop each other's; a
# test binary run outside ctest falls back to the same directory and stops a
# broker it started itself (kafka_test_util.cc). NEWSFLOW_TEST_KAFKA_DIR is
# a cache variable so that every directory (tests, bench) sees it.
set(NEWSFLOW_TEST_KAFKA_DIR "${CMAKE_BINARY_DIR}/kafka-broker" CACHE PATH
    "State directory of the test Kafka broker (scripts/kafka-broker)")

add_library(nf_testing_kafka STATIC
  ${CMAKE_CURRENT_LIST_DIR}/kafka_test_util.cc)
target_link_libraries(nf_testing_kafka
  PUBLIC nf_core PkgConfig::RDKAFKA)
target_compile_definitions(nf_testing_kafka PRIVATE
  NEWSFLOW_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  NEWSFLOW_TEST_KAFKA_DIR="${NEWSFLOW_TEST_KAFKA_DIR}")

add_test(NAME kafka_broker_start
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/kafka-broker start)
set_tests_properties(kafka_broker_start PROPERTIES
  FIXTURES_SETUP kafka_broker LABELS integration TIMEOUT 180
  ENVIRONMENT "NEWSFLOW_KAFKA_DIR=${NEWSFLOW_TEST_KAFKA_DIR}")

add_test(NAME kafka_broker_stop
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/kafka-broker stop)
set_tests_properties(kafka_broker_stop PROPERTIES
  FIXTURES_CLEANUP kafka_broker LABELS integration TIMEOUT 60
  ENVIRONMENT "NEWSFLOW_KAFKA_DIR=${NEWSFLOW_TEST_KAFKA_DIR}")
