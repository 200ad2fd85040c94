// SPDX-License-Identifier: Apache-2.0
// Reads this process's memory mappings from /proc/self/smaps, for tests that
// check which mappings were advised for transparent huge pages.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace hoody::jit::testing {

struct Mapping {
  uintptr_t start = 0;
  uintptr_t end = 0;
  bool huge_advised = false;  ///< VmFlags has `hg` (MADV_HUGEPAGE).
};

inline std::vector<Mapping> readMappings() {
  std::vector<Mapping> mappings;
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  while (std::getline(smaps, line)) {
    if (line.rfind("VmFlags:", 0) == 0) {
      if (!mappings.empty()) {
        std::istringstream flags(line.substr(8));
        std::string flag;
        while (flags >> flag) mappings.back().huge_advised |= flag == "hg";
      }
      continue;
    }
    // A mapping's first line starts with `start-end `; field lines start with
    // a capitalized name.
    size_t dash = line.find('-');
    size_t space = line.find(' ');
    if (dash == std::string::npos || space == std::string::npos || dash > space) continue;
    if (line.find_first_not_of("0123456789abcdef") != dash) continue;
    Mapping m;
    m.start = std::stoull(line.substr(0, dash), nullptr, 16);
    m.end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
    mappings.push_back(m);
  }
  return mappings;
}

/// Bytes of mappings advised for huge pages.
inline uintptr_t hugeAdvisedBytes() {
  uintptr_t total = 0;
  for (const Mapping& m : readMappings()) {
    if (m.huge_advised) total += m.end - m.start;
  }
  return total;
}

/// True when the kernel has transparent huge pages that madvise can ask for.
inline bool transparentHugePagesAvailable() {
  std::ifstream enabled("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(enabled, modes);
  return modes.find("[never]") == std::string::npos && !modes.empty();
}

}  // namespace hoody::jit::testing
