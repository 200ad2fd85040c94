// SPDX-License-Identifier: Apache-2.0
// WireGuard interfaces through rtnetlink and generic netlink, and X25519 key
// files through libsodium.
#include "runtime/host/wireguard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fib_rules.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <span>
#include <thread>
#include <utility>

#include "runtime/abi/address.h"

namespace hoody::host {
namespace {

constexpr size_t kKeyLength = WG_KEY_LEN;
constexpr size_t kBase64KeyLength = 44;

Unexpected<Error> netlinkError(std::string_view operation, int err) {
  return makeError("netlink-error", fmt::format("{} failed: {}", operation, strerror(err)));
}

// --- Netlink messages ---------------------------------------------------------

// Builds one netlink message: header, family header, attributes.
class NetlinkMessage {
 public:
  NetlinkMessage(uint16_t type, uint16_t flags) {
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = flags;
    append(&header, sizeof header);
  }

  template <typename T>
  void appendHeader(const T& family_header) {
    append(&family_header, sizeof family_header);
  }

  void attribute(uint16_t type, const void* data, size_t length) {
    nlattr attr{};
    attr.nla_len = static_cast<uint16_t>(NLA_HDRLEN + length);
    attr.nla_type = type;
    append(&attr, sizeof attr);
    append(data, length);
  }
  void attributeString(uint16_t type, std::string_view text) {
    std::string terminated(text);
    attribute(type, terminated.c_str(), terminated.size() + 1);
  }
  template <typename T>
  void attributeValue(uint16_t type, T value) {
    attribute(type, &value, sizeof value);
  }

  // Opens a nested attribute; returns its offset for endNested.
  size_t beginNested(uint16_t type) {
    size_t offset = bytes_.size();
    nlattr attr{};
    attr.nla_type = static_cast<uint16_t>(type | NLA_F_NESTED);
    append(&attr, sizeof attr);
    return offset;
  }
  void endNested(size_t offset) {
    auto length = static_cast<uint16_t>(bytes_.size() - offset);
    std::memcpy(bytes_.data() + offset + offsetof(nlattr, nla_len), &length, sizeof length);
  }

  std::string finish(uint32_t sequence) {
    auto length = static_cast<uint32_t>(bytes_.size());
    std::memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_len), &length, sizeof length);
    std::memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_seq), &sequence, sizeof sequence);
    return bytes_;
  }

 private:
  // Appends `length` bytes and pads to the 4-byte netlink alignment.
  void append(const void* data, size_t length) {
    bytes_.append(static_cast<const char*>(data), length);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()), '\0');
  }

  std::string bytes_;
};

// Calls `visit(type, payload)` for each attribute in `data`.
template <typename Visit>
void forEachAttribute(std::string_view data, Visit visit) {
  while (data.size() >= NLA_HDRLEN) {
    nlattr attr{};
    std::memcpy(&attr, data.data(), sizeof attr);
    if (attr.nla_len < NLA_HDRLEN || attr.nla_len > data.size()) return;
    visit(static_cast<uint16_t>(attr.nla_type & NLA_TYPE_MASK),
          data.substr(NLA_HDRLEN, attr.nla_len - NLA_HDRLEN));
    data.remove_prefix(std::min<size_t>(NLA_ALIGN(attr.nla_len), data.size()));
  }
}

