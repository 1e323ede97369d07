#!/usr/bin/env bash
# install_onednn.sh - Debian's oneDNN headers (libdnnl-dev), the peer of
# benchmarks/onednn_conv.cpp. Benchmarks only: `make deps` does not install
# it and nothing in nnc links it; configure builds onednn_conv when it finds
# dnnl (re-run cmake after installing).
#
# Usage: benchmarks/install_onednn.sh
set -eu
if dpkg-query -W -f='${Status}' libdnnl-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "install_onednn.sh: libdnnl-dev $(dpkg-query -W -f='${Version}' libdnnl-dev) is installed"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || true
$sudo apt-get install -y -qq --no-install-recommends libdnnl-dev
echo "install_onednn.sh: libdnnl-dev $(dpkg-query -W -f='${Version}' libdnnl-dev) installed;" \
  "re-run cmake so that it builds build/benchmarks/onednn_conv"
