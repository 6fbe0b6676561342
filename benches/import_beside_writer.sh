#!/bin/bash
# Imports a JSON Lines file into a new desk while another process writes to the desk, for
# the import measurement in BENCHMARKS.md:
#   cargo build --release
#   python3 benches/accounts_jsonl.py 100000 0 > accounts.jsonl
#   benches/import_beside_writer.sh target/release/privdesk accounts.jsonl [IMPORT FLAGS...]
# A new desk in a temporary directory (or the databases PRIVDESK_DATABASE_URL and
# PRIVDESK_KEY_STORE_URL name, for PostgreSQL); `privdesk staff add` every 0.2 s beside the
# import, each timed; the import's write transactions timed from its debug log.
set -u
BIN=$(realpath "$1"); FILE=$(realpath "$2"); shift 2
H=$(mktemp -d)
export HOME=$H XDG_DATA_HOME=$H/data XDG_STATE_HOME=$H/state XDG_CONFIG_HOME=$H/config TMPDIR=$H
export PRIVDESK_LOG=privdesk=debug
"$BIN" init > /dev/null || exit 1
: > "$H/writer.log"
(
  i=0
  sleep 1
  while [ ! -e "$H/import.done" ]; do
    i=$((i + 1))
    s=$(date +%s.%N)
    if echo "a-long-enough-password-$i" | "$BIN" staff add "w$i" --role agent --password-stdin \
        > /dev/null 2> "$H/writer.err"; then r=ok; else r="FAILED: $(head -c 200 "$H/writer.err")"; fi
    echo "$(echo "$(date +%s.%N) - $s" | bc) $r" >> "$H/writer.log"
    sleep 0.2
  done
) &
writer=$!
/usr/bin/time -v "$BIN" import accounts "$@" "$FILE" 2> "$H/time.txt"
touch "$H/import.done"
wait $writer
grep -E "Elapsed|Maximum resident" "$H/time.txt"
echo "beside it: $(wc -l < "$H/writer.log") staff adds, $(grep -c FAILED "$H/writer.log") failed, the slowest $(sort -rn "$H/writer.log" | head -1)"
grep -h held_us "$H"/state/privdesk/logs/* | sed -E 's/.*held_us=([0-9]+).*/\1/' | sort -n |
  awk '{ t[NR] = $1 } END { printf "write transactions: %d, median %.3f s, longest %.3f s\n", NR, t[int((NR + 1) / 2)] / 1e6, t[NR] / 1e6 }'
grep -h "import made visible" "$H"/state/privdesk/logs/* | sed -E 's/.*held_us=([0-9]+).*/final step: \1 µs/'
echo "the desk: $H"
