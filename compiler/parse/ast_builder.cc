// SPDX-License-Identifier: Apache-2.0
// Parse tree -> syntax tree. Walks the generated contexts directly instead of
// through the generated visitor, because the visitor returns antlrcpp::Any and
// would lose the types of the nodes.
#include "compiler/parse/ast_builder.h"

#include <fmt/format.h>

namespace hoody::parse {
namespace {

using grammar::HoodyParser;
using antlr4::tree::TerminalNode;

class Builder {
 public:
  Builder(const std::string& path, diag::DiagnosticSink& sink) : path_(path), sink_(sink) {}

  ast::File file(HoodyParser::FileContext* ctx) {
    ast::File f;
    f.path = path_;
    for (auto* r : ctx->realm()) f.realms.push_back(realm(r));
    return f;
  }

 private:
  // --- Spans and leaves ----------------------------------------------------------

  diag::Span span(const antlr4::Token* token) const { return tokenSpan(path_, token); }

  diag::Span span(antlr4::ParserRuleContext* ctx) const {
    diag::Span first = span(ctx->getStart());
    const antlr4::Token* stop = ctx->getStop();
    if (stop == nullptr || stop->getTokenIndex() < ctx->getStart()->getTokenIndex()) return first;
    return diag::Span::cover(first, span(stop));
  }

  ast::Word word(const antlr4::Token* token) const { return {token->getText(), span(token)}; }
  ast::Word word(TerminalNode* node) const { return word(node->getSymbol()); }
  ast::Word word(HoodyParser::IdentifierContext* ctx) const { return word(ctx->getStart()); }

  ast::Flag flag(HoodyParser::BooleanContext* ctx) const {
    return {ctx->TRUE() != nullptr, span(ctx)};
  }

  std::vector<ast::Word> words(HoodyParser::AtomListContext* ctx) const {
    std::vector<ast::Word> out;
    if (ctx == nullptr) return out;
    for (auto* node : ctx->ATOM()) out.push_back(word(node));
    return out;
  }

  std::vector<ast::Text> texts(HoodyParser::StringListContext* ctx) {
    std::vector<ast::Text> out;
    if (ctx == nullptr) return out;
    for (auto* node : ctx->STRING()) out.push_back(text(node));
    return out;
  }

  ast::Text text(TerminalNode* node) { return text(node->getSymbol()); }

  // Decodes a string literal. The lexer guarantees the quotes and that a
  // backslash is always followed by a character on the same line.
  ast::Text text(const antlr4::Token* token) {
    ast::Text t;
    t.span = span(token);
    std::string raw = token->getText();
    std::string_view body(raw);
    body = body.substr(1, body.size() - 2);
    for (size_t i = 0; i < body.size(); ++i) {
      if (body[i] != '\\') {
        t.value += body[i];
        continue;
      }
      char next = body[++i];
      switch (next) {
        case '"':
        case '\\':
          t.value += next;
          break;
        case 'n':
          t.value += '\n';
          break;
        case 't':
          t.value += '\t';
          break;
        case 'r':
          t.value += '\r';
          break;
        default: {
          diag::Span at = t.span;
          at.column = t.span.column + 1 + static_cast<int>(codePointsBefore(body, i - 1));
          at.end_line = at.line;
          at.end_column = at.column + 2;
          sink_.error("invalid-escape", at,
                      fmt::format("unknown escape {} in a string", diag::quote(body.substr(i - 1, 2))),
                      "use `\\\"`, `\\\\`, `\\n`, `\\t` or `\\r`; write a backslash as `\\\\`");
          t.value += '\\';
          t.value += next;
        }
      }
    }
    return t;
  }

  static size_t codePointsBefore(std::string_view text, size_t byte_offset) {
    size_t n = 0;
    for (size_t i = 0; i < byte_offset && i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) ++n;
    }
    return n;
  }

