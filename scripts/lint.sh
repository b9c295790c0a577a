#!/usr/bin/env bash
# make lint: static analysis of the tracked sources (docs/reliability.md,
# "Sanitizers and static analysis"), zero findings or each one justified.
#
#   C: cppcheck --enable=warning,portability, every userspace .c (the .bpf.c
#      programs are the verifier's)
#   shell: ShellCheck -S warning, every shell script and BATS suite
#
# Each finding is printed as FILE:LINE:COL: severity: message [ID]. A finding
# is accepted only when .lint-suppressions names its tool, ID and file, with
# the reason on the same line. Exit 1 on any other finding; a suppression
# that no longer matches anything (stale) is named, to be removed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
SUPP=.lint-suppressions
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for tool in cppcheck shellcheck; do
  command -v "$tool" >/dev/null || { echo "lint: $tool is missing (scripts/deps.sh installs it)"; exit 1; }
done

mapfile -t csrc < <(git ls-files '*.c' | grep -v '\.bpf\.c$')
incs=()
for d in lib xpro bpf tests/lib tests/bpf traffic/bot traffic/device traffic/replay traffic/sink traffic/tun bench fuzz; do
  incs+=(-I "$d")
done
# system headers are not read: libbpf's option macro is given its shape
cppcheck -q --enable=warning,portability --std=c11 --inline-suppr -D__x86_64__ -D_GNU_SOURCE \
  '-DLIBBPF_OPTS(TYPE,NAME,...)=struct TYPE NAME = { __VA_ARGS__ }' \
  '-DDECLARE_LIBBPF_OPTS(TYPE,NAME,...)=struct TYPE NAME = { __VA_ARGS__ }' \
  --template='{file}:{line}:{column}: {severity}: {message} [{id}]' "${incs[@]}" "${csrc[@]}" \
  2>&1 | sed 's/^/cppcheck /' >"$out/cppcheck" &
cpid=$!

mapfile -t shs < <(git ls-files '*.sh' '*.bash' '*.bats'; git ls-files | xargs grep -lE '^#!.*(bash|/sh)' 2>/dev/null |
  grep -vE '\.(sh|bash|bats)$')
shellcheck -S warning -f gcc "${shs[@]}" 2>&1 | sed -E 's/^(.*) \[(SC[0-9]+)\]$/shellcheck \1 [\2]/' >"$out/all"
wait "$cpid"
cat "$out/cppcheck" >>"$out/all"

# a finding line: "TOOL FILE:LINE:COL: severity: message [ID]"
n=0 s=0
declare -A used
while IFS= read -r line; do
  [[ -n $line ]] || continue
  tool=${line%% *} rest=${line#* } file=${rest%%:*} id=${line##*[} id=${id%]}
  key=$(awk -v t="$tool" -v i="$id" -v f="$file" \
    '!/^#/ && NF >= 3 && $1 == t && $2 == i && $3 == f { print NR; exit }' "$SUPP")
  if [[ -n $key ]]; then
    used[$key]=1; s=$((s + 1))
  else
    echo "$rest"; n=$((n + 1))
  fi
done <"$out/all"

stale=0
while IFS= read -r nr; do
  [[ -n ${used[$nr]:-} ]] && continue
  echo "lint: $SUPP:$nr matches nothing (stale): $(sed -n "${nr}p" "$SUPP")"
  stale=$((stale + 1))
done < <(awk '!/^#/ && NF >= 3 { print NR }' "$SUPP")

echo "lint: ${#csrc[@]} C files (cppcheck), ${#shs[@]} shell files (shellcheck): $n findings, $s suppressed, $stale stale suppressions"
(( n == 0 ))
