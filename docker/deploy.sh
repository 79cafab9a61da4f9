#!/bin/sh
# One-shot: create the process work pool and register (or update) the deployments of prefect.yaml.
# Run from the folder holding prefect.yaml and the code (/app in the image); safe to run again.
# Extra arguments go to `prefect deploy` (e.g. --name shard-0).
set -eu
pool="${NEWSWATCH_WORK_POOL:-newswatch}"
prefect work-pool create "$pool" --type process --overwrite
exec prefect --no-prompt deploy --all "$@"
