# Kafka test helpers and the ctest fixture that runs a real local broker
# (scripts/kafka-broker). Integration tests opt in with
#   nf_add_test(... LIBS nf_testing_kafka ... FIXTURES kafka_broker)
add_library(nf_testing_kafka STATIC
  ${CMAKE_CURRENT_LIST_DIR}/kafka_test_util.cc)
target_link_libraries(nf_testing_kafka
  PUBLIC nf_core PkgConfig::RDKAFKA)
target_compile_definitions(nf_testing_kafka PRIVATE
  NEWSFLOW_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

add_test(NAME kafka_broker_start
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/kafka-broker start)
set_tests_properties(kafka_broker_start PROPERTIES
  FIXTURES_SETUP kafka_broker LABELS integration TIMEOUT 180)

add_test(NAME kafka_broker_stop
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/kafka-broker stop)
set_tests_properties(kafka_broker_stop PROPERTIES
  FIXTURES_CLEANUP kafka_broker LABELS integration TIMEOUT 60)