  // Reports a second occurrence of a once-only setting; returns true when
  // `slot` was still empty and the caller should fill it.
  template <typename T>
  bool firstSetting(const std::optional<T>& slot, const diag::Span& at, std::string_view setting) {
    if (!slot.has_value()) return true;
    sink_.error("duplicate-setting", at, fmt::format("{} is set twice in this block", setting),
                "keep one; the first one is used");
    return false;
  }

  // --- Realm level ---------------------------------------------------------------

  ast::Realm realm(HoodyParser::RealmContext* ctx) {
    ast::Realm r;
    r.span = span(ctx);
    r.name = word(ctx->identifier());
    for (auto* item : ctx->realmItem()) {
      if (auto* g = dynamic_cast<HoodyParser::RealmGroupContext*>(item)) {
        r.groups.push_back({span(g), word(g->identifier()), groupBody(g->groupBody())});
      } else if (auto* p = dynamic_cast<HoodyParser::RealmProviderContext*>(item)) {
        r.providers.push_back(provider(p->provider()));
      } else if (auto* p = dynamic_cast<HoodyParser::RealmProfileContext*>(item)) {
        r.profiles.push_back(profile(p->profileDef()));
      } else if (auto* p = dynamic_cast<HoodyParser::RealmProjectContext*>(item)) {
        r.projects.push_back(project(p->project()));
      }
    }
    return r;
  }

  ast::Provider provider(HoodyParser::ProviderContext* ctx) {
    ast::Provider p;
    p.span = span(ctx);
    p.name = word(ctx->identifier());
    for (auto* item : ctx->providerItem()) {
      if (item->wireguardBody() == nullptr) continue;
      if (firstSetting(p.wireguard, span(item), "`wireguard`")) {
        p.wireguard = wireguard(item->wireguardBody(), span(item));
      }
    }
    return p;
  }

  ast::Profile profile(HoodyParser::ProfileDefContext* ctx) {
    ast::Profile p;
    p.span = span(ctx);
    p.name = word(ctx->identifier());
    for (auto* item : ctx->profileItem()) {
      if (auto* b = dynamic_cast<HoodyParser::ProfileBaseContext*>(item)) {
        if (firstSetting(p.base, span(b), "`base`")) p.base = word(b->identifier());
      } else if (auto* d = dynamic_cast<HoodyParser::ProfileDiskEncryptionContext*>(item)) {
        if (firstSetting(p.disk_encryption, span(d), "`disk_encryption`")) {
          p.disk_encryption = word(d->identifier());
        }
      } else if (auto* s = dynamic_cast<HoodyParser::ProfileSnapshotsContext*>(item)) {
        if (firstSetting(p.snapshots, span(s), "`snapshots`")) p.snapshots = word(s->identifier());
      }
    }
    return p;
  }

  ast::Project project(HoodyParser::ProjectContext* ctx) {
    ast::Project p;
    p.span = span(ctx);
    p.name = word(ctx->identifier());
    p.id = word(ctx->ATOM());
    for (auto* item : ctx->projectItem()) {
      if (auto* pr = dynamic_cast<HoodyParser::ProjectProfileContext*>(item)) {
        if (firstSetting(p.profile, span(pr), "`profile`")) p.profile = word(pr->identifier());
      } else if (auto* pe = dynamic_cast<HoodyParser::ProjectPermissionsContext*>(item)) {
        if (firstSetting(p.permissions, span(pe), "`permissions`")) {
          p.permissions = permissions(pe->permissions());
        }
      } else if (auto* c = dynamic_cast<HoodyParser::ProjectContainerContext*>(item)) {
        p.containers.push_back(container(c->container()));
      } else if (auto* a = dynamic_cast<HoodyParser::ProjectAliasContext*>(item)) {
        p.aliases.push_back(alias(a->alias()));
      } else if (auto* t = dynamic_cast<HoodyParser::ProjectTestContext*>(item)) {
        p.tests.push_back(policyTest(t->policyTest()));
      }
    }
    return p;
  }

