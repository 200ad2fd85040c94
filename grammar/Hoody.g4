// SPDX-License-Identifier: Apache-2.0
// Grammar of the Hoody policy language (ANTLR 4, combined lexer and parser).
//
// Layout rules:
// - Blocks use braces. Statements inside a block may be separated by `;`,
//   and newlines are plain whitespace. No separator is needed, because every
//   statement starts with a keyword (or, in a seccomp block, an action name)
//   and lists are comma-separated: a list ends at the first item that is not
//   preceded by a comma.
// - Comments run from `#` or `//` to the end of the line.
// - Values such as addresses, CIDRs, IDs, ports, durations, service and method
//   names are lexed as one permissive ATOM token and validated by the checker,
//   so a malformed value like `203.0.113.010` gets a diagnostic naming the
//   value instead of a syntax error.
// - Keywords are reserved tokens; the `identifier` rule accepts them as
//   declared names, so a container may be called `test` or `network`.
grammar Hoody;

// ---------------------------------------------------------------------------
// Parser

file : realm* EOF ;

realm : REALM identifier '{' realmItem* '}' ;

realmItem
  : GROUP identifier groupBody          # realmGroup
  | provider                            # realmProvider
  | profileDef                          # realmProfile
  | project                             # realmProject
  | ';'                                 # realmEmpty
  ;

provider : PROVIDER identifier '{' providerItem* '}' ;
providerItem : WIREGUARD wireguardBody | ';' ;

profileDef : PROFILE identifier '{' profileItem* '}' ;
profileItem
  : BASE identifier                     # profileBase
  | DISK_ENCRYPTION identifier          # profileDiskEncryption
  | SNAPSHOTS identifier                # profileSnapshots
  | ';'                                 # profileEmpty
  ;

project : PROJECT identifier ID ATOM '{' projectItem* '}' ;
projectItem
  : PROFILE identifier                  # projectProfile
  | permissions                         # projectPermissions
  | container                           # projectContainer
  | alias                               # projectAlias
  | policyTest                          # projectTest
  | ';'                                 # projectEmpty
  ;

container : CONTAINER identifier ID ATOM ('{' containerItem* '}')? ;
containerItem
  : permissions                         # containerPermissions
  | firewall                            # containerFirewall
  | network                             # containerNetwork
  | seccomp                             # containerSeccomp
  | STATE identifier                    # containerState
  | ';'                                 # containerEmpty
  ;

// --- Permissions ---------------------------------------------------------------

permissions : PERMISSIONS '{' permissionItem* '}' ;
permissionItem
  : DEFAULT (ALLOW | DENY) atomList?    # permissionDefault
  | GROUP identifier groupBody?         # permissionGroup
  | ';'                                 # permissionEmpty
  ;

groupBody : '{' groupItem* '}' ;
groupItem
  : IP atomList                         # groupIp
  | PASSWORD STRING                     # groupPlainPassword
  | PASSWORD '{' passwordItem* '}'      # groupPassword
  | BEARER bearerDigest (',' bearerDigest)*  # groupBearer
  | JWT '{' jwtItem* '}'                # groupJwt
  | ALLOW services=atomList (METHODS methods=atomList)? (PATHS paths=stringList)?  # groupAllow
  | FORWARD_CREDENTIALS                 # groupForward
  | ';'                                 # groupEmpty
  ;

passwordItem
  : USER STRING HASH STRING             # passwordHashed
  | USER STRING PASSWORD STRING         # passwordPlain
  | ';'                                 # passwordEmpty
  ;

bearerDigest : SHA256 STRING | ATOM | STRING ;

jwtItem
  : ISSUER STRING                       # jwtIssuer
  | AUDIENCE stringList                 # jwtAudience
  | ALGORITHMS atomList                 # jwtAlgorithms
  | KEY FILE STRING                     # jwtKeyFile
  | LEEWAY ATOM                         # jwtLeeway
  | CLAIM identifier CONTAINS STRING    # jwtClaimContains
  | CLAIM identifier EQUALS STRING      # jwtClaimEquals
  | CLAIM identifier EXISTS             # jwtClaimExists
  | REQUIRE_EXP boolean                 # jwtRequireExp
  | REALM_CLAIM STRING                  # jwtRealmClaim
  | ';'                                 # jwtEmpty
  ;

