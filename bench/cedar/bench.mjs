// SPDX-License-Identifier: Apache-2.0
// Cedar peer of the decision benchmark: the cases hoody_decision_bench
// exports (--export-cedar DIR), decided by @cedar-policy/cedar-wasm.
//
//   node bench.mjs CASE.json [CASE.json ...]
//
// Translation: every template block becomes Cedar policies on `resource in
// Template::"tN"`, one per group: an IP group is an OR of `isInRange` over
// its CIDRs (Cedar's ipaddr extension), a bearer group compares the request's
// token digest. Containers are entities whose parent is their template. As
// an application using Cedar would, the harness looks the container up in a
// Map first (unknown ID pairs are 404 without calling Cedar) and passes only
// the container and its template as entities. Each distinct policy set is
// parsed once with preparsePolicySet; each request calls
// statefulIsAuthorized.
//
// Before timing, every timed request's Cedar decision must equal the
// reference interpreter's (allow or not, and the granting group among
// Cedar's reasons); a difference exits with status 1. Times are CPU time per
// request, as in hoody_decision_bench, plus the wall-clock median. Prints one
// JSON object.
import { readFileSync } from 'node:fs';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

const ROUNDS = 11;
// Bounds each case: fewer requests when Cedar is slow, and rounds stop
// early once this much time has passed.
const CASE_BUDGET_MS = 30000;

// Joins terms with `||` as a balanced tree: a left-deep chain of 1,000 terms
// overflows the JavaScript stack while Cedar's result is converted.
function anyOf(terms) {
  if (terms.length === 1) return terms[0];
  const middle = Math.floor(terms.length / 2);
  return `(${anyOf(terms.slice(0, middle))} || ${anyOf(terms.slice(middle))})`;
}

function groupPolicy(template, group) {
  const actions = group.services.map((s) => `Action::"${s}"`).join(', ');
  const head = `permit (principal, action in [${actions}], resource in Template::"${template.id}")`;
  const conditions = [];
  if (group.cidrs) {
    conditions.push(anyOf(group.cidrs.map((c) => `context.ip.isInRange(ip("${c}"))`)));
  }
  if (group.bearer_sha256) {
    const digests = anyOf(group.bearer_sha256.map((d) => `context.token_sha256 == "${d}"`));
    conditions.push(`context has token_sha256 && ${digests}`);
  }
  if (conditions.length === 0) return `${head};`;
  return `${head} when { ${conditions.map((c) => `(${c})`).join(' && ')} };`;
}

function policySet(templates) {
  const policies = {};
  for (const template of templates) {
    if (template.default_allow.length > 0) {
      const actions = template.default_allow.map((s) => `Action::"${s}"`).join(', ');
      policies[`${template.id}.default`] =
        `permit (principal, action in [${actions}], resource in Template::"${template.id}");`;
    }
    for (const group of template.groups) {
      policies[group.name] = groupPolicy(template, group);
    }
  }
  return policies;
}

function callFor(request, containers) {
  const entry = containers.get(request.key);
  if (!entry) return null;
  const context = { ip: { __extn: { fn: 'ip', arg: request.ip } } };
  if (request.token_sha256) context.token_sha256 = request.token_sha256;
  const template = { type: 'Template', id: `t${entry.template}` };
  return {
    maintenance: entry.maintenance,
    call: {
      principal: { type: 'Client', id: 'client' },
      action: { type: 'Action', id: request.service },
      resource: { type: 'Container', id: request.key },
      context,
      preparsedPolicySetId: request.policySetId,
      entities: [
        { uid: { type: 'Container', id: request.key }, attrs: {}, parents: [template] },
        { uid: template, attrs: {}, parents: [] },
      ],
    },
  };
}

// Decides one request as the proxy would: lookup, maintenance, then Cedar.
function decide(request, containers) {
  const prepared = callFor(request, containers);
  if (!prepared) return { outcome: 'not-found' };
  if (prepared.maintenance) return { outcome: 'maintenance' };
  const answer = cedar.statefulIsAuthorized(prepared.call);
  if (answer.type !== 'success') {
    throw new Error(`Cedar failed: ${JSON.stringify(answer.errors)}`);
  }
  return { outcome: answer.response.decision, reasons: answer.response.diagnostics.reason };
}