  ast::Container container(HoodyParser::ContainerContext* ctx) {
    ast::Container c;
    c.span = span(ctx);
    c.name = word(ctx->identifier());
    c.id = word(ctx->ATOM());
    for (auto* item : ctx->containerItem()) {
      if (auto* pe = dynamic_cast<HoodyParser::ContainerPermissionsContext*>(item)) {
        if (firstSetting(c.permissions, span(pe), "`permissions`")) {
          c.permissions = permissions(pe->permissions());
        }
      } else if (auto* f = dynamic_cast<HoodyParser::ContainerFirewallContext*>(item)) {
        if (firstSetting(c.firewall, span(f), "`firewall`")) c.firewall = firewall(f->firewall());
      } else if (auto* n = dynamic_cast<HoodyParser::ContainerNetworkContext*>(item)) {
        if (firstSetting(c.network, span(n), "`network`")) c.network = network(n->network());
      } else if (auto* s = dynamic_cast<HoodyParser::ContainerSeccompContext*>(item)) {
        if (firstSetting(c.seccomp, span(s), "`seccomp`")) c.seccomp = seccomp(s->seccomp());
      } else if (auto* st = dynamic_cast<HoodyParser::ContainerStateContext*>(item)) {
        if (firstSetting(c.state, span(st), "`state`")) c.state = word(st->identifier());
      }
    }
    return c;
  }

  // --- Permissions ---------------------------------------------------------------

  ast::PermissionsBlock permissions(HoodyParser::PermissionsContext* ctx) {
    ast::PermissionsBlock b;
    b.span = span(ctx);
    for (auto* item : ctx->permissionItem()) {
      if (auto* d = dynamic_cast<HoodyParser::PermissionDefaultContext*>(item)) {
        b.defaults.push_back({span(d), d->ALLOW() != nullptr, words(d->atomList())});
      } else if (auto* g = dynamic_cast<HoodyParser::PermissionGroupContext*>(item)) {
        ast::GroupEntry entry;
        entry.span = span(g);
        entry.name = word(g->identifier());
        if (g->groupBody() != nullptr) entry.body = groupBody(g->groupBody());
        b.groups.push_back(std::move(entry));
      }
    }
    return b;
  }

  ast::GroupBody groupBody(HoodyParser::GroupBodyContext* ctx) {
    ast::GroupBody body;
    body.span = span(ctx);
    for (auto* item : ctx->groupItem()) groupItem(body, item);
    return body;
  }

  void groupItem(ast::GroupBody& body, HoodyParser::GroupItemContext* item) {
    if (auto* ip = dynamic_cast<HoodyParser::GroupIpContext*>(item)) {
      body.ip_lines.push_back(span(ip));
      for (auto& w : words(ip->atomList())) body.ip.push_back(std::move(w));
    } else if (auto* pp = dynamic_cast<HoodyParser::GroupPlainPasswordContext*>(item)) {
      ast::PasswordCondition cond;
      cond.span = span(pp);
      cond.clear_text = text(pp->STRING());
      body.passwords.push_back(std::move(cond));
    } else if (auto* pw = dynamic_cast<HoodyParser::GroupPasswordContext*>(item)) {
      body.passwords.push_back(passwordCondition(pw));
    } else if (auto* b = dynamic_cast<HoodyParser::GroupBearerContext*>(item)) {
      ast::BearerCondition cond;
      cond.span = span(b);
      for (auto* d : b->bearerDigest()) cond.digests.push_back(bearerDigest(d));
      body.bearers.push_back(std::move(cond));
    } else if (auto* j = dynamic_cast<HoodyParser::GroupJwtContext*>(item)) {
      body.jwts.push_back(jwt(j));
    } else if (auto* a = dynamic_cast<HoodyParser::GroupAllowContext*>(item)) {
      ast::Grant g;
      g.span = span(a);
      g.services = words(a->services);
      g.methods = words(a->methods);
      g.paths = texts(a->paths);
      body.grants.push_back(std::move(g));
    } else if (auto* f = dynamic_cast<HoodyParser::GroupForwardContext*>(item)) {
      if (firstSetting(body.forward_credentials, span(f), "`forward_credentials`")) {
        body.forward_credentials = span(f);
      }
    }
  }

