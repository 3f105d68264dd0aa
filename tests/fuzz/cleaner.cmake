# libFuzzer target for the cleaner. Included from tests/fuzz/CMakeLists.txt;
# only meaningful with NEWSFLOW_FUZZ=ON and clang.
if(NEWSFLOW_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_executable(html_cleaner_fuzz ${CMAKE_CURRENT_LIST_DIR}/html_cleaner_fuzz.cc)
  target_compile_options(html_cleaner_fuzz PRIVATE
      -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
  target_link_options(html_cleaner_fuzz PRIVATE
      -fsanitize=fuzzer,address,undefined)
  target_link_libraries(html_cleaner_fuzz PRIVATE nf_cleaner)
endif()
