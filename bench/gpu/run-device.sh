#!/usr/bin/env bash
# GPU checks and benchmarks of the GPU executor (issue 8), as one command.
#
#   bench/gpu/run-device.sh publish   # here (needs dotnet): self-contained linux-x64 `quanta`, without the embedded
#                                     # tensor models (models/), packed into bench/gpu/quanta-linux-x64.tar.gz
#   bench/gpu/run-device.sh device    # on the GPU machine (no .NET, no network): unpack, then
#                                     # quanta gpu info, quanta gpu check, quanta gpu bench, results under $OUT
#   bench/gpu/run-device.sh           # publish when dotnet is here and $OUT is not set, else device
#
# Device tool call (the pack plus the repo must stay under 64 MiB):
#   run(command="bench/gpu/run-device.sh device", carry=["bench/gpu/quanta-linux-x64.tar.gz"], timeout_s=590)
# Results: $OUT/gpu-check.{json,md} (kernels and Llama-3.2-1B-shape logits vs the CPU executor, exit 2 on a failed
# check), $OUT/gpu-bench.{json,md} (HBM bound, Llama-3.1-8B-shape decode b1/b64 in BF16 and FP8, 2048-token prefill,
# NVML J/token; prefill with the fused NVRTC-compiled attention and, as an A/B, without) and $OUT/run.log. Without libcuda the first CUDA call fails with exit code 3 and names the library.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
PACK=bench/gpu/quanta-linux-x64.tar.gz
STAGE=bench/gpu/publish
LIMIT_MIB=60   # 64 MiB travel limit, minus the repository itself

mode=${1:-auto}
if [[ $mode == auto ]]; then
  if command -v dotnet >/dev/null 2>&1 && [[ -z ${OUT:-} ]]; then mode=publish; else mode=device; fi
fi

publish() {
  set -e
  rm -rf "$STAGE" "$PACK"
  dotnet publish src/Quanta.Cli -c Release -r linux-x64 --self-contained true -m:1 -v q -clp:ErrorsOnly \
    -p:DebugType=none -p:DebugSymbols=false -o "$STAGE"
  # not needed on the device: the embedded tensor models (MiniLM, ~87 MB) and the runtime's debugger support
  rm -rf "$STAGE/models" "$STAGE"/*.pdb "$STAGE/libmscordaccore.so" "$STAGE/libmscordbi.so" "$STAGE/createdump"
  tar -C "$STAGE" -czf "$PACK" .
  local bytes mib
  bytes=$(stat -c %s "$PACK")
  mib=$(( (bytes + 1048575) / 1048576 ))
  echo "packed $(du -sh "$STAGE" | cut -f1) into $PACK: ${mib} MiB (limit ${LIMIT_MIB} MiB)"
  rm -rf "$STAGE"
  if (( mib > LIMIT_MIB )); then echo "error: $PACK is over ${LIMIT_MIB} MiB" >&2; exit 1; fi
  echo "next: run(command=\"bench/gpu/run-device.sh device\", carry=[\"$PACK\"], timeout_s=590)"
}

# Makes the NVIDIA libraries findable: ILGPU imports the driver as "cuda" (the loader tries libcuda.so) while driver
# installs may ship only libcuda.so.1, so a libcuda.so link goes on LD_LIBRARY_PATH; quanta searches the loader path,
# CUDA_HOME and /usr/local/cuda* for cuBLASLt, else the toolkit wheels' copy is named in QUANTA_CUBLASLT_PATH.
# Sets LIBCUDA and CUBLASLT (empty when not found) for the log.
find_libs() {
  local libdir=/tmp/quanta-libs
  LIBCUDA=$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 /{print $NF; exit}')
  if [[ -z $LIBCUDA ]]; then
    for d in ${LD_LIBRARY_PATH//:/ } /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
      [[ -e $d/libcuda.so.1 ]] && { LIBCUDA=$d/libcuda.so.1; break; }
    done
  fi
  if [[ -n $LIBCUDA ]]; then
    mkdir -p "$libdir" && ln -sf "$LIBCUDA" "$libdir/libcuda.so" && ln -sf "$LIBCUDA" "$libdir/libcuda.so.1"
    export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
  CUBLASLT=""
  if ! ldconfig -p 2>/dev/null | grep -q 'libcublasLt\.so\.1[123]' && ! ls /usr/local/cuda*/lib64/libcublasLt.so.1[123] >/dev/null 2>&1; then
    CUBLASLT=$(find /usr /opt -name 'libcublasLt.so.1[123]' 2>/dev/null | sort -r | head -n 1)
    [[ -n $CUBLASLT ]] && export QUANTA_CUBLASLT_PATH=$CUBLASLT
  fi
  # NVRTC (the fused prefill attention is compiled at run time); its builtins library sits beside it
  NVRTC=""
  if ! ldconfig -p 2>/dev/null | grep -q 'libnvrtc\.so\.1[23]' && ! ls /usr/local/cuda*/lib64/libnvrtc.so.1[23] >/dev/null 2>&1; then
    NVRTC=$(find /usr /opt -name 'libnvrtc.so.1[23]' 2>/dev/null | sort -r | head -n 1)
    if [[ -n $NVRTC ]]; then
      export QUANTA_NVRTC_PATH=$NVRTC
      export LD_LIBRARY_PATH=$(dirname "$NVRTC")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    fi
  fi
}

