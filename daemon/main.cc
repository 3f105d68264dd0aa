// newsflowd: see daemon/cli/commands.h for the command line.

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "daemon/cli/commands.h"

int main(int argc, char** argv) {
  // The only catch-all: anything that escapes is a bug, reported in one
  // line with the internal-error exit code.
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    return newsflow::RunCommandLine(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "newsflowd: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "newsflowd: internal error: unknown exception\n");
  }
  return newsflow::kExitInternal;
}
