#!/usr/bin/env bash
# Installs every Debian 12 package sqc needs to build, test and run its main job.
# Idempotent: packages already present are skipped by apt-get.
# Usage: scripts/setup.sh [--fixtures]   (--fixtures adds python3-torch/onnx for models/make_models.py)
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config ninja-build
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev   # ONNX import (onnx.proto -> protoc-c)
  libyaml-dev                                          # config reader
  libcmocka-dev                                        # unit tests
  zlib1g-dev                                           # gzip'd IDX data sets
  llvm-19-dev clang-19 lld-19 llvm-19-tools            # backend, FileCheck/lit
  libclang-rt-19-dev                                   # clang sanitizers and libFuzzer (tests/fuzz/)
  libopenblas-dev                                      # float GEMM fast path, training
  dataset-fashion-mnist                                # real data
  libonnx-testdata                                     # ONNX conformance suite
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user  # NEON cross tests (libc headers: not pulled without recommends)
)
if [ "${1:-}" = "--fixtures" ]; then
  pkgs+=(python3-torch python3-onnx python3-numpy)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#pkgs[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
