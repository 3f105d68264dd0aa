# Loopback HTTP test server (POSIX sockets + threads; no Asio), HTTP probes
# of a daemon's metrics endpoint (http_probe.h) and the
# nf_fixture_server executable built from it.
add_library(nf_testing_http STATIC
  ${CMAKE_CURRENT_LIST_DIR}/loopback_http_server.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_probe.cc
)
target_include_directories(nf_testing_http PUBLIC ${CMAKE_SOURCE_DIR})
pkg_check_modules(BROTLIENC REQUIRED IMPORTED_TARGET libbrotlienc)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
target_link_libraries(nf_testing_http PUBLIC Threads::Threads
                      PRIVATE ZLIB::ZLIB PkgConfig::BROTLIENC PkgConfig::ZSTD)

add_executable(nf_fixture_server ${CMAKE_CURRENT_LIST_DIR}/fixture_server_main.cc)
target_link_libraries(nf_fixture_server PRIVATE nf_testing_http)

nf_add_test(loopback_http_server_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/loopback_http_server_test.cc
  LIBS nf_testing_http
  LABELS unit)
