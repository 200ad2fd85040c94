// SPDX-License-Identifier: Apache-2.0
// Stand-in for libFuzzer's driver when the compiler is not clang: runs a fuzz
// target over its seed corpus, then over deterministic mutations of the seeds.
//
//   <target> CORPUS_DIR [MUTATIONS]
//
// A target signals a broken invariant by aborting, so this driver passes when
// it returns. The mutation seed is fixed so a failure replays exactly.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string mutate(std::string input, std::mt19937_64& rng) {
  int edits = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < edits; ++i) {
    size_t pos = input.empty() ? 0 : rng() % (input.size() + 1);
    switch (rng() % 5) {
      case 0:  // flip a byte
        if (!input.empty()) input[pos % input.size()] = static_cast<char>(rng());
        break;
      case 1:  // insert a byte
        input.insert(input.begin() + static_cast<long>(pos), static_cast<char>(rng()));
        break;
      case 2:  // erase a range
        if (!input.empty()) input.erase(pos % input.size(), 1 + rng() % 16);
        break;
      case 3:  // duplicate a range
        if (!input.empty()) {
          size_t start = pos % input.size();
          input.insert(pos, input.substr(start, 1 + rng() % 32));
        }
        break;
      default:  // insert an interesting byte
        input.insert(input.begin() + static_cast<long>(pos), "\0\r\n:;{}\"\\%/.-"[rng() % 14]);
        break;
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS]\n", argv[0]);
    return 2;
  }
  long mutations = argc > 2 ? std::stol(argv[2]) : 2000;
  std::vector<std::string> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    seeds.push_back(ss.str());
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "no seeds in %s\n", argv[1]);
    return 2;
  }
  for (const auto& s : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  std::mt19937_64 rng(20261204);
  for (long i = 0; i < mutations; ++i) {
    std::string m = mutate(seeds[rng() % seeds.size()], rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(m.data()), m.size());
  }
  std::printf("%zu seeds and %ld mutations ran\n", seeds.size(), mutations);
  return 0;
}