// --- Container settings --------------------------------------------------------

firewall : FIREWALL '{' firewallItem* '}' ;
firewallItem
  : DEFAULT (ALLOW | DENY)              # firewallDefault
  | (INGRESS | EGRESS) (ALLOW | DENY) protocol=ATOM ((FROM | TO) addresses=atomList)?
    (PORT ports=atomList)?              # firewallRule
  | ';'                                 # firewallEmpty
  ;

network : NETWORK '{' networkItem* '}' ;
networkItem
  : IPV4 ATOM                           # networkIpv4
  | EXIT WIREGUARD wireguardBody        # networkExitWireguard
  | EXIT VPN identifier                 # networkExitVpn
  | EXIT BLOCK                          # networkExitBlock
  | EXIT scheme=ATOM address=ATOM       # networkExitProxy
  | DNS atomList                        # networkDns
  | ';'                                 # networkEmpty
  ;

wireguardBody : '{' wireguardItem* '}' ;
wireguardItem
  : ENDPOINT ATOM                       # wireguardEndpoint
  | PUBLIC_KEY STRING                   # wireguardPublicKey
  | ADDRESS atomList                    # wireguardAddress
  | ';'                                 # wireguardEmpty
  ;

seccomp : SECCOMP identifier? '{' seccompItem* '}' ;
seccompItem
  : (ALLOW | DENY | action=ATOM) atomList (ERRNO errnoName=ATOM)?  # seccompRule
  | ';'                                 # seccompEmpty
  ;

// --- Aliases and tests ---------------------------------------------------------

alias : ALIAS identifier ARROW ATOM ('{' aliasItem* '}')? ;
aliasItem
  : TARGET_PATH STRING                  # aliasTargetPath
  | ALLOW_PATH_OVERRIDE boolean         # aliasAllowPathOverride
  | SCRUB_CONTAINER_ID boolean          # aliasScrubContainerId
  | DOMAIN STRING                       # aliasDomain
  | ';'                                 # aliasEmpty
  ;

policyTest : TEST STRING '{' testItem* '}' ;
testItem
  : REQUEST target=ATOM (INSTANCE instance=ATOM)? FROM client=ATOM (METHOD method=ATOM)?
    (PATH path=STRING)? (PRESENTING presenting=identifier)? EXPECT status=ATOM
    (GROUP expectGroup=identifier)?     # testRequest
  | ';'                                 # testEmpty
  ;

// --- Shared pieces -------------------------------------------------------------

atomList : ATOM (',' ATOM)* ;
stringList : STRING (',' STRING)* ;
boolean : TRUE | FALSE ;

identifier
  : ATOM
  | REALM | PROJECT | CONTAINER | GROUP | PROVIDER | PROFILE | PERMISSIONS | DEFAULT
  | ALLOW | DENY | ID | IP | PASSWORD | USER | HASH | BEARER | JWT | ISSUER | AUDIENCE
  | ALGORITHMS | KEY | FILE | LEEWAY | CLAIM | CONTAINS | EQUALS | EXISTS | REQUIRE_EXP
  | REALM_CLAIM | METHODS | PATHS | FORWARD_CREDENTIALS | FIREWALL | INGRESS | EGRESS
  | FROM | TO | PORT | NETWORK | IPV4 | EXIT | WIREGUARD | VPN | BLOCK | DNS | ENDPOINT
  | PUBLIC_KEY | ADDRESS | SECCOMP | ERRNO | STATE | ALIAS | TARGET_PATH
  | ALLOW_PATH_OVERRIDE | SCRUB_CONTAINER_ID | DOMAIN | TEST | REQUEST | INSTANCE | METHOD
  | PATH | PRESENTING | EXPECT | BASE | DISK_ENCRYPTION | SNAPSHOTS | TRUE | FALSE
  ;