function checkAgreement(requests, containers) {
  for (const [i, request] of requests.entries()) {
    const got = decide(request, containers);
    const expectedAllow = request.outcome === 'allow';
    const agrees =
      request.outcome === 'not-found' || request.outcome === 'maintenance'
        ? got.outcome === request.outcome
        : (got.outcome === 'allow') === expectedAllow &&
          (!request.group || got.reasons.includes(request.group));
    if (!agrees) {
      throw new Error(`request ${i} (${JSON.stringify(request)}): Cedar decided ` +
                      `${JSON.stringify(got)}, the interpreter ${request.outcome}`);
    }
  }
}

// CPU time of the process in nanoseconds (all threads, so V8's garbage
// collector threads count too); other processes do not add to it.
function cpuNs() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) * 1000;
}

// Times rounds over the first `count` requests: the median, minimum and
// maximum of the rounds' CPU time per request, and the wall-clock median.
function timeRequests(requests, containers) {
  const started = process.hrtime.bigint();
  const cpu = [];
  const wall = [];
  let sink = 0;
  for (let round = 0; round < ROUNDS; ++round) {
    const cpuStart = cpuNs();
    const wallStart = process.hrtime.bigint();
    for (const request of requests) sink += decide(request, containers).outcome.length;
    cpu.push((cpuNs() - cpuStart) / requests.length);
    wall.push(Number(process.hrtime.bigint() - wallStart) / requests.length);
    if (Number(process.hrtime.bigint() - started) / 1e6 > CASE_BUDGET_MS) break;
  }
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  const middle = (values) => values[Math.floor(values.length / 2)];
  return {
    median_ns: middle(cpu),
    min_ns: cpu[0],
    max_ns: cpu[cpu.length - 1],
    wall_median_ns: middle(wall),
    rounds: cpu.length,
    checksum: sink,
  };
}

// Picks how many requests fit the time budget: Cedar takes from tens of
// microseconds to tens of milliseconds per request here, depending on the
// size of the policy set.
function requestsInBudget(requests, containers) {
  const sample = requests.slice(0, 32);
  const start = process.hrtime.bigint();
  for (const request of sample) decide(request, containers);
  const perRequestMs = Number(process.hrtime.bigint() - start) / 1e6 / sample.length;
  const fit = Math.floor(CASE_BUDGET_MS / (ROUNDS + 2) / Math.max(perRequestMs, 1e-6));
  return requests.slice(0, Math.max(sample.length, Math.min(requests.length, fit)));
}

// Cases of one group kind and range count share their templates, so each
// distinct policy set is parsed once.
const parsedSets = new Map();

function preparse(policies) {
  const text = JSON.stringify(policies);
  if (parsedSets.has(text)) return { id: parsedSets.get(text), parseMs: 0, reused: true };
  const id = `set${parsedSets.size}`;
  const start = process.hrtime.bigint();
  const parsed = cedar.preparsePolicySet(id, { staticPolicies: policies });
  if (parsed.type !== 'success') {
    throw new Error(`Cedar cannot parse the policies: ${JSON.stringify(parsed.errors)}`);
  }
  parsedSets.set(text, id);
  return { id, parseMs: Number(process.hrtime.bigint() - start) / 1e6, reused: false };
}

function runCase(path) {
  const data = JSON.parse(readFileSync(path, 'utf8'));
  const containers = new Map();
  for (const [key, template, maintenance] of data.containers) {
    containers.set(key, { template, maintenance });
  }
  const policies = policySet(data.templates);
  const { id, parseMs, reused } = preparse(policies);
  for (const request of data.requests) request.policySetId = id;
  const requests = requestsInBudget(data.requests, containers);
  checkAgreement(requests, containers);
  const timing = timeRequests(requests, containers);
  return {
    case: data.case,
    policies: Object.keys(policies).length,
    policy_text_bytes: Object.values(policies).reduce((n, p) => n + p.length, 0),
    containers: data.containers.length,
    requests: requests.length,
    preparse_ms: parseMs,
    preparse_reused: reused,
    engine: 'cedar',
    ...timing,
  };
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench.mjs CASE.json [CASE.json ...]');
  process.exit(2);
}
const cases = [];
try {
  for (const file of files) {
    console.error(`cedar: ${file}`);
    cases.push(runCase(file));
  }
} catch (error) {
  console.error(`cedar: ${error.message}`);
  process.exit(1);
}
console.log(JSON.stringify({
  benchmark: 'cedar',
  cedar_version: cedar.getCedarVersion(),
  node_version: process.version,
  cases,
}, null, 2));
