#!/usr/bin/env bash
# Fails when a file under daemon/ or config/ names Kafka (any case): sinks
# own their config, routing, events and health (connectors/sinks/*), so the
# daemon and the config loader stay sink-neutral. YAML examples are exempt
# (config/newsflow.example.yaml documents every sink's keys).
# Usage: sink_neutral_check.sh [SOURCE_DIR]
set -euo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "${root}"
hits="$(grep -rniI kafka daemon config \
          --exclude='*.yaml' --exclude='*.yml' --exclude='*.yaml.in' || true)"
if [[ -n "${hits}" ]]; then
  echo "daemon/ and config/ must not name Kafka (move it to connectors/sinks/kafka/):"
  echo "${hits}"
  exit 1
fi
echo "ok: no file under daemon/ or config/ names Kafka"
