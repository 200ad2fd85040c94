// SPDX-License-Identifier: Apache-2.0
// CachingVerifier: the per-worker credential verifier with a bounded LRU
// cache of successful verifications.
//
// Cache keys are keyed BLAKE2b hashes, so the cache stores no credential and
// its keys cannot be precomputed without the per-instance random key. Only
// successes are cached, with no negative cache: every failed password costs
// a full hash, which is the cost a slow hash is meant to put on guessing.
#include "runtime/auth/auth.h"

#include <cstring>
#include <list>
#include <memory>
#include <unordered_map>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "runtime/auth/internal/jwt_stages.h"
#include "runtime/auth/internal/sodium_util.h"

namespace hoody::auth {
namespace {

using CacheKey = std::array<uint8_t, 32>;

struct CacheKeyHash {
  size_t operator()(const CacheKey& key) const {
    // The key is already a keyed hash, so its first bytes are uniform.
    size_t out = 0;
    std::memcpy(&out, key.data(), sizeof(out));
    return out;
  }
};

/// Separates the kinds of credential inside the hashed data.
enum class CacheKind : uint8_t { Password = 1, Jwt = 2 };

/// Maximum number of parsed JWT key sets kept. A policy has a handful of JWT
/// groups. When a reload brings more, the map is cleared and refilled.
constexpr size_t kMaxKeySets = 64;

/// Builds a cache key from length-prefixed fields, so no two field lists
/// hash the same data.
class CacheKeyBuilder {
 public:
  CacheKeyBuilder(const std::array<uint8_t, crypto_generichash_KEYBYTES>& key, const void* group,
                  CacheKind kind) {
    crypto_generichash_init(&state_, key.data(), key.size(), sizeof(CacheKey));
    auto identity = reinterpret_cast<uintptr_t>(group);
    crypto_generichash_update(&state_, reinterpret_cast<const unsigned char*>(&identity),
                              sizeof(identity));
    auto kind_byte = static_cast<uint8_t>(kind);
    crypto_generichash_update(&state_, &kind_byte, 1);
  }
  ~CacheKeyBuilder() { sodium_memzero(&state_, sizeof(state_)); }
  CacheKeyBuilder(const CacheKeyBuilder&) = delete;
  CacheKeyBuilder& operator=(const CacheKeyBuilder&) = delete;

  CacheKeyBuilder& add(std::string_view field) {
    uint64_t length = field.size();
    crypto_generichash_update(&state_, reinterpret_cast<const unsigned char*>(&length),
                              sizeof(length));
    crypto_generichash_update(&state_, reinterpret_cast<const unsigned char*>(field.data()),
                              field.size());
    return *this;
  }

  CacheKey finish() {
    CacheKey out{};
    crypto_generichash_final(&state_, out.data(), out.size());
    return out;
  }

 private:
  crypto_generichash_state state_{};
};

/// Compares two strings in time that depends on their lengths only.
bool constantTimeEqual(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char other = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(a[i]) ^ other;
  }
  return diff == 0;
}

/// Returns a hash that unknown user names are verified against. A request
/// for an unknown user then costs about as much as one for a known user with
/// a wrong password, so user names cannot be probed by timing.
/// NOTE: groups whose hashes use other parameters or scrypt still differ in
/// cost from this interactive-preset argon2id hash.
const std::string& decoyHash() {
  static const std::string hash = [] {
    std::array<uint8_t, 32> random{};
    randombytes_buf(random.data(), random.size());
    auto made = hashPassword(std::string_view(reinterpret_cast<const char*>(random.data()),
                                              random.size()));
    return made ? *made : std::string();
  }();
  return hash;
}

/// SHA-256 of bearer tokens. An engine checks one request's token against
/// each bearer group that could grant the request, so the digest of the last
/// token is kept and reused while the same token comes back. OpenSSL's
/// SHA-256 uses the CPU's SHA instructions where present (about three times
/// faster than libsodium's for a 43-byte token on the benchmark machine).
class TokenDigests {
 public:
  TokenDigests() : context_(EVP_MD_CTX_new()) {}
  ~TokenDigests() {
    forget();
    EVP_MD_CTX_free(context_);
  }
  TokenDigests(const TokenDigests&) = delete;
  TokenDigests& operator=(const TokenDigests&) = delete;

  /// Returns the SHA-256 of `token`.
  const Digest& digestOf(std::string_view token) {
    // The last token's bytes are compared in constant time, so the cache only
    // reveals whether a token equals the previous one on this worker.
    if (has_last_ && last_token_.size() == token.size() &&
        CRYPTO_memcmp(last_token_.data(), token.data(), token.size()) == 0) {
      return last_digest_;
    }
    forget();
    if (!hash(token, last_digest_)) last_digest_ = sha256(token);
    last_token_.assign(token);
    has_last_ = true;
    return last_digest_;
  }

 private:
  bool hash(std::string_view token, Digest& out) {
    static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    unsigned int size = 0;
    return context_ != nullptr && kSha256 != nullptr &&
           EVP_DigestInit_ex2(context_, kSha256, nullptr) == 1 &&
           EVP_DigestUpdate(context_, token.data(), token.size()) == 1 &&
           EVP_DigestFinal_ex(context_, out.data(), &size) == 1 && size == out.size();
  }

  /// Wipes the kept token and digest before they are replaced or freed.
  void forget() {
    if (!last_token_.empty()) sodium_memzero(last_token_.data(), last_token_.size());
    sodium_memzero(last_digest_.data(), last_digest_.size());
    has_last_ = false;
  }

  EVP_MD_CTX* context_;
  std::string last_token_;
  Digest last_digest_{};
  bool has_last_ = false;
};

}  // namespace

