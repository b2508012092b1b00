// Copyright 2026 The coral Authors.
//
// The main() of a coral_fuzzer (bazel/fuzz.bzl) outside `--config=fuzz`: runs the empty input,
// then each file named on the command line (every regular file of a directory, in name order),
// through LLVMFuzzerTestOneInput once, as libFuzzer does when given files. Each input is copied
// into a heap buffer of exactly its size, so a sanitizer sees reads past its end. The function
// reports a failed property by aborting; this main fails only on an unreadable input.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void RunOne(const std::vector<char>& input) {
  // A fresh allocation of exactly the input's size (even for the empty input).
  auto buffer = std::make_unique<uint8_t[]>(input.size());
  std::copy(input.begin(), input.end(), buffer.get());
  LLVMFuzzerTestOneInput(buffer.get(), input.size());
}

bool RunFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "fuzz_replay: cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> input{std::istreambuf_iterator<char>(file),
                                std::istreambuf_iterator<char>()};
  RunOne(input);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  RunOne({});
  int inputs = 1;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(arg);
    }
    for (const auto& file : files) {
      if (!RunFile(file)) return 1;
      ++inputs;
    }
  }
  std::printf("fuzz_replay: %d inputs (the empty input and %d files) passed\n", inputs, inputs - 1);
  return 0;
}