// ---------------------------------------------------------------------------
// Lexer. Keywords come before ATOM: for a word both match with the same
// length, ANTLR picks the rule defined first.

// Comments go to the hidden channel instead of being dropped, so a tool that
// rewrites policy text (a formatter) can keep them; the parser never sees them.
LINE_COMMENT : ('#' | '//') ~[\r\n]* -> channel(HIDDEN) ;
WS : [ \t\r\n\f]+ -> skip ;

REALM : 'realm' ;
PROJECT : 'project' ;
CONTAINER : 'container' ;
GROUP : 'group' ;
PROVIDER : 'provider' ;
PROFILE : 'profile' ;
PERMISSIONS : 'permissions' ;
DEFAULT : 'default' ;
ALLOW : 'allow' ;
DENY : 'deny' ;
ID : 'id' ;
IP : 'ip' ;
PASSWORD : 'password' ;
USER : 'user' ;
HASH : 'hash' ;
BEARER : 'bearer' ;
JWT : 'jwt' ;
ISSUER : 'issuer' ;
AUDIENCE : 'audience' ;
ALGORITHMS : 'algorithms' ;
KEY : 'key' ;
FILE : 'file' ;
LEEWAY : 'leeway' ;
CLAIM : 'claim' ;
CONTAINS : 'contains' ;
EQUALS : 'equals' ;
EXISTS : 'exists' ;
REQUIRE_EXP : 'require_exp' ;
REALM_CLAIM : 'realm_claim' ;
METHODS : 'methods' ;
PATHS : 'paths' ;
FORWARD_CREDENTIALS : 'forward_credentials' ;
FIREWALL : 'firewall' ;
INGRESS : 'ingress' ;
EGRESS : 'egress' ;
FROM : 'from' ;
TO : 'to' ;
PORT : 'port' ;
NETWORK : 'network' ;
IPV4 : 'ipv4' ;
EXIT : 'exit' ;
WIREGUARD : 'wireguard' ;
VPN : 'vpn' ;
BLOCK : 'block' ;
DNS : 'dns' ;
ENDPOINT : 'endpoint' ;
PUBLIC_KEY : 'public_key' ;
ADDRESS : 'address' ;
SECCOMP : 'seccomp' ;
ERRNO : 'errno' ;
STATE : 'state' ;
ALIAS : 'alias' ;
TARGET_PATH : 'target_path' ;
ALLOW_PATH_OVERRIDE : 'allow_path_override' ;
SCRUB_CONTAINER_ID : 'scrub_container_id' ;
DOMAIN : 'domain' ;
TEST : 'test' ;
REQUEST : 'request' ;
INSTANCE : 'instance' ;
METHOD : 'method' ;
PATH : 'path' ;
PRESENTING : 'presenting' ;
EXPECT : 'expect' ;
BASE : 'base' ;
DISK_ENCRYPTION : 'disk_encryption' ;
SNAPSHOTS : 'snapshots' ;
TRUE : 'true' ;
FALSE : 'false' ;
SHA256 : 'sha256:' ;
ARROW : '->' ;

LBRACE : '{' ;
RBRACE : '}' ;
SEMI : ';' ;
COMMA : ',' ;

// A double-quoted string; the parser adapter decodes the escapes \" \\ \n \t
// \r and reports any other escape.
STRING : '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* '"' ;
// A string missing its closing quote before the end of the line; reported by
// the parser adapter with its own message.
UNTERMINATED_STRING : '"' ( '\\' ~[\r\n] | ~["\\\r\n] )* '\\'? ;

// Names, numbers, IDs, addresses, CIDRs, ports, durations and dotted
// references. `[` and `]` allow bracketed IPv6 endpoints like [2001:db8::1]:443;
// `+` is accepted so that `/+8` reaches the checker as a malformed prefix.
ATOM : [A-Za-z0-9_.:/+\-[\]]+ ;

// Any other character; reported by the parser adapter.
UNEXPECTED_CHAR : . ;
