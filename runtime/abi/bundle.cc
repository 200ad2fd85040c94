// SPDX-License-Identifier: Apache-2.0
// Binary decision IR encoding and bundle directory I/O.
//
// The IR encoding is little-endian, length-prefixed and deterministic, so the
// same policy always gives the same bytes and the same manifest hash. The
// decoder checks every length against the bytes left and every enum against
// its range, so a corrupt file gives an error, never a crash.
#include "runtime/abi/bundle.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace hoody::bundle {
namespace {

constexpr char kMagic[8] = {'H', 'O', 'O', 'D', 'Y', 'I', 'R', '\0'};
constexpr const char* kIrFile = "decision.ir";
constexpr const char* kManifestFile = "manifest.json";

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { fixed(v, 2); }
  void u32(uint32_t v) { fixed(v, 4); }
  void u64(uint64_t v) { fixed(v, 8); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  template <size_t N>
  void bytes(const std::array<uint8_t, N>& a) {
    out_.append(reinterpret_cast<const char*>(a.data()), N);
  }
  void reserve(size_t bytes) { out_.reserve(bytes); }
  std::string take() { return std::move(out_); }

 private:
  void fixed(uint64_t v, int n) {
    char little_endian[8];
    for (int i = 0; i < n; ++i) little_endian[i] = static_cast<char>(v >> (8 * i));
    out_.append(little_endian, static_cast<size_t>(n));
  }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool atEnd() const { return pos_ == in_.size(); }

  uint8_t u8() { return static_cast<uint8_t>(fixed(1)); }
  uint16_t u16() { return static_cast<uint16_t>(fixed(2)); }
  uint32_t u32() { return static_cast<uint32_t>(fixed(4)); }
  uint64_t u64() { return fixed(8); }
  std::string str() {
    uint32_t n = u32();
    if (!need(n)) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  template <size_t N>
  void bytes(std::array<uint8_t, N>& a) {
    if (!need(N)) return;
    std::memcpy(a.data(), in_.data() + pos_, N);
    pos_ += N;
  }
  // Reads a count of elements that each take at least `min_size` bytes.
  uint32_t count(size_t min_size) {
    uint32_t n = u32();
    if (ok_ && static_cast<uint64_t>(n) * min_size > in_.size() - pos_) ok_ = false;
    return ok_ ? n : 0;
  }
  void fail() { ok_ = false; }

 private:
  bool need(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) ok_ = false;
    return ok_;
  }
  uint64_t fixed(int n) {
    if (!need(static_cast<size_t>(n))) return 0;
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += static_cast<size_t>(n);
    return v;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void writeGroup(Writer& w, const ir::Group& g) {
  w.str(g.name);
  w.u8(g.has_ip);
  w.u32(static_cast<uint32_t>(g.ip.v4.size()));
  for (const auto& r : g.ip.v4) {
    w.u32(r.first);
    w.u32(r.last);
  }
  w.u32(static_cast<uint32_t>(g.ip.v6.size()));
  for (const auto& r : g.ip.v6) {
    w.u64(r.first.hi);
    w.u64(r.first.lo);
    w.u64(r.last.hi);
    w.u64(r.last.lo);
  }
  w.u8(static_cast<uint8_t>(g.credential));
  w.u32(static_cast<uint32_t>(g.passwords.size()));
  for (const auto& p : g.passwords) {
    w.str(p.user);
    w.str(p.hash);
  }
  w.u32(static_cast<uint32_t>(g.bearer_sha256.size()));
  for (const auto& d : g.bearer_sha256) w.bytes(d);
  w.u8(g.jwt.has_value());
  if (g.jwt) {
    const auto& j = *g.jwt;
    w.u32(static_cast<uint32_t>(j.algorithms.size()));
    for (const auto& a : j.algorithms) w.str(a);
    w.str(j.issuer);
    w.u32(static_cast<uint32_t>(j.audiences.size()));
    for (const auto& a : j.audiences) w.str(a);
    w.str(j.key_pem);
    w.u32(j.leeway_seconds);
    w.u8(j.require_exp);
    w.u32(static_cast<uint32_t>(j.claims.size()));
    for (const auto& c : j.claims) {
      w.str(c.claim);
      w.u8(static_cast<uint8_t>(c.op));
      w.str(c.value);
    }
    w.str(j.realm_claim);
  }
  w.u32(static_cast<uint32_t>(g.grants.size()));
  for (const auto& grant : g.grants) {
    w.u32(grant.services);
    w.u16(grant.methods);
    w.u32(static_cast<uint32_t>(grant.path_prefixes.size()));
    for (const auto& p : grant.path_prefixes) w.str(p);
  }
  w.u8(g.forward_credentials);
}

bool readGroup(Reader& r, ir::Group& g) {
  g.name = r.str();
  g.has_ip = r.u8() != 0;
  for (uint32_t n = r.count(8), i = 0; i < n; ++i) {
    ir::V4Range v;
    v.first = r.u32();
    v.last = r.u32();
    g.ip.v4.push_back(v);
  }
  for (uint32_t n = r.count(32), i = 0; i < n; ++i) {
    ir::V6Range v;
    v.first.hi = r.u64();
    v.first.lo = r.u64();
    v.last.hi = r.u64();
    v.last.lo = r.u64();
    g.ip.v6.push_back(v);
  }
  uint8_t kind = r.u8();
  if (kind > static_cast<uint8_t>(ir::CredentialKind::Jwt)) return false;
  g.credential = static_cast<ir::CredentialKind>(kind);
  for (uint32_t n = r.count(8), i = 0; i < n; ++i) {
    ir::PasswordEntry p;
    p.user = r.str();
    p.hash = r.str();
    g.passwords.push_back(std::move(p));
  }
  for (uint32_t n = r.count(32), i = 0; i < n; ++i) {
    std::array<uint8_t, 32> d{};
    r.bytes(d);
    g.bearer_sha256.push_back(d);
  }
  if (r.u8() != 0) {
    ir::JwtSpec j;
    for (uint32_t n = r.count(4), i = 0; i < n; ++i) j.algorithms.push_back(r.str());
    j.issuer = r.str();
    for (uint32_t n = r.count(4), i = 0; i < n; ++i) j.audiences.push_back(r.str());
    j.key_pem = r.str();
    j.leeway_seconds = r.u32();
    j.require_exp = r.u8() != 0;
    for (uint32_t n = r.count(9), i = 0; i < n; ++i) {
      ir::ClaimRule c;
      c.claim = r.str();
      uint8_t op = r.u8();
      if (op > static_cast<uint8_t>(ir::ClaimOp::Exists)) return false;
      c.op = static_cast<ir::ClaimOp>(op);
      c.value = r.str();
      j.claims.push_back(std::move(c));
    }
    j.realm_claim = r.str();
    g.jwt = std::move(j);
  }
  for (uint32_t n = r.count(10), i = 0; i < n; ++i) {
    ir::Grant grant;
    grant.services = r.u32() & ir::kAllServices;
    grant.methods = r.u16() & ir::kAllMethods;
    for (uint32_t m = r.count(4), k = 0; k < m; ++k) grant.path_prefixes.push_back(r.str());
    g.grants.push_back(std::move(grant));
  }
  g.forward_credentials = r.u8() != 0;
  return r.ok();
}

std::string sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError("io-error", "cannot read `" + path + "`: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `data` to `path` through a temporary file and rename.
Result<void> writeFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return makeError("io-error", "cannot create `" + tmp + "`: " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return makeError("io-error", "cannot write `" + tmp + "`: " + err);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    return makeError("io-error", "cannot write `" + path + "`: " + err);
  }
  return {};
}

nlohmann::json manifestEntry(std::string_view bytes) {
  return {{"sha256", sha256Hex(bytes)}, {"size", bytes.size()}};
}

bool isPlainFileName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

Result<void> checkArtifacts(const std::vector<Artifact>& artifacts) {
  std::set<std::string_view> names = {kIrFile, kManifestFile};
  for (const Artifact& artifact : artifacts) {
    if (!isPlainFileName(artifact.name)) {
      return makeError("invalid-artifact",
                       "artifact name `" + artifact.name + "` is not a plain file name");
    }
    if (!names.insert(artifact.name).second) {
      return makeError("invalid-artifact", "artifact name `" + artifact.name +
                                               "` is used twice or names a bundle file");
    }
    for (const char* reserved : {"sha256", "size"}) {
      if (artifact.fields.count(reserved) != 0) {
        return makeError("invalid-artifact", "artifact `" + artifact.name + "` sets the field `" +
                                                 reserved + "`, which writeBundle computes");
      }
    }
  }
  return {};
}

Result<nlohmann::json> readManifest(const std::string& dir) {
  auto text = readFile(dir + "/" + kManifestFile);
  if (!text) return Unexpected<Error>{text.error()};
  nlohmann::json manifest = nlohmann::json::parse(*text, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object() ||
      manifest.value("format", "") != "hoody-bundle") {
    return makeError("bad-manifest", "`" + dir + "/" + kManifestFile +
                                         "` is not a hoody bundle manifest");
  }
  return manifest;
}

// Returns the manifest entry of `name` when it has a SHA-256, else nullptr.
const nlohmann::json* findArtifact(const nlohmann::json& manifest, std::string_view name) {
  auto artifacts = manifest.find("artifacts");
  if (artifacts == manifest.end() || !artifacts->is_object()) return nullptr;
  auto entry = artifacts->find(std::string(name));
  if (entry == artifacts->end() || !entry->is_object()) return nullptr;
  auto sha256 = entry->find("sha256");
  if (sha256 == entry->end() || !sha256->is_string()) return nullptr;
  return &*entry;
}

// Reads `dir/name` and checks it against its manifest entry.
Result<std::string> readVerified(const std::string& dir, std::string_view name,
                                 const nlohmann::json& entry) {
  std::string path = dir + "/" + std::string(name);
  auto bytes = readFile(path);
  if (!bytes) return Unexpected<Error>{bytes.error()};
  if (sha256Hex(*bytes) != entry["sha256"].get<std::string>()) {
    return makeError("hash-mismatch", "`" + path +
                                          "` does not match the hash in the manifest; recompile "
                                          "the bundle");
  }
  return bytes;
}

// Returns a lower bound of the encoded size: the IP ranges and the fixed
// part of each container, which make up most of a large policy.
size_t estimateIrSize(const ir::Policy& policy) {
  size_t bytes = 0;
  for (const auto& realm : policy.realms) {
    for (const auto& b : realm.blocks) {
      for (const auto& g : b.groups) bytes += 8 * g.ip.v4.size() + 32 * g.ip.v6.size();
    }
    bytes += 40 * realm.containers.size();
  }
  return bytes;
}

}  // namespace

std::string encodeIr(const ir::Policy& policy) {
  Writer w;
  // One allocation instead of repeated doubling for a policy of many
  // megabytes. The eighth on top is for names, which the estimate leaves out.
  size_t estimate = estimateIrSize(policy);
  w.reserve(estimate + estimate / 8);
  for (char c : kMagic) w.u8(static_cast<uint8_t>(c));
  w.u32(ir::kFormatVersion);
  w.str(policy.node);
  w.str(policy.domain);
  w.u32(static_cast<uint32_t>(policy.realms.size()));
  for (const auto& realm : policy.realms) {
    w.str(realm.name);
    w.u32(static_cast<uint32_t>(realm.blocks.size()));
    for (const auto& b : realm.blocks) {
      w.u32(b.default_allow);
      w.str(b.origin);
      w.u32(static_cast<uint32_t>(b.groups.size()));
      for (const auto& g : b.groups) writeGroup(w, g);
    }
    w.u32(static_cast<uint32_t>(realm.containers.size()));
    for (const auto& c : realm.containers) {
      w.str(c.name);
      w.str(c.project);
      w.bytes(c.id);
      w.bytes(c.project_id);
      w.u32(c.block);
      w.u8(c.maintenance);
      w.str(c.upstream.address);
      w.u32(static_cast<uint32_t>(c.upstream.ports.size()));
      for (const auto& p : c.upstream.ports) {
        w.u8(static_cast<uint8_t>(p.service));
        w.u32(p.instance);
        w.u16(p.port);
      }
    }
  }
  return w.take();
}

Result<ir::Policy> decodeIr(std::string_view bytes) {
  if (bytes.size() < 12 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return makeError("bad-magic", "not a hoody decision IR file");
  }
  Reader r(bytes.substr(sizeof kMagic));
  uint32_t version = r.u32();
  if (version != ir::kFormatVersion) {
    return makeError("bad-version", "decision IR version " + std::to_string(version) +
                                        " is not supported (this build reads version " +
                                        std::to_string(ir::kFormatVersion) +
                                        "); recompile the bundle with this hoodyc");
  }
  ir::Policy p;
  p.node = r.str();
  p.domain = r.str();
  for (uint32_t nr = r.count(12), i = 0; i < nr && r.ok(); ++i) {
    ir::Realm realm;
    realm.name = r.str();
    for (uint32_t nb = r.count(12), b = 0; b < nb && r.ok(); ++b) {
      ir::PermissionBlock block;
      block.default_allow = r.u32() & ir::kAllServices;
      block.origin = r.str();
      for (uint32_t ng = r.count(16), g = 0; g < ng && r.ok(); ++g) {
        ir::Group group;
        if (!readGroup(r, group)) return makeError("invalid-ir", "corrupt group in decision IR");
        block.groups.push_back(std::move(group));
      }
      realm.blocks.push_back(std::move(block));
    }
    for (uint32_t nc = r.count(40), c = 0; c < nc && r.ok(); ++c) {
      ir::Container container;
      container.name = r.str();
      container.project = r.str();
      r.bytes(container.id);
      r.bytes(container.project_id);
      container.block = r.u32();
      container.maintenance = r.u8() != 0;
      container.upstream.address = r.str();
      for (uint32_t np = r.count(7), k = 0; k < np && r.ok(); ++k) {
        ir::ServicePort port;
        uint8_t s = r.u8();
        if (s >= ir::kServiceCount) return makeError("invalid-ir", "unknown service in decision IR");
        port.service = static_cast<ir::Service>(s);
        port.instance = r.u32();
        port.port = r.u16();
        container.upstream.ports.push_back(port);
      }
      if (r.ok() && container.block >= realm.blocks.size()) {
        return makeError("invalid-ir", "container `" + container.name +
                                           "` points at a missing permissions block");
      }
      realm.containers.push_back(std::move(container));
    }
    p.realms.push_back(std::move(realm));
  }
  if (!r.ok()) return makeError("truncated", "decision IR ends early or has a bad length");
  if (!r.atEnd()) return makeError("invalid-ir", "decision IR has trailing bytes");
  return p;
}

Result<void> writeBundle(const std::string& dir, const ir::Policy& policy, const BundleInfo& info) {
  HOODY_TRY(checkArtifacts(info.artifacts));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return makeError("io-error", "cannot create `" + dir + "`: " + ec.message());

  std::string ir_bytes = encodeIr(policy);
  nlohmann::json artifacts = {{kIrFile, manifestEntry(ir_bytes)}};
  for (const Artifact& artifact : info.artifacts) {
    nlohmann::json entry = manifestEntry(artifact.bytes);
    for (const auto& [key, value] : artifact.fields) entry[key] = value;
    artifacts[artifact.name] = std::move(entry);
  }
  nlohmann::json manifest = {
      {"format", "hoody-bundle"},
      {"ir_version", ir::kFormatVersion},
      {"created", std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count()},
      {"sources", info.sources},
      {"inventory", info.inventory},
      {"artifacts", std::move(artifacts)},
  };
  // The artifacts go first and the manifest last: a reader that sees the new
  // manifest finds the files it lists.
  for (const Artifact& artifact : info.artifacts) {
    HOODY_TRY(writeFileAtomic(dir + "/" + artifact.name, artifact.bytes));
  }
  HOODY_TRY(writeFileAtomic(dir + "/" + kIrFile, ir_bytes));
  HOODY_TRY(writeFileAtomic(dir + "/" + kManifestFile, manifest.dump(2) + "\n"));
  return {};
}

Result<ir::Policy> loadBundle(const std::string& dir) {
  auto manifest = readManifest(dir);
  if (!manifest) return Unexpected<Error>{manifest.error()};
  const nlohmann::json* entry = findArtifact(*manifest, kIrFile);
  if (!entry) {
    return makeError("bad-manifest", "manifest has no hash for `" + std::string(kIrFile) + "`");
  }
  auto ir_bytes = readVerified(dir, kIrFile, *entry);
  if (!ir_bytes) return Unexpected<Error>{ir_bytes.error()};
  return decodeIr(*ir_bytes);
}

Result<std::string> loadArtifact(const std::string& dir, std::string_view name) {
  auto manifest = readManifest(dir);
  if (!manifest) return Unexpected<Error>{manifest.error()};
  // A name with a `/` could read a file outside the bundle, so only plain
  // names are looked up even when a manifest lists another.
  const nlohmann::json* entry = isPlainFileName(name) ? findArtifact(*manifest, name) : nullptr;
  if (!entry) {
    return makeError("missing-artifact", "the manifest of bundle `" + dir + "` does not list `" +
                                             std::string(name) +
                                             "`; recompile the bundle with this hoodyc");
  }
  return readVerified(dir, name, *entry);
}

}  // namespace hoody::bundle
