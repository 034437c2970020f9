#!/usr/bin/env bash
# For a machine with an NVIDIA GPU: runs the batched kernel (KanPool) on the GPU, checks every
# key's outputs against the host path on the CPU, and prints the figures beside one DJL call per
# key and the host path (bench --batched). Exits non-zero when there is no GPU, when the PyTorch
# engine cannot use it, or when the outputs differ by more than 1e-5. See docs/gpu.md.
#
#   scripts/gpu-check.sh [gpu:N] [--tests] [more bench options, e.g. --batched-keys 10000]
#
# --tests also runs the kernel's unit tests (KanPoolTest) on that GPU through Maven.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
device="gpu:0"
tests=false
rest=()
for arg in "$@"; do
  case "$arg" in
    gpu|gpu:[0-9]*) device="$arg" ;;
    --tests) tests=true ;;
    *) rest+=("$arg") ;;
  esac
done

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA driver here (nvidia-smi not found): there is no GPU to check." >&2
  echo "gpu-check: the same batched code is checked on the CPU by KanPoolTest and" >&2
  echo "           'scripts/kanstream bench --batched' (docs/gpu.md)." >&2
  exit 2
fi
if ! gpus="$(nvidia-smi -L 2>&1)" || ! grep -q '^GPU ' <<<"$gpus"; then
  echo "gpu-check: nvidia-smi lists no GPU: ${gpus}" >&2
  exit 2
fi
echo "gpu-check: ${gpus//$'\n'/; }" >&2
if [[ -z "${PYTORCH_LIBRARY_PATH:-}" ]]; then
  echo "gpu-check: PYTORCH_LIBRARY_PATH is not set; unless the project was built with -Pgpu the" >&2
  echo "           PyTorch engine has CPU natives only and will report no GPU (docs/gpu.md)." >&2
fi

if $tests; then
  (cd "$root" && mvn -B -q -pl kan-operators -am install -DskipTests -Dspotless.check.skip=true \
    && mvn -B -pl kan-operators test -Dtest=KanPoolTest -Dkanstream.test.device="$device" \
         -Dspotless.check.skip=true)
fi

exec "$root/scripts/kanstream" bench --batched --device "$device" \
  --out "$root/reports/gpu-check-$(date -u +%F).json" "${rest[@]}"
