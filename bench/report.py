#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Render the raw results of bench/run.sh as the tables of bench/RESULTS.md.

    bench/report.py RESULTS_DIR RESULTS_MD

Replaces the text between the `<!-- generated:begin -->` and
`<!-- generated:end -->` lines of RESULTS_MD and keeps the rest, so the
hand-written reading of the numbers stays.
"""

import json
import os
import re
import sys

BEGIN = "<!-- generated:begin -->"
END = "<!-- generated:end -->"


def load_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def time_v(path):
    """Returns wall seconds, user+system seconds and max RSS (MiB) from
    `/usr/bin/time -v` output, and whether the command timed out."""
    if not os.path.exists(path):
        return None
    text = open(path).read()
    out = {"timed_out": "timed out after" in text}
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    if wall:
        seconds = 0.0
        for part in wall.group(1).split(":"):
            seconds = seconds * 60 + float(part)
        out["wall_s"] = seconds
    user = re.search(r"User time \(seconds\): (\S+)", text)
    system = re.search(r"System time \(seconds\): (\S+)", text)
    if user and system:
        out["cpu_s"] = float(user.group(1)) + float(system.group(1))
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if rss:
        out["rss_mib"] = int(rss.group(1)) / 1024
    timeout = re.search(r"timed out after (\d+) s", text)
    if timeout:
        out["timeout_s"] = int(timeout.group(1))
    return out


def ns(value):
    if value is None:
        return "–"
    if value >= 1e6:
        return "%.2f ms" % (value / 1e6)
    if value >= 1e4:
        return "%.1f µs" % (value / 1e3)
    return "%.0f ns" % value


def ratio(slow, fast):
    if slow is None or fast is None or fast == 0:
        return "–"
    value = slow / fast
    return "%.0f×" % value if value >= 10 else "%.1f×" % value


def decision_tables(decision, cedar):
    cedar_by_case = {c["case"]: c for c in (cedar or {}).get("cases", [])}
    lines = [
        "CPU time per decision, median of 11 rounds over 65,536 requests (Cedar:",
        "over as many of 4,096 requests as fit 30 s). `digest`: bearer check by",
        "constant-time comparison of a precomputed SHA-256 digest; `runtime`: the",
        "proxy's CachingVerifier, which hashes the token once per request.",
        "",
        "| case | verifier | interpreter | JIT | JIT, no reason | baseline | Cedar "
        "| interpreter ÷ JIT | baseline ÷ JIT | Cedar ÷ JIT |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    compile_rows = []
    for case in decision["cases"]:
        by = {}
        for r in case["results"]:
            by[(r["engine"], r["verifier"])] = r["median_ns"]
        for verifier in ("digest", "runtime"):
            if not any(k[1] == verifier for k in by):
                continue
            jit = by.get(("jit_no_reason", verifier))
            cedar_ns = cedar_by_case.get(case["case"], {}).get("median_ns") if verifier == "digest" else None
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                case["case"], verifier, ns(by.get(("interpreter", verifier))),
                ns(by.get(("jit", verifier))), ns(jit), ns(by.get(("baseline", verifier))),
                ns(cedar_ns), ratio(by.get(("interpreter", verifier)), jit),
                ratio(by.get(("baseline", verifier)), jit), ratio(cedar_ns, jit)))
        compile_rows.append("| %s | %d | %.0f ms | %.0f ms | %.0f ms |" % (
            case["case"], case["blocks"], case["codegen_ms"], case["jit_ms"],
            case["engine_create_cpu_ms"]))
    lines += [
        "",
        "The ratios compare with the JIT without reason text, the mode of the",
        "proxy's request path; the interpreter always builds its reason text.",
        "",
        "JIT engine creation for those policies (wall clock; the CPU column is the",
        "thread's CPU time, which other processes on the machine do not inflate):",
        "",
        "| case | blocks | codegen | JIT | CPU |",
        "| --- | ---: | ---: | ---: | ---: |",
    ] + compile_rows
    if cedar:
        lines += ["", "Cedar %s on Node %s: policies parsed once per policy set "
                  "(preparsePolicySet), then statefulIsAuthorized per request." % (
                      cedar["cedar_version"], cedar["node_version"]), "",
                  "| case | policies | policy text | preparse | requests timed | CPU median | wall median |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for c in cedar["cases"]:
            lines.append("| %s | %d | %d KiB | %s | %d | %s | %s |" % (
                c["case"], c["policies"], c["policy_text_bytes"] // 1024,
                "shared" if c["preparse_reused"] else "%.1f s" % (c["preparse_ms"] / 1000),
                c["requests"], ns(c["median_ns"]), ns(c["wall_median_ns"])))
    return lines


def compile_tables(results):
    lines = ["| step | containers | wall | CPU | max RSS |", "| --- | ---: | ---: | ---: | ---: |"]
    names = sorted(os.listdir(results))
    for name in names:
        match = re.match(r"compile-(\d+)\.time$", name)
        if not match:
            continue
        n = int(match.group(1))
        t = time_v(os.path.join(results, name))
        if t.get("timed_out"):
            lines.append("| `hoodyc compile` | %d | timed out after %d s | – | – |" % (
                n, t.get("timeout_s", 0)))
        else:
            lines.append("| `hoodyc compile` | %d | %.2f s | %.2f s | %.0f MiB |" % (
                n, t["wall_s"], t["cpu_s"], t["rss_mib"]))
        load = time_v(os.path.join(results, "load-%d.time" % n))
        if load:
            lines.append("| JIT load of that bundle | %d | %.2f s | %.2f s | %.0f MiB |" % (
                n, load["wall_s"], load["cpu_s"], load["rss_mib"]))
    generated = time_v(os.path.join(results, "load-generated-100000.time"))
    detail = load_json(os.path.join(results, "load-generated-100000.json"))
    if generated and detail:
        lines.append("| JIT load, generator bundle | %d | %.2f s | %.2f s | %.0f MiB |" % (
            detail["containers"], generated["wall_s"], generated["cpu_s"], generated["rss_mib"]))
        lines += ["", "Steps of the generator bundle's load: bundle read and hash checks "
                  "%.0f ms, bitcode parsing %.0f ms, JIT %.0f ms (bitcode %.1f MiB)." % (
                      detail["bundle_load_ms"], detail["bitcode_parse_ms"], detail["jit_ms"],
                      detail["bitcode_bytes"] / 2 ** 20)]
    return lines


def reload_table(reload):
    if not reload:
        return ["No reload results."]
    return [
        "%d worker threads decide through a JitEngineSlot while the main thread loads "
        "a %d-container bundle and swaps it in; %d reloads." % (
            reload["workers"], reload["containers"], reload["reloads"]),
        "",
        "| measure | median |",
        "| --- | ---: |",
        "| load to swap (read, verify, parse, JIT) | %.0f ms |" % reload["load_to_swap_ms_median"],
        "| swap to first decision on the new engine | %.1f µs |" % reload["swap_to_first_new_decision_us_median"],
        "| freeing the old engine | %.1f ms |" % reload["old_engine_release_ms_median"],
        "| decisions per second, idle | %.0f |" % reload["decisions_per_second_idle"],
        "| decisions per second, while loading | %.0f |" % reload["decisions_per_second_while_loading"],
    ]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RESULTS_DIR RESULTS_MD")
    results, target = sys.argv[1], sys.argv[2]
    machine = open(os.path.join(results, "machine.txt")).read().strip().splitlines()
    decision = load_json(os.path.join(results, "decision.json"))
    cedar = None
    for name in sorted(os.listdir(results)):
        if name.startswith("cedar-") and name.endswith(".json"):
            try:
                part = load_json(os.path.join(results, name))
            except json.JSONDecodeError:
                continue
            if cedar is None:
                cedar = part
            else:
                cedar["cases"] += part["cases"]
    reload = load_json(os.path.join(results, "reload.json"))

    lines = [BEGIN, "", "### Run"]
    lines += ["- " + line for line in machine]
    lines += ["- raw results: `bench/results/`", "", "### Decision time"]
    lines += decision_tables(decision, cedar)
    lines += ["", "### Compile and load", ""] + compile_tables(results)
    lines += ["", "### Reload under load", ""] + reload_table(reload)
    lines += ["", END]

    text = open(target).read() if os.path.exists(target) else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + "\n".join(lines) + tail
    else:
        text = text + "\n" + "\n".join(lines) + "\n"
    with open(target, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
