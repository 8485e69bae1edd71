#!/usr/bin/env bash
# Compares Quanta with llama.cpp (LLamaSharp 0.30.0) on one GGUF model, llama-bench style.
#
#   bench/compare-llamacpp.sh MODEL.gguf [-t THREADS] [-r REPS] [-a ALTERNATIONS] [-p N] [-n N] [-d DEPTH]
#                             [--pg P,N] [--cache-type f16|f32]
#
# Builds `quanta` and bench/LlamaCppRunner in Release, then runs them alternately (ALTERNATIONS rounds, at least 5;
# the order flips every round), each run with its own read-bandwidth readings before and after its tg test. Prints one
# markdown table: per test the median over the rounds of Quanta's and llama.cpp's mean t/s, the ratio Quanta/llama.cpp,
# and for tg the median fraction of the bandwidth bound each reached; then, when the machine's read bandwidth switched
# state during the run, the tg runs grouped by state with a ratio per state; then every round's t/s (to judge the noise).
# Raw JSON of every run stays in the folder printed on stderr.
set -euo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 1 ]] || usage
MODEL=$1; shift
[[ -f $MODEL ]] || { echo "compare-llamacpp: model file not found: $MODEL" >&2; exit 1; }
THREADS=$(nproc); REPS=5; ALT=5; ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    -t) THREADS=$2; shift 2 ;;
    -r) REPS=$2; shift 2 ;;
    -a) ALT=$2; shift 2 ;;
    -p|-n|-d|--pg|--cache-type|--bandwidth-seconds) ARGS+=("$1" "$2"); shift 2 ;;
    -h|--help) usage ;;
    *) echo "compare-llamacpp: unknown option $1" >&2; usage ;;
  esac
done
(( ALT >= 5 )) || { echo "compare-llamacpp: at least 5 alternations (-a), got $ALT" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
echo "building quanta and LlamaCppRunner (Release)..." >&2
dotnet build "$ROOT/src/Quanta.Cli" -c Release -m:1 -v q -clp:ErrorsOnly >&2
dotnet build "$ROOT/bench/LlamaCppRunner" -c Release -m:1 -v q -clp:ErrorsOnly >&2
QUANTA=("dotnet" "$ROOT/src/Quanta.Cli/bin/Release/net10.0/quanta.dll" "bench")
LLAMA=("dotnet" "$ROOT/bench/LlamaCppRunner/bin/Release/net10.0/LlamaCppRunner.dll")

OUT=$(mktemp -d /tmp/compare-llamacpp.XXXXXX)
echo "raw results and logs: $OUT" >&2
COMMON=(--model "$MODEL" -t "$THREADS" -r "$REPS" -o json "${ARGS[@]}")
run_quanta() { "${QUANTA[@]}" "${COMMON[@]}" > "$OUT/quanta-$1.json" 2>> "$OUT/quanta.log"; }
run_llama() { "${LLAMA[@]}" "${COMMON[@]}" > "$OUT/llamacpp-$1.json" 2>> "$OUT/llamacpp.log"; }
for i in $(seq 1 "$ALT"); do
  echo "round $i/$ALT" >&2
  if (( i % 2 == 1 )); then run_quanta "$i"; run_llama "$i"; else run_llama "$i"; run_quanta "$i"; fi
done

python3 - "$OUT" "$ALT" "$MODEL" "$THREADS" <<'PY'
import json, statistics, sys, os
out, alt, model, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(engine):
    rows = {}
    for i in range(1, alt + 1):
        for r in json.load(open(os.path.join(out, f"{engine}-{i}.json"))):
            rows.setdefault(r["test"], []).append(r)
    return rows
q, l = load("quanta"), load("llamacpp")
def med(rows, key):
    v = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(v) if v else None
def pct(x): return "" if x is None else f"{100 * x:.1f}%"
first = next(iter(q.values()))[0]
print(f"model: {os.path.basename(model)} ({first['model_type']}, {first['model_size'] / 1048576:.2f} MiB), "
      f"{threads} threads, KV {first['type_k']}, {alt} alternations x {len(first['samples_ts'])} reps; medians over alternations")
print()
print("| test | quanta t/s | llama.cpp t/s | ratio | quanta of bound | llama.cpp of bound | bw GB/s (q / l) | unstable bw runs (q / l) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for test in q:
    qa, la = med(q[test], "avg_ts"), med(l.get(test, []), "avg_ts")
    ratio = f"{qa / la:.2f}" if qa and la else ""
    bw = ""
    if med(q[test], "bw_before_gbps") is not None:
        def bwm(rows): return statistics.median([(r["bw_before_gbps"] + r["bw_after_gbps"]) / 2 for r in rows])
        bw = f"{bwm(q[test]):.1f} / {bwm(l[test]):.1f}"
    unst = ""
    if test in l and q[test][0].get("bw_unstable") is not None:
        unst = f"{sum(1 for r in q[test] if r['bw_unstable'])} / {sum(1 for r in l[test] if r['bw_unstable'])}"
    print(f"| {test} | {qa:.2f} | {'' if la is None else f'{la:.2f}'} | {ratio} | {pct(med(q[test], 'bound_fraction'))} | "
          f"{pct(med(l.get(test, []), 'bound_fraction'))} | {bw} | {unst} |")
# This machine's read bandwidth switches between states by itself (see docs/benchmarks.md), and the two engines of a
# round may draw different ones: the table above then compares a run in one state with a run in the other. So the tg
# runs are also grouped by state (two states when the highest reading is 1.25x the lowest or more, split at the
# geometric midpoint), each state with its own medians and ratio.
tg_tests = [t for t in q if q[t][0].get("bw_before_gbps") is not None and t in l]
if tg_tests:
    def bwr(r): return (r["bw_before_gbps"] + r["bw_after_gbps"]) / 2
    readings = [bwr(r) for t in tg_tests for r in q[t] + l[t]]
    lo, hi = min(readings), max(readings)
    if hi >= 1.25 * lo:
        split = (lo * hi) ** 0.5
        print()
        print(f"by bandwidth state (runs split at {split:.1f} GB/s; ratio only where both engines drew the state):")
        print()
        print("| test | state | runs (q / l) | quanta t/s | llama.cpp t/s | ratio | quanta of bound | llama.cpp of bound |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for test in tg_tests:
            for name, inside in (("slow", lambda r: bwr(r) < split), ("fast", lambda r: bwr(r) >= split)):
                qs, ls = [r for r in q[test] if inside(r)], [r for r in l[test] if inside(r)]
                if not qs and not ls: continue
                qa, la = med(qs, "avg_ts"), med(ls, "avg_ts")
                print(f"| {test} | {name} | {len(qs)} / {len(ls)} | {'' if qa is None else f'{qa:.2f}'} | {'' if la is None else f'{la:.2f}'} | "
                      f"{f'{qa / la:.2f}' if qa and la else ''} | {pct(med(qs, 'bound_fraction'))} | {pct(med(ls, 'bound_fraction'))} |")
print()
print("per round (t/s, round order):")
for test in q:
    fmt = lambda rows: " ".join(f"{r['avg_ts']:.1f}" for r in rows)
    print(f"  {test}: quanta {fmt(q[test])} | llama.cpp {fmt(l.get(test, []))}")
PY