  ast::PasswordCondition passwordCondition(HoodyParser::GroupPasswordContext* ctx) {
    ast::PasswordCondition cond;
    cond.span = span(ctx);
    for (auto* item : ctx->passwordItem()) {
      ast::PasswordUser user;
      user.span = span(item);
      if (auto* h = dynamic_cast<HoodyParser::PasswordHashedContext*>(item)) {
        user.user = text(h->STRING(0));
        user.hash = text(h->STRING(1));
      } else if (auto* p = dynamic_cast<HoodyParser::PasswordPlainContext*>(item)) {
        user.user = text(p->STRING(0));
        user.password = text(p->STRING(1));
      } else {
        continue;
      }
      cond.users.push_back(std::move(user));
    }
    return cond;
  }

  ast::BearerDigest bearerDigest(HoodyParser::BearerDigestContext* ctx) {
    ast::BearerDigest d;
    d.span = span(ctx);
    if (ctx->SHA256() != nullptr) {
      d.has_prefix = true;
      d.hex = text(ctx->STRING()).value;
    } else if (ctx->ATOM() != nullptr) {
      std::string atom = ctx->ATOM()->getText();
      constexpr std::string_view kPrefix = "sha256:";
      d.has_prefix = atom.rfind(kPrefix, 0) == 0;
      d.hex = d.has_prefix ? atom.substr(kPrefix.size()) : atom;
    } else {
      d.hex = text(ctx->STRING()).value;
    }
    return d;
  }

  ast::JwtCondition jwt(HoodyParser::GroupJwtContext* ctx) {
    ast::JwtCondition j;
    j.span = span(ctx);
    for (auto* item : ctx->jwtItem()) jwtItem(j, item);
    return j;
  }

  void jwtItem(ast::JwtCondition& j, HoodyParser::JwtItemContext* item) {
    diag::Span at = span(item);
    if (auto* i = dynamic_cast<HoodyParser::JwtIssuerContext*>(item)) {
      if (firstSetting(j.issuer, at, "`issuer`")) j.issuer = text(i->STRING());
    } else if (auto* a = dynamic_cast<HoodyParser::JwtAudienceContext*>(item)) {
      for (auto& t : texts(a->stringList())) j.audiences.push_back(std::move(t));
    } else if (auto* al = dynamic_cast<HoodyParser::JwtAlgorithmsContext*>(item)) {
      if (firstSetting(j.algorithms_span, at, "`algorithms`")) {
        j.algorithms_span = at;
        j.algorithms = words(al->atomList());
      }
    } else if (auto* k = dynamic_cast<HoodyParser::JwtKeyFileContext*>(item)) {
      if (firstSetting(j.key_file, at, "`key file`")) j.key_file = text(k->STRING());
    } else if (auto* l = dynamic_cast<HoodyParser::JwtLeewayContext*>(item)) {
      if (firstSetting(j.leeway, at, "`leeway`")) j.leeway = word(l->ATOM());
    } else if (auto* c = dynamic_cast<HoodyParser::JwtClaimContainsContext*>(item)) {
      j.claims.push_back({at, word(c->identifier()), ast::ClaimOp::Contains, text(c->STRING())});
    } else if (auto* e = dynamic_cast<HoodyParser::JwtClaimEqualsContext*>(item)) {
      j.claims.push_back({at, word(e->identifier()), ast::ClaimOp::Equals, text(e->STRING())});
    } else if (auto* x = dynamic_cast<HoodyParser::JwtClaimExistsContext*>(item)) {
      j.claims.push_back({at, word(x->identifier()), ast::ClaimOp::Exists, {}});
    } else if (auto* r = dynamic_cast<HoodyParser::JwtRequireExpContext*>(item)) {
      if (firstSetting(j.require_exp, at, "`require_exp`")) j.require_exp = flag(r->boolean());
    } else if (auto* rc = dynamic_cast<HoodyParser::JwtRealmClaimContext*>(item)) {
      if (firstSetting(j.realm_claim, at, "`realm_claim`")) j.realm_claim = text(rc->STRING());
    }
  }

