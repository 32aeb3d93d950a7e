#!/usr/bin/env bash
# Runs every Strand test, from a fresh clone, with no input. It installs what
# the tests need (idempotently, quickly when already there) and fails, never
# skips, when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format and vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...

echo "== go test"
go test -count=1 -timeout 25m ./...
