#!/bin/sh
# bench/python/fetch: see fetch.ts. Usage: bench/python/fetch.sh [--rate 4m]
cd "$(dirname "$0")/../.." && exec npx tsx bench/python/fetch.ts "$@"
