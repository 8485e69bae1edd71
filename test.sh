#!/usr/bin/env bash
# Runs the whole test suite: once normally, then the kernel tests again with the wider SIMD paths
# switched off (DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0, DOTNET_EnableHWIntrinsic=0) so every
# dispatch path runs. Prints one "N passed, N failed" line at the end.
set -uo pipefail
cd "$(dirname "$0")"

dotnet build Quanta.sln -c Release --nologo -v q -clp:ErrorsOnly || exit 1

passed=0; failed=0; status=0
run() {
  local label="$1"; shift
  echo "== $label"
  local out
  out=$(env "$@" dotnet test Quanta.sln -c Release --no-build --nologo 2>&1 ${FILTER:+--filter "$FILTER"})
  local rc=$?
  echo "$out" | grep -E "^(Passed!|Failed!|  Failed |Error Message|   )" | head -200
  local p f
  p=$(echo "$out" | grep -oE "Passed: +[0-9]+" | awk '{s+=$2} END {print s+0}')
  f=$(echo "$out" | grep -oE "Failed: +[0-9]+" | awk '{s+=$2} END {print s+0}')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ $rc -ne 0 ]; then status=1; echo "$out" | tail -40; fi
}

run "all tests" QUANTA_EXPECT_SIMD=native
FILTER="Category=Kernels" run "kernels, AVX-512 off" DOTNET_EnableAVX512=0 QUANTA_EXPECT_SIMD=V256
FILTER="Category=Kernels" run "kernels, AVX2 off" DOTNET_EnableAVX2=0 QUANTA_EXPECT_SIMD=V128
FILTER="Category=Kernels" run "kernels, hardware intrinsics off" DOTNET_EnableHWIntrinsic=0 QUANTA_EXPECT_SIMD=Scalar

echo "$passed passed, $failed failed"
exit $status