// A netlink socket that sends one request at a time and waits for its
// acknowledgement.
class NetlinkSocket {
 public:
  static Result<NetlinkSocket> open(int protocol) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) return netlinkError("opening a netlink socket", errno);
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      int e = errno;
      close(fd);
      return netlinkError("binding a netlink socket", e);
    }
    // Replies never take long; a stuck kernel must not hang the applier.
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return NetlinkSocket(fd);
  }

  NetlinkSocket(NetlinkSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  ~NetlinkSocket() {
    if (fd_ >= 0) close(fd_);
  }

  uint32_t nextSequence() { return ++sequence_; }

  // Sends `message` (built with NLM_F_ACK) and collects the replies before
  // the acknowledgement. A negative acknowledgement returns its errno as a
  // netlink-error, and `errno_out` receives it.
  Result<std::vector<std::string>> transact(NetlinkMessage message, std::string_view operation,
                                            int* errno_out = nullptr) {
    uint32_t sequence = nextSequence();
    std::string bytes = message.finish(sequence);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
      return netlinkError(operation, errno);
    }
    std::vector<std::string> replies;
    std::string buffer(65536, '\0');
    // Each recv returns at least one message, and the kernel ends every
    // request with an acknowledgement, so the loop ends; the receive
    // timeout covers a kernel that never replies.
    while (true) {
      ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return netlinkError(operation, errno);
      auto* header = reinterpret_cast<nlmsghdr*>(buffer.data());
      int remaining = static_cast<int>(n);
      for (; NLMSG_OK(header, remaining); header = NLMSG_NEXT(header, remaining)) {
        if (header->nlmsg_seq != sequence) continue;
        if (header->nlmsg_type == NLMSG_ERROR) {
          nlmsgerr error{};
          std::memcpy(&error, NLMSG_DATA(header), sizeof error);
          if (error.error == 0) return replies;
          if (errno_out != nullptr) *errno_out = -error.error;
          return netlinkError(operation, -error.error);
        }
        if (header->nlmsg_type == NLMSG_DONE) return replies;
        replies.emplace_back(reinterpret_cast<const char*>(header), header->nlmsg_len);
      }
    }
  }

 private:
  explicit NetlinkSocket(int fd) : fd_(fd) {}

  int fd_;
  uint32_t sequence_ = 0;
};

// --- rtnetlink ----------------------------------------------------------------

NetlinkMessage linkMessage(uint16_t type, uint16_t flags, int index) {
  NetlinkMessage message(type, static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags));
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = index;
  message.appendHeader(info);
  return message;
}

// Creates a WireGuard link; `errno_out` receives the kernel's errno.
Result<void> createWireguardLink(NetlinkSocket& rt, std::string_view name, int* errno_out) {
  NetlinkMessage message = linkMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  message.attributeString(IFLA_IFNAME, name);
  size_t info = message.beginNested(IFLA_LINKINFO);
  message.attributeString(IFLA_INFO_KIND, "wireguard");
  message.endNested(info);
  auto replies = rt.transact(std::move(message),
                             fmt::format("creating WireGuard interface {}", name), errno_out);
  if (!replies) return Unexpected<Error>{replies.error()};
  return {};
}

Result<void> deleteLink(NetlinkSocket& rt, std::string_view name) {
  NetlinkMessage message = linkMessage(RTM_DELLINK, 0, 0);
  message.attributeString(IFLA_IFNAME, name);
  auto replies = rt.transact(std::move(message), fmt::format("deleting interface {}", name));
  if (!replies) return Unexpected<Error>{replies.error()};
  return {};
}

// Returns the link kind of interface `name` ("" for links without one).
Result<std::string> linkKind(NetlinkSocket& rt, std::string_view name) {
  NetlinkMessage message = linkMessage(RTM_GETLINK, 0, 0);
  message.attributeString(IFLA_IFNAME, name);
  auto replies = rt.transact(std::move(message), fmt::format("reading interface {}", name));
  if (!replies) return Unexpected<Error>{replies.error()};
  std::string kind;
  for (const std::string& reply : *replies) {
    size_t offset = NLMSG_LENGTH(sizeof(ifinfomsg));
    if (reply.size() < offset) continue;
    forEachAttribute(std::string_view(reply).substr(offset),
                     [&](uint16_t type, std::string_view value) {
                       if (type != IFLA_LINKINFO) return;
                       forEachAttribute(value, [&](uint16_t inner, std::string_view text) {
                         if (inner == IFLA_INFO_KIND)
                           kind = std::string(text.data(), strnlen(text.data(), text.size()));
                       });
                     });
  }
  return kind;
}