  // --- Container settings ----------------------------------------------------------

  ast::Firewall firewall(HoodyParser::FirewallContext* ctx) {
    ast::Firewall f;
    f.span = span(ctx);
    for (auto* item : ctx->firewallItem()) {
      if (auto* d = dynamic_cast<HoodyParser::FirewallDefaultContext*>(item)) {
        if (firstSetting(f.default_rule, span(d), "`default`")) {
          f.default_rule = ast::DefaultRule{span(d), d->ALLOW() != nullptr, {}};
        }
      } else if (auto* r = dynamic_cast<HoodyParser::FirewallRuleContext*>(item)) {
        ast::FirewallRule rule;
        rule.span = span(r);
        rule.direction = word(r->INGRESS() != nullptr ? r->INGRESS() : r->EGRESS());
        rule.allow = r->ALLOW() != nullptr;
        rule.protocol = word(r->protocol);
        if (r->FROM() != nullptr) rule.peer_keyword = word(r->FROM());
        if (r->TO() != nullptr) rule.peer_keyword = word(r->TO());
        rule.addresses = words(r->addresses);
        rule.ports = words(r->ports);
        f.rules.push_back(std::move(rule));
      }
    }
    return f;
  }

  ast::WireguardSpec wireguard(HoodyParser::WireguardBodyContext* ctx, const diag::Span& at) {
    ast::WireguardSpec w;
    w.span = at;
    for (auto* item : ctx->wireguardItem()) {
      diag::Span item_span = span(item);
      if (auto* e = dynamic_cast<HoodyParser::WireguardEndpointContext*>(item)) {
        if (firstSetting(w.endpoint, item_span, "`endpoint`")) w.endpoint = word(e->ATOM());
      } else if (auto* k = dynamic_cast<HoodyParser::WireguardPublicKeyContext*>(item)) {
        if (firstSetting(w.public_key, item_span, "`public_key`")) w.public_key = text(k->STRING());
      } else if (auto* a = dynamic_cast<HoodyParser::WireguardAddressContext*>(item)) {
        for (auto& x : words(a->atomList())) w.addresses.push_back(std::move(x));
      }
    }
    return w;
  }

  ast::Network network(HoodyParser::NetworkContext* ctx) {
    ast::Network n;
    n.span = span(ctx);
    for (auto* item : ctx->networkItem()) {
      diag::Span at = span(item);
      if (auto* v = dynamic_cast<HoodyParser::NetworkIpv4Context*>(item)) {
        if (firstSetting(n.ipv4, at, "`ipv4`")) n.ipv4 = word(v->ATOM());
      } else if (auto* d = dynamic_cast<HoodyParser::NetworkDnsContext*>(item)) {
        n.dns_lines.push_back(at);
        for (auto& w : words(d->atomList())) n.dns.push_back(std::move(w));
      } else if (auto* p = dynamic_cast<HoodyParser::NetworkExitProxyContext*>(item)) {
        ast::Exit e;
        e.span = at;
        e.kind = ast::Exit::Kind::Proxy;
        e.scheme = word(p->scheme);
        e.address = word(p->address);
        n.exits.push_back(std::move(e));
      } else if (auto* w = dynamic_cast<HoodyParser::NetworkExitWireguardContext*>(item)) {
        ast::Exit e;
        e.span = at;
        e.kind = ast::Exit::Kind::Wireguard;
        e.wireguard = wireguard(w->wireguardBody(), at);
        n.exits.push_back(std::move(e));
      } else if (auto* vpn = dynamic_cast<HoodyParser::NetworkExitVpnContext*>(item)) {
        ast::Exit e;
        e.span = at;
        e.kind = ast::Exit::Kind::Vpn;
        e.provider = word(vpn->identifier());
        n.exits.push_back(std::move(e));
      } else if (dynamic_cast<HoodyParser::NetworkExitBlockContext*>(item) != nullptr) {
        ast::Exit e;
        e.span = at;
        e.kind = ast::Exit::Kind::Block;
        n.exits.push_back(std::move(e));
      }
    }
    return n;
  }

