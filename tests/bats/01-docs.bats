#!/usr/bin/env bats
# The docs' link and path check (scripts/check-docs.sh): the tree passes it,
# and on a small tree of its own it finds each kind of problem, by FILE:LINE.
# Needs neither root nor a build.

CHECK=$BATS_TEST_DIRNAME/../../scripts/check-docs.sh

# mktree DIR: a tiny tree with every kind of reference done right
mktree() {
  mkdir -p "$1"/docs "$1"/traffic/bot "$1"/tests/bats
  printf '# Top\n\n## Wire shapes\n\nSee [the bot](../traffic/bot/bot.c).\n' > "$1"/docs/a.md
  printf '# B\n\n[a](a.md#wire-shapes), [web](https://example.org/x.md), `traffic/bot/*.c`\n' > "$1"/docs/b.md
  printf '/* the shapes: docs/a.md; captures in ../shared/pcaps */\nint x;\n' > "$1"/traffic/bot/bot.c
  printf '# reads ../shared/pcaps/x.pcap; see docs/{a,b}.md\n' > "$1"/tests/bats/t.bats
}

# check DIR: run the checker on DIR; $problems = the number of FILE:LINE: lines
check() {
  run timeout 60 bash "$CHECK" "$@"
  echo "$output"
  problems=$(grep -c '^[^:]*:[0-9]*: ' <<<"$output" || true)
}

@test "the repository's links and named paths all resolve" {
  check
  [[ $status -eq 0 && $problems -eq 0 ]]
}

@test "a correct small tree passes" {
  mktree "$BATS_TEST_TMPDIR/ok"
  check "$BATS_TEST_TMPDIR/ok"
  [[ $status -eq 0 && $problems -eq 0 ]]
}

@test "a broken link and a missing path are both reported, by file and line" {
  local t=$BATS_TEST_TMPDIR/bad
  mktree "$t"
  printf '# C\n\nline three\nSee [gone](gone.md) and [a](a.md#no-such-heading).\n' > "$t"/docs/c.md
  printf '#include <stdio.h>\n\n/* built by traffic/bot/nothere.c */\nstatic const char *s = "traffic/in-a-string.c";\n%s\n' \
    'static const char *u = "see docs/gone.md";' > "$t"/traffic/bot/x.c
  check "$t"
  [[ $status -eq 1 && $problems -eq 4 ]]
  [[ $output == *"docs/c.md:4: broken link 'gone.md'"* ]]
  [[ $output == *"docs/c.md:4: broken link 'a.md#no-such-heading'"* ]]
  [[ $output == *"traffic/bot/x.c:3: names 'traffic/bot/nothere.c'"* ]]
  # a string is code, not a comment: not checked, unless it names a doc
  [[ $output != *in-a-string* ]]
  [[ $output == *"traffic/bot/x.c:5: names 'docs/gone.md'"* ]]
}

@test "references outside the repository are reported; the shared captures are not" {
  local t=$BATS_TEST_TMPDIR/out
  mktree "$t"
  # the outside reference is put together here, so that this file names none
  local ext="../shared/""design/NOTES.md"
  printf '# D\n\nAs %s says.\nOn this machine: /work/main/x and /root/y.\nPins in /sys/fs/bpf and /run/xpro.\n' \
    "$ext" > "$t"/docs/d.md
  printf '#!/bin/sh\n# scratch in /tmp/xp/notes\necho /tmp/ok-in-code\n' > "$t"/tests/bats/s.sh
  printf 'Named: VETH-NOTES.md\n' > "$t"/docs/e.md
  check "$t"
  [[ $status -eq 1 && $problems -eq 5 ]]
  [[ $output == *"docs/d.md:3: refers to '$ext' outside the repository"* ]]
  [[ $output == *"docs/d.md:4: refers to '/work/main/x'"* ]]
  [[ $output == *"docs/d.md:4: refers to '/root/y'"* ]]
  [[ $output == *"tests/bats/s.sh:2: refers to '/tmp/xp/notes'"* ]]
  [[ $output == *"docs/e.md:1: names 'VETH-NOTES.md', which is no file of the tree"* ]]
  [[ $output != *t.bats* && $output != *bot.c* && $output != *fs/bpf* && $output != *ok-in-code* ]]
}