Result<void> setLinkUp(NetlinkSocket& rt, int index, std::string_view name) {
  NetlinkMessage message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = index;
  info.ifi_flags = IFF_UP;
  info.ifi_change = IFF_UP;
  message.appendHeader(info);
  auto replies = rt.transact(std::move(message), fmt::format("bringing up interface {}", name));
  if (!replies) return Unexpected<Error>{replies.error()};
  return {};
}

// Returns the address bytes in network order: 4 for IPv4, 16 for IPv6.
std::string addressBytes(const ir::IpAddress& address) {
  std::string bytes;
  if (address.is_v4) {
    uint32_t be = htonl(address.v4);
    bytes.assign(reinterpret_cast<const char*>(&be), 4);
    return bytes;
  }
  for (uint64_t half : {address.v6.hi, address.v6.lo}) {
    for (int shift = 56; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(half >> shift));
  }
  return bytes;
}

struct TunnelAddress {
  ir::IpAddress address;
  int prefix = 0;
};

Result<void> addAddress(NetlinkSocket& rt, int index, const TunnelAddress& tunnel,
                        std::string_view name) {
  NetlinkMessage message(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  ifaddrmsg info{};
  info.ifa_family = tunnel.address.is_v4 ? AF_INET : AF_INET6;
  info.ifa_prefixlen = static_cast<unsigned char>(tunnel.prefix);
  info.ifa_scope = RT_SCOPE_UNIVERSE;
  info.ifa_index = static_cast<unsigned>(index);
  message.appendHeader(info);
  std::string bytes = addressBytes(tunnel.address);
  message.attribute(IFA_LOCAL, bytes.data(), bytes.size());
  message.attribute(IFA_ADDRESS, bytes.data(), bytes.size());
  auto replies = rt.transact(std::move(message),
                             fmt::format("adding address {}/{} to {}",
                                         net::formatAddress(tunnel.address), tunnel.prefix, name));
  if (!replies) return Unexpected<Error>{replies.error()};
  return {};
}

Result<void> addDefaultRoute(NetlinkSocket& rt, int index, bool v4, uint32_t table,
                             std::string_view name) {
  NetlinkMessage message(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  rtmsg route{};
  route.rtm_family = v4 ? AF_INET : AF_INET6;
  route.rtm_table = RT_TABLE_UNSPEC;  // The table goes in RTA_TABLE, which has 32 bits.
  route.rtm_protocol = RTPROT_BOOT;
  route.rtm_scope = RT_SCOPE_LINK;
  route.rtm_type = RTN_UNICAST;
  message.appendHeader(route);
  message.attributeValue<uint32_t>(RTA_OIF, static_cast<uint32_t>(index));
  message.attributeValue<uint32_t>(RTA_TABLE, table);
  auto replies =
      rt.transact(std::move(message), fmt::format("adding the {} default route via {} to table {}",
                                                  v4 ? "IPv4" : "IPv6", name, table));
  if (!replies) return Unexpected<Error>{replies.error()};
  return {};
}

// Adds or deletes `from SOURCE lookup TABLE priority kSourceRulePriority`.
// Adding an existing rule and deleting a missing one succeed. The explicit
// priority makes a second add find the first rule: without one the kernel
// picks a new priority each time and adds a duplicate.
Result<void> changeSourceRule(NetlinkSocket& rt, bool add, const ir::IpAddress& source,
                              uint32_t table) {
  uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
  if (add) flags |= NLM_F_CREATE | NLM_F_EXCL;
  NetlinkMessage message(add ? RTM_NEWRULE : RTM_DELRULE, flags);
  fib_rule_hdr rule{};
  rule.family = source.is_v4 ? AF_INET : AF_INET6;
  rule.src_len = source.is_v4 ? 32 : 128;
  rule.action = FR_ACT_TO_TBL;
  message.appendHeader(rule);
  std::string bytes = addressBytes(source);
  message.attribute(FRA_SRC, bytes.data(), bytes.size());
  message.attributeValue<uint32_t>(FRA_TABLE, table);
  message.attributeValue<uint32_t>(FRA_PRIORITY, kSourceRulePriority);
  int err = 0;
  auto replies =
      rt.transact(std::move(message),
                  fmt::format("{} the rule from {} lookup {}", add ? "adding" : "deleting",
                              net::formatAddress(source), table),
                  &err);
  if (!replies && !(add && err == EEXIST) && !(!add && err == ENOENT)) {
    return Unexpected<Error>{replies.error()};
  }
  return {};
}

// --- Generic netlink ------------------------------------------------------------

Result<uint16_t> resolveWireguardFamily(NetlinkSocket& genl) {
  NetlinkMessage message(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK);
  genlmsghdr header{};
  header.cmd = CTRL_CMD_GETFAMILY;
  header.version = 1;
  message.appendHeader(header);
  message.attributeString(CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
  auto replies = genl.transact(std::move(message), "looking up the WireGuard netlink family");
  if (!replies) return Unexpected<Error>{replies.error()};
  uint16_t family = 0;
  for (const std::string& reply : *replies) {
    size_t offset = NLMSG_LENGTH(GENL_HDRLEN);
    if (reply.size() < offset) continue;
    forEachAttribute(std::string_view(reply).substr(offset),
                     [&](uint16_t type, std::string_view value) {
                       if (type == CTRL_ATTR_FAMILY_ID && value.size() >= 2)
                         std::memcpy(&family, value.data(), 2);
                     });
  }
  if (family == 0) return makeError("netlink-error", "the kernel returned no WireGuard family id");
  return family;
}

// --- Keys ---------------------------------------------------------------------

Result<std::array<uint8_t, kKeyLength>> decodeKey(std::string_view base64) {
  std::array<uint8_t, kKeyLength> key{};
  size_t length = 0;
  if (base64.size() != kBase64KeyLength ||
      sodium_base642bin(key.data(), key.size(), base64.data(), base64.size(), nullptr, &length,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length != kKeyLength) {
    return makeError("invalid-key", "the key is not 32 bytes of base64 (44 characters)");
  }
  return key;
}

std::string encodeKey(const std::array<uint8_t, kKeyLength>& key) {
  char out[sodium_base64_ENCODED_LEN(kKeyLength, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return out;
}

Result<void> initSodium() {
  if (sodium_init() < 0) return makeError("io-error", "libsodium failed to initialize");
  return {};
}

Result<std::array<uint8_t, kKeyLength>> publicKeyOf(const std::array<uint8_t, kKeyLength>& secret) {
  std::array<uint8_t, kKeyLength> pub{};
  if (crypto_scalarmult_curve25519_base(pub.data(), secret.data()) != 0) {
    return makeError("invalid-key", "the private key gives no X25519 public key");
  }
  return pub;
}

// Reads an existing key file, rejecting files that others can read.
Result<std::array<uint8_t, kKeyLength>> readKeyFile(const std::string& path,
                                                    const struct stat& st) {
  if (!S_ISREG(st.st_mode)) {
    return makeError("not-a-file", fmt::format("key file {} is not a regular file", path));
  }
  if ((st.st_mode & 077) != 0) {
    return makeError("insecure-key-file",
                     fmt::format("key file {} has mode {:04o}, so other users can read the "
                                 "private key; run `chmod 600 {}`",
                                 path, st.st_mode & 07777, path));
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return makeError("io-error", fmt::format("opening {} failed: {}", path, strerror(errno)));
  char buffer[128];
  ssize_t n = read(fd, buffer, sizeof buffer);
  int e = errno;
  close(fd);
  if (n < 0) return makeError("io-error", fmt::format("reading {} failed: {}", path, strerror(e)));
  std::string_view text(buffer, static_cast<size_t>(n));
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  auto key = decodeKey(text);
  sodium_memzero(buffer, sizeof buffer);
  if (!key)
    return makeError("invalid-key", fmt::format("key file {}: {}", path, key.error().message));
  return key;
}

// Writes a new clamped X25519 private key to `path` (mode 0600). Fails with
// EEXIST semantics if another writer created the file first.
Result<void> writeNewKey(const std::string& path) {
  std::array<uint8_t, kKeyLength> secret{};
  randombytes_buf(secret.data(), secret.size());
  // Clamp as RFC 7748 and `wg genkey` do.
  secret[0] &= 248;
  secret[31] = static_cast<uint8_t>((secret[31] & 127) | 64);
  std::string text = encodeKey(secret) + "\n";
  sodium_memzero(secret.data(), secret.size());

  std::string temp = path + ".hoody-XXXXXX";
  int fd = mkostemp(temp.data(), O_CLOEXEC);  // Created with mode 0600.
  if (fd < 0)
    return makeError("io-error", fmt::format("creating {} failed: {}", temp, strerror(errno)));
  bool ok = fchmod(fd, 0600) == 0 &&
            write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  int e = errno;
  close(fd);
  sodium_memzero(text.data(), text.size());
  // link() fails when the key file appeared meanwhile, which rename() would
  // overwrite.
  if (ok && link(temp.c_str(), path.c_str()) != 0) {
    ok = false;
    e = errno;
  }
  unlink(temp.c_str());
  if (!ok && e != EEXIST) {
    return makeError("io-error", fmt::format("writing key file {} failed: {}", path, strerror(e)));
  }
  return {};
}

Result<void> makeKeyDirectory(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) return {};
  std::error_code ec;
  if (std::filesystem::create_directories(dir, ec)) {
    if (chmod(dir.c_str(), 0700) != 0) {
      return makeError("io-error",
                       fmt::format("chmod of {} failed: {}", dir.string(), strerror(errno)));
    }
  } else if (ec) {
    return makeError("io-error",
                     fmt::format("creating directory {} failed: {}", dir.string(), ec.message()));
  }
  return {};
}

// Reads the private key, creating the file first when it is missing.
Result<std::array<uint8_t, kKeyLength>> loadOrCreateKey(const std::string& path) {
  HOODY_TRY(initSodium());
  for (int attempt = 0; attempt < 2; ++attempt) {
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) return readKeyFile(path, st);
    if (errno != ENOENT) {
      return makeError("io-error", fmt::format("lstat of {} failed: {}", path, strerror(errno)));
    }
    HOODY_TRY(makeKeyDirectory(path));
    HOODY_TRY(writeNewKey(path));
  }
  return makeError("io-error",
                   fmt::format("key file {} vanished while it was being created", path));
}

// Parses tunnel addresses as `address/prefix`, keeping host bits.
Result<std::vector<TunnelAddress>> parseTunnelAddresses(std::span<const std::string> texts) {
  std::vector<TunnelAddress> out;
  for (const std::string& text : texts) {
    auto cidr = net::parseCidr(text);
    auto address = net::parseAddress(std::string_view(text).substr(0, text.find('/')));
    if (!cidr || !address) {
      return makeError("invalid-address",
                       fmt::format("`{}` is not an address with a prefix", text));
    }
    out.push_back({*address, cidr->prefix});
  }
  return out;
}

// --- Checks of an exit ------------------------------------------------------------

struct ParsedExit {
  std::array<uint8_t, kKeyLength> peer_key{};
  std::vector<TunnelAddress> addresses;
};

Result<ParsedExit> parseExit(const ir::Exit& exit) {
  if (exit.kind != ir::Exit::Kind::Wireguard) {
    return makeError("not-wireguard",
                     fmt::format("exit at {} is not a WireGuard exit", exit.origin));
  }
  auto invalid = [&](std::string problem) {
    return makeError("invalid-wireguard-exit",
                     fmt::format("wireguard exit at {}: {}", exit.origin, problem));
  };
  if (exit.interface.empty() || exit.interface.size() >= IFNAMSIZ ||
      exit.interface.find_first_of("/: \t\n") != std::string::npos) {
    return invalid(fmt::format("`{}` is not a valid interface name", exit.interface));
  }
  HOODY_TRY(initSodium());
  auto key = decodeKey(exit.wireguard.public_key);
  if (!key) return invalid("the peer's public key is not 32 bytes of base64");
  if (exit.wireguard.endpoint_port == 0) return invalid("the endpoint has port 0");
  auto addresses = parseTunnelAddresses(exit.wireguard.addresses);
  if (!addresses) return invalid(addresses.error().message);
  if (addresses->empty()) return invalid("no tunnel address is given");
  return ParsedExit{*key, std::move(*addresses)};
}

void appendEndpoint(NetlinkMessage& message, const ir::WireguardPeer& peer) {
  std::string bytes = addressBytes(peer.endpoint);
  if (peer.endpoint.is_v4) {
    sockaddr_in endpoint{};
    endpoint.sin_family = AF_INET;
    endpoint.sin_port = htons(peer.endpoint_port);
    std::memcpy(&endpoint.sin_addr, bytes.data(), 4);
    message.attribute(WGPEER_A_ENDPOINT, &endpoint, sizeof endpoint);
    return;
  }
  sockaddr_in6 endpoint{};
  endpoint.sin6_family = AF_INET6;
  endpoint.sin6_port = htons(peer.endpoint_port);
  std::memcpy(&endpoint.sin6_addr, bytes.data(), 16);
  message.attribute(WGPEER_A_ENDPOINT, &endpoint, sizeof endpoint);
}

// One allowed-IP entry covering a whole address family.
void appendAllowAll(NetlinkMessage& message, uint16_t index, bool v4) {
  size_t entry = message.beginNested(index);
  message.attributeValue<uint16_t>(WGALLOWEDIP_A_FAMILY, v4 ? AF_INET : AF_INET6);
  std::string zeros(v4 ? 4 : 16, '\0');
  message.attribute(WGALLOWEDIP_A_IPADDR, zeros.data(), zeros.size());
  message.attributeValue<uint8_t>(WGALLOWEDIP_A_CIDR_MASK, 0);
  message.endNested(entry);
}

NetlinkMessage setDeviceMessage(uint16_t family_id, const ir::Exit& exit, const ParsedExit& parsed,
                                const std::array<uint8_t, kKeyLength>& private_key,
                                uint16_t keepalive_seconds) {
  NetlinkMessage message(family_id, NLM_F_REQUEST | NLM_F_ACK);
  genlmsghdr header{};
  header.cmd = WG_CMD_SET_DEVICE;
  header.version = WG_GENL_VERSION;
  message.appendHeader(header);
  message.attributeString(WGDEVICE_A_IFNAME, exit.interface);
  message.attribute(WGDEVICE_A_PRIVATE_KEY, private_key.data(), private_key.size());
  message.attributeValue<uint32_t>(WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS);
  size_t peers = message.beginNested(WGDEVICE_A_PEERS);
  size_t peer = message.beginNested(0);
  message.attribute(WGPEER_A_PUBLIC_KEY, parsed.peer_key.data(), parsed.peer_key.size());
  message.attributeValue<uint32_t>(WGPEER_A_FLAGS, WGPEER_F_REPLACE_ALLOWEDIPS);
  appendEndpoint(message, exit.wireguard);
  message.attributeValue<uint16_t>(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, keepalive_seconds);
  size_t allowed = message.beginNested(WGPEER_A_ALLOWEDIPS);
  appendAllowAll(message, 0, true);
  appendAllowAll(message, 1, false);
  message.endNested(allowed);
  message.endNested(peer);
  message.endNested(peers);
  return message;
}

// Creates and deletes a WireGuard link in the calling thread's network
// namespace.
Result<void> probeInCurrentNamespace() {
  auto rt = NetlinkSocket::open(NETLINK_ROUTE);
  if (!rt) return Unexpected<Error>{rt.error()};
  constexpr std::string_view kProbeName = "hoodywgprobe";
  int err = 0;
  auto created = createWireguardLink(*rt, kProbeName, &err);
  if (!created) {
    if (err == EOPNOTSUPP) {
      return makeError("wireguard-unsupported",
                       "this kernel has no WireGuard support; load the module with `modprobe "
                       "wireguard`, boot a kernel built with CONFIG_WIREGUARD, or remove the "
                       "WireGuard exits from the policy");
    }
    if (err == EPERM) {
      return makeError(
          "permission-denied",
          "creating a WireGuard interface needs CAP_NET_ADMIN; run the applier as root");
    }
    return created;
  }
  return deleteLink(*rt, kProbeName);
}

Result<int> interfaceIndex(std::string_view interface) {
  std::string name(interface);
  int index = static_cast<int>(if_nametoindex(name.c_str()));
  if (index == 0) return netlinkError(fmt::format("finding interface {}", interface), errno);
  return index;
}

// Configures an interface that exists: key, peer, addresses, up, routes.
// NOTE: the WG_CMD_SET_DEVICE request is checked only for its layout
// (wireguard_test.cc), never against a kernel with WireGuard. A reused
// interface keeps tunnel addresses that the exit no longer lists.
Result<void> configure(const ir::Exit& exit, const ParsedExit& parsed,
                       const std::array<uint8_t, kKeyLength>& private_key,
                       const TunnelOptions& options) {
  auto genl = NetlinkSocket::open(NETLINK_GENERIC);
  if (!genl) return Unexpected<Error>{genl.error()};
  auto family = resolveWireguardFamily(*genl);
  if (!family) return Unexpected<Error>{family.error()};
  NetlinkMessage set =
      setDeviceMessage(*family, exit, parsed, private_key, options.keepalive_seconds);
  auto replies =
      genl->transact(std::move(set), fmt::format("configuring WireGuard on {}", exit.interface));
  if (!replies) return Unexpected<Error>{replies.error()};
  HOODY_TRY(setTunnelAddresses(exit.interface, exit.wireguard.addresses));
  return routeSources(exit.interface, options);
}

}  // namespace

Result<void> probeWireguardSupport() {
  if (access("/sys/module/wireguard", F_OK) == 0) return {};
  // A thread's network namespace is its own; the namespace, and the probe
  // link with it, disappear when the thread ends.
  Result<void> result;
  std::thread worker([&result] {
    if (unshare(CLONE_NEWNET) != 0) {
      int e = errno;
      result = e == EPERM ? makeError("permission-denied",
                                      "checking for WireGuard support needs CAP_SYS_ADMIN to "
                                      "create a network namespace; run the applier as root")
                          : netlinkError("creating a network namespace for the WireGuard probe", e);
      return;
    }
    result = probeInCurrentNamespace();
  });
  worker.join();
  return result;
}

Result<std::string> publicKeyFromPrivate(std::string_view private_key_base64) {
  HOODY_TRY(initSodium());
  auto secret = decodeKey(private_key_base64);
  if (!secret) return Unexpected<Error>{secret.error()};
  auto pub = publicKeyOf(*secret);
  sodium_memzero(secret->data(), secret->size());
  if (!pub) return Unexpected<Error>{pub.error()};
  return encodeKey(*pub);
}

Result<std::string> ensurePrivateKey(const std::string& path) {
  auto secret = loadOrCreateKey(path);
  if (!secret) return Unexpected<Error>{secret.error()};
  auto pub = publicKeyOf(*secret);
  sodium_memzero(secret->data(), secret->size());
  if (!pub) return Unexpected<Error>{pub.error()};
  return encodeKey(*pub);
}

Result<void> bringUp(const ir::Exit& exit, const TunnelOptions& options) {
  auto parsed = parseExit(exit);
  if (!parsed) return Unexpected<Error>{parsed.error()};
  HOODY_TRY(probeWireguardSupport());
  auto private_key = loadOrCreateKey(options.key_file);
  if (!private_key) return Unexpected<Error>{private_key.error()};
  auto rt = NetlinkSocket::open(NETLINK_ROUTE);
  if (!rt) return Unexpected<Error>{rt.error()};

  int err = 0;
  bool created = true;
  if (auto made = createWireguardLink(*rt, exit.interface, &err); !made) {
    if (err != EEXIST) return made;
    auto kind = linkKind(*rt, exit.interface);
    if (!kind) return Unexpected<Error>{kind.error()};
    if (*kind != "wireguard") {
      return makeError("interface-in-use",
                       fmt::format("interface {} exists and is not a WireGuard interface (kind "
                                   "`{}`); remove it or rename it",
                                   exit.interface, *kind));
    }
    created = false;
  }
  auto configured = configure(exit, *parsed, *private_key, options);
  sodium_memzero(private_key->data(), private_key->size());
  if (!configured && created) {
    auto removed = deleteLink(*rt, exit.interface);
    if (!removed) {
      Error error = configured.error();
      error.message += "; deleting the new interface also failed: " + removed.error().message;
      return Unexpected<Error>{std::move(error)};
    }
  }
  return configured;
}

Result<void> setTunnelAddresses(std::string_view interface,
                                std::span<const std::string> addresses) {
  auto parsed = parseTunnelAddresses(addresses);
  if (!parsed) return Unexpected<Error>{parsed.error()};
  auto index = interfaceIndex(interface);
  if (!index) return Unexpected<Error>{index.error()};
  auto rt = NetlinkSocket::open(NETLINK_ROUTE);
  if (!rt) return Unexpected<Error>{rt.error()};
  for (const TunnelAddress& address : *parsed) {
    HOODY_TRY(addAddress(*rt, *index, address, interface));
  }
  return setLinkUp(*rt, *index, interface);
}

Result<void> routeSources(std::string_view interface, const TunnelOptions& options) {
  if (options.route_table == 0) return {};
  auto index = interfaceIndex(interface);
  if (!index) return Unexpected<Error>{index.error()};
  auto rt = NetlinkSocket::open(NETLINK_ROUTE);
  if (!rt) return Unexpected<Error>{rt.error()};
  HOODY_TRY(addDefaultRoute(*rt, *index, true, options.route_table, interface));
  HOODY_TRY(addDefaultRoute(*rt, *index, false, options.route_table, interface));
  for (const ir::IpAddress& source : options.sources) {
    HOODY_TRY(changeSourceRule(*rt, true, source, options.route_table));
  }
  return {};
}

Result<void> tearDown(std::string_view interface, const TunnelOptions& options) {
  auto rt = NetlinkSocket::open(NETLINK_ROUTE);
  if (!rt) return Unexpected<Error>{rt.error()};
  if (options.route_table != 0) {
    for (const ir::IpAddress& source : options.sources) {
      HOODY_TRY(changeSourceRule(*rt, false, source, options.route_table));
    }
  }
  std::string name(interface);
  if (if_nametoindex(name.c_str()) == 0) return {};
  return deleteLink(*rt, interface);
}

Result<std::string> encodeSetDevice(uint16_t family_id, uint32_t sequence, const ir::Exit& exit,
                                    const std::array<uint8_t, 32>& private_key,
                                    uint16_t keepalive_seconds) {
  auto parsed = parseExit(exit);
  if (!parsed) return Unexpected<Error>{parsed.error()};
  return setDeviceMessage(family_id, exit, *parsed, private_key, keepalive_seconds)
      .finish(sequence);
}

}  // namespace hoody::host
