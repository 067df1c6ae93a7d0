// Runs a fuzz target's LLVMFuzzerTestOneInput over the files in the given
// directories (or files): the regression test for every input a fuzzer found.
// Usage: TARGET_regression DIR_OR_FILE...
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "promeval/files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (std::filesystem::is_directory(argv[i], ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(argv[i])) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    } else {
      inputs.emplace_back(argv[i]);
    }
  }
  for (const std::filesystem::path& path : inputs) {
    absl::StatusOr<std::string> content = promeval::ReadFile(path.string());
    if (!content.ok()) {
      std::fprintf(stderr, "%s\n",
                   std::string(content.status().message()).c_str());
      return 1;
    }
    std::fprintf(stderr, "running %s\n", path.c_str());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(content->data()),
                           content->size());
  }
  std::fprintf(stderr, "%zu inputs passed\n", inputs.size());
  return 0;
}
