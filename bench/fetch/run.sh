#!/bin/sh
# bench/fetch: see run.ts. Usage: bench/fetch/run.sh [--scale N]
cd "$(dirname "$0")/../.." && exec npx tsx bench/fetch/run.ts "$@"
