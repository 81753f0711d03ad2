#!/bin/bash
# tributary produce (1,000,000 JSON lines on stdin) beside tributary demo (the same events
# as objects), same topic layout (JSON Schema + key-hash, 4 partitions), one broker with
# fsync interval, 3 alternating rounds; both print events/s and CPU µs per event.
# Needs npm run build.  Usage: bash scripts/cli-produce-cost.sh
set -e
cd "$(dirname "$0")/.."
D=$(mktemp -d /tmp/clicost-XXXX)
node -e '
import(process.cwd() + "/dist/src/cli/demo.js").then(({ showcaseEvent, SHOWCASE_SCHEMA }) => {
  const fs = require("node:fs");
  fs.writeFileSync(process.argv[1] + "/schema.json", JSON.stringify({ schema: SHOWCASE_SCHEMA }));
  const now = 1790000000000; const out = [];
  for (let i = 0; i < 1000000; i++) out.push(JSON.stringify(showcaseEvent(i, now)));
  fs.writeFileSync(process.argv[1] + "/lines.jsonl", out.join("\n") + "\n");
});' "$D"
node dist/src/cli.js serve --dir "$D/data" --port 0 --fsync interval > "$D/serve.log" 2>&1 &
SERVE=$!
for i in $(seq 1 50); do grep -q "127.0.0.1:" "$D/serve.log" && break; sleep 0.2; done
ADDR=$(grep -o "127.0.0.1:[0-9]*" "$D/serve.log" | head -1)
export TRIBUTARY_BROKER="tributary://$ADDR"
for r in 1 2 3; do
  node dist/src/cli.js topic create "p$r" --partitions 4 --validator json-schema --validator-config "$D/schema.json" --selector key-hash > /dev/null
  echo "round $r demo:"; node dist/src/cli.js demo --events 1000000 2>&1 | grep -i "µs\|events/s" | grep -v verify | tail -2
  echo "round $r produce:"; node dist/src/cli.js produce "p$r" --key-field sensor --acks summary < "$D/lines.jsonl" 2>&1 | tail -2
done
kill $SERVE; wait $SERVE || true
rm -rf "$D"
