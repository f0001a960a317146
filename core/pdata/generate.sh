#!/usr/bin/env bash
# Regenerates core/pdata/gen/ from the vendored third_party/opentelemetry-proto with protoc +
# protoc-gen-es.
# The output is committed; run this only when the .proto files change.
# Needs: protoc (Debian: protobuf-compiler) and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto=${OTLP_PROTO_DIR:-$here/../../third_party/opentelemetry-proto}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --silent @bufbuild/protoc-gen-es@2.17.0)
rm -rf "$here/gen" && mkdir -p "$here/gen"
(cd "$proto" && protoc --plugin=protoc-gen-es="$work/node_modules/.bin/protoc-gen-es" \
  --es_out="$here/gen" --es_opt=target=ts,import_extension=ts \
  -I . $(find opentelemetry -name '*.proto' | sort))