  ast::Seccomp seccomp(HoodyParser::SeccompContext* ctx) {
    ast::Seccomp s;
    s.span = span(ctx);
    if (ctx->identifier() != nullptr) s.base = word(ctx->identifier());
    for (auto* item : ctx->seccompItem()) {
      auto* r = dynamic_cast<HoodyParser::SeccompRuleContext*>(item);
      if (r == nullptr) continue;
      ast::SeccompRule rule;
      rule.span = span(r);
      if (r->ALLOW() != nullptr) {
        rule.action = word(r->ALLOW());
      } else if (r->DENY() != nullptr) {
        rule.action = word(r->DENY());
      } else {
        rule.action = word(r->action);
      }
      rule.syscalls = words(r->atomList());
      if (r->errnoName != nullptr) rule.errno_name = word(r->errnoName);
      s.rules.push_back(std::move(rule));
    }
    return s;
  }

  // --- Aliases and tests -------------------------------------------------------------

  ast::Alias alias(HoodyParser::AliasContext* ctx) {
    ast::Alias a;
    a.span = span(ctx);
    a.name = word(ctx->identifier());
    a.target = word(ctx->ATOM());
    for (auto* item : ctx->aliasItem()) {
      diag::Span at = span(item);
      if (auto* t = dynamic_cast<HoodyParser::AliasTargetPathContext*>(item)) {
        if (firstSetting(a.target_path, at, "`target_path`")) a.target_path = text(t->STRING());
      } else if (auto* o = dynamic_cast<HoodyParser::AliasAllowPathOverrideContext*>(item)) {
        if (firstSetting(a.allow_path_override, at, "`allow_path_override`")) {
          a.allow_path_override = flag(o->boolean());
        }
      } else if (auto* s = dynamic_cast<HoodyParser::AliasScrubContainerIdContext*>(item)) {
        if (firstSetting(a.scrub_container_id, at, "`scrub_container_id`")) {
          a.scrub_container_id = flag(s->boolean());
        }
      } else if (auto* d = dynamic_cast<HoodyParser::AliasDomainContext*>(item)) {
        if (firstSetting(a.domain, at, "`domain`")) a.domain = text(d->STRING());
      }
    }
    return a;
  }

  ast::PolicyTest policyTest(HoodyParser::PolicyTestContext* ctx) {
    ast::PolicyTest t;
    t.span = span(ctx);
    t.name = text(ctx->STRING());
    for (auto* item : ctx->testItem()) {
      auto* r = dynamic_cast<HoodyParser::TestRequestContext*>(item);
      if (r == nullptr) continue;
      ast::TestRequest req;
      req.span = span(r);
      req.target = word(r->target);
      if (r->instance != nullptr) req.instance = word(r->instance);
      req.client = word(r->client);
      if (r->method != nullptr) req.method = word(r->method);
      if (r->path != nullptr) req.path = text(r->path);
      if (r->presenting != nullptr) req.presenting = word(r->presenting);
      req.expect_status = word(r->status);
      if (r->expectGroup != nullptr) req.expect_group = word(r->expectGroup);
      t.requests.push_back(std::move(req));
    }
    return t;
  }

  const std::string& path_;
  diag::DiagnosticSink& sink_;
};

}  // namespace

diag::Span tokenSpan(const std::string& path, const antlr4::Token* token) {
  diag::Span s;
  s.file = path;
  s.line = static_cast<int>(token->getLine());
  s.column = static_cast<int>(token->getCharPositionInLine()) + 1;
  s.end_line = s.line;
  size_t length = 0;
  if (token->getType() != antlr4::Token::EOF && token->getStopIndex() >= token->getStartIndex()) {
    length = token->getStopIndex() - token->getStartIndex() + 1;
  }
  s.end_column = s.column + static_cast<int>(std::max<size_t>(length, 1));
  return s;
}

ast::File buildAst(const std::string& path, HoodyParser::FileContext* tree,
                   diag::DiagnosticSink& sink) {
  return Builder(path, sink).file(tree);
}

}  // namespace hoody::parse