struct CachingVerifier::Impl {
  size_t max_entries = 0;
  TokenDigests token_digests;
  std::array<uint8_t, crypto_generichash_KEYBYTES> hash_key{};
  /// Most recently used at the front.
  std::list<CacheKey> recency;
  std::unordered_map<CacheKey, std::list<CacheKey>::iterator, CacheKeyHash> entries;
  uint64_t hits = 0;
  uint64_t misses = 0;
  /// Parsed key sets by key text. The value is null when the text does not parse.
  std::unordered_map<std::string, std::shared_ptr<const internal::JwtKeySet>> key_sets;

  /// Returns true and marks the entry recent when `key` is cached.
  bool lookup(const CacheKey& key) {
    auto it = entries.find(key);
    if (it == entries.end()) {
      ++misses;
      return false;
    }
    recency.splice(recency.begin(), recency, it->second);
    ++hits;
    return true;
  }

  void insert(const CacheKey& key) {
    if (max_entries == 0 || entries.count(key) != 0) {
      return;
    }
    if (entries.size() >= max_entries) {
      entries.erase(recency.back());
      recency.pop_back();
    }
    recency.push_front(key);
    entries.emplace(key, recency.begin());
  }

  const internal::JwtKeySet* keySet(const std::string& text) {
    auto it = key_sets.find(text);
    if (it == key_sets.end()) {
      if (key_sets.size() >= kMaxKeySets) {
        key_sets.clear();
      }
      auto parsed = internal::JwtKeySet::parse(text);
      std::shared_ptr<const internal::JwtKeySet> value;
      if (parsed) {
        value = std::make_shared<const internal::JwtKeySet>(std::move(*parsed));
      }
      it = key_sets.emplace(text, std::move(value)).first;
    }
    return it->second.get();
  }
};

CachingVerifier::CachingVerifier(size_t max_entries) : impl_(std::make_unique<Impl>()) {
  impl_->max_entries = max_entries;
  if (internal::ensureSodium()) {
    randombytes_buf(impl_->hash_key.data(), impl_->hash_key.size());
  }
}

CachingVerifier::~CachingVerifier() {
  sodium_memzero(impl_->hash_key.data(), impl_->hash_key.size());
}

bool CachingVerifier::verifyPassword(const ir::Group& group, std::string_view user,
                                     std::string_view password) {
  if (!internal::ensureSodium() || group.credential != ir::CredentialKind::Password) {
    return false;
  }

  // Every entry is compared, with no early exit, so the time spent does not
  // depend on where (or whether) the user appears.
  const ir::PasswordEntry* match = nullptr;
  for (const ir::PasswordEntry& entry : group.passwords) {
    bool equal = constantTimeEqual(user, entry.user);
    match = equal && match == nullptr ? &entry : match;
  }
  if (match == nullptr || user.empty()) {
    ++impl_->misses;
    verifyPasswordHash(decoyHash(), password);
    return false;
  }

  // The stored hash is part of the key: when a reload changes a user's hash,
  // a success cached for the old one no longer matches, even if the new
  // group object reuses the old one's address.
  CacheKey key = CacheKeyBuilder(impl_->hash_key, &group, CacheKind::Password)
                     .add(match->user)
                     .add(match->hash)
                     .add(password)
                     .finish();
  if (impl_->lookup(key)) {
    return true;
  }
  if (!verifyPasswordHash(match->hash, password)) {
    return false;
  }
  try {
    impl_->insert(key);
  } catch (const std::exception&) {
    // Allocation failure: the password is right, it just stays uncached.
  }
  return true;
}

bool CachingVerifier::verifyBearer(const ir::Group& group, std::string_view token) {
  if (group.credential != ir::CredentialKind::Bearer || token.empty()) {
    return false;
  }
  const Digest& digest = impl_->token_digests.digestOf(token);
  bool match = false;
  for (const auto& stored : group.bearer_sha256) {
    // Every digest is compared, with no early exit.
    match = digestEqual(digest, stored) || match;
  }
  return match;
}

bool CachingVerifier::verifyJwt(const ir::Group& group, const ir::Realm& realm,
                                std::string_view token, int64_t now) {
  if (!internal::ensureSodium() || group.credential != ir::CredentialKind::Jwt || !group.jwt) {
    return false;
  }
  const ir::JwtSpec& spec = *group.jwt;
  try {
    internal::CheckedHeader header;
    if (internal::checkHeader(spec, token, header) != JwtFailure::None) {
      return false;
    }

    // Only the signature result is cached. The time and claim checks run on
    // every call against `now`. The key text and pinned algorithms are part
    // of the key, so a reload that changes them invalidates the entry.
    CacheKeyBuilder builder(impl_->hash_key, &group, CacheKind::Jwt);
    builder.add(spec.key_pem);
    for (const std::string& alg : spec.algorithms) {
      builder.add(alg);
    }
    CacheKey key = builder.add(token).finish();
    if (!impl_->lookup(key)) {
      const internal::JwtKeySet* keys = impl_->keySet(spec.key_pem);
      if (keys == nullptr || internal::checkSignature(header, *keys) != JwtFailure::None) {
        return false;
      }
      impl_->insert(key);
    }
    return internal::checkClaims(spec, realm.name, header.payload, now) == JwtFailure::None;
  } catch (const std::exception&) {
    return false;  // Allocation failure: deny.
  }
}

uint64_t CachingVerifier::cacheHits() const { return impl_->hits; }

uint64_t CachingVerifier::cacheMisses() const { return impl_->misses; }

}  // namespace hoody::auth