device() {
  local out=${OUT:-/tmp/quanta-gpu-out}
  mkdir -p "$out"
  local log=$out/run.log
  [[ -f $PACK ]] || { echo "error: $PACK is missing: run 'bench/gpu/run-device.sh publish' here and carry it" | tee "$log" >&2; exit 1; }
  local dir=/tmp/quanta-linux-x64
  rm -rf "$dir" && mkdir -p "$dir" && tar -xzf "$PACK" -C "$dir" || exit 1
  local q=$dir/quanta
  find_libs
  {
    echo "== $(date -u +%FT%TZ) $(uname -m)${CUBLASLT:+, cuBLASLt from $CUBLASLT}${NVRTC:+, NVRTC from $NVRTC}; libcuda: ${LIBCUDA:-not found}"
    ls /usr/local/cuda*/lib64/libnvrtc.so* 2>/dev/null | head -n 3
    nvidia-smi --query-gpu=name,driver_version,memory.total,power.draw,clocks.sm,clocks.mem --format=csv 2>&1 || echo "nvidia-smi unavailable"
  } > "$log" 2>&1
  cat "$log"
  local rc=0 r
  timeout 60 "$q" gpu info --verbose 2>&1 | tee -a "$log"; r=${PIPESTATUS[0]}
  if (( r == 3 )); then echo "no usable CUDA stack (exit 3): stopping" | tee -a "$log"; exit 3; fi
  timeout 180 "$q" gpu check --verbose --out "$out" 2>&1 | tee -a "$log"; r=${PIPESTATUS[0]}; (( r != 0 )) && rc=$r
  timeout 240 "$q" gpu bench --verbose --out "$out" 2>&1 | tee -a "$log"; r=${PIPESTATUS[0]}; (( r != 0 && rc == 0 )) && rc=$r
  echo "== done, exit $rc; results in $out" | tee -a "$log"
  exit $rc
}

# `serve` mode: quanta serve --gpu on a random-weight 160M model, one streamed and one plain completion over HTTP, the
# energy metrics, a clean stop, then one `quanta run --gpu` (its speeds and energy line); results in $OUT/serve.log
serve_smoke() {
  local out=${OUT:-/tmp/quanta-gpu-out}
  mkdir -p "$out"
  local log=$out/serve.log dir=/tmp/quanta-linux-x64
  rm -rf "$dir" && mkdir -p "$dir" && tar -xzf "$PACK" -C "$dir" || exit 1
  find_libs
  local q=$dir/quanta port=8099
  {
    "$q" bench generate /tmp/smoke-160m.gguf --shape 160m --type f16 || exit 1
    "$q" serve --gpu --gpu-format "${GPU_FORMAT:-bf16}" --device h100-sxm -m smoke=/tmp/smoke-160m.gguf --port $port &
    local pid=$!
    for _ in $(seq 1 120); do curl -sf http://127.0.0.1:$port/ready >/dev/null && break; sleep 0.5; done
    echo "== ready: $(curl -s http://127.0.0.1:$port/ready)"
    echo "== completion"; curl -s http://127.0.0.1:$port/v1/completions -H 'Content-Type: application/json' \
      -d '{"model":"smoke","prompt":"Hello","max_tokens":32,"temperature":0,"ignore_eos":true}'; echo
    echo "== streamed"; curl -sN http://127.0.0.1:$port/v1/completions -H 'Content-Type: application/json' \
      -d '{"model":"smoke","prompt":"Hello","max_tokens":8,"temperature":0,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}' | tail -n 3
    echo "== metrics"; curl -s http://127.0.0.1:$port/metrics | grep -E '^quanta:(energy|generation_tokens|request_success)' | head -n 12
    kill -TERM $pid; wait $pid; echo "== server exit $?"
    echo "== quanta run --gpu"; "$q" run --gpu --gpu-format "${GPU_FORMAT:-bf16}" -m /tmp/smoke-160m.gguf -p "Hello" -n 64 --temperature 0 >/dev/null
    echo "== run exit $?"
  } > "$log" 2>&1
  cat "$log"
}

case $mode in
  publish) publish ;;
  device) device ;;
  serve) serve_smoke ;;
  *) echo "usage: $0 [publish|device|serve]" >&2; exit 64 ;;
esac
