#!/usr/bin/env bats
# The `xpro` command line (docs/xpro.md): one table of commands, each with
# its own options and its own --help. Everything here is refused or answered
# before xpro touches a map or a namespace: it needs neither root nor a
# testbed. The interface xpnone0 does not exist, and every config file names
# its own bpffs and state folders under the test's temporary folder.

XPRO=${XPRO_BUILD:-build}/bin/xpro

# Every command, in the order of the table (docs/xpro.md).
COMMANDS=(attach detach status stats top set tf2 flush forget warnd alerts exporter syncmaps syncdb config version help)

setup() {
  [[ -x $XPRO ]] || { echo "missing $XPRO: run make build"; return 1; }
  CONF=$BATS_TEST_TMPDIR/xpro.conf
  printf 'bpffs = %s/bpf\nstate_dir = %s/state\n' "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR" > "$CONF"
}

# refused CMD OPTION ARGS...: exit 2 and exactly one line, which names OPTION
refused() {
  local opt=$2
  run "$XPRO" "$@"
  echo "xpro $*: status $status: $output"
  [[ $status -eq 2 ]]
  [[ ${#lines[@]} -eq 1 ]]
  [[ ${lines[0]} == *"$opt"* ]]
}

@test "xpro --help and xpro help list every command, exit 0" {
  for h in --help help -h; do
    run "$XPRO" $h
    [[ $status -eq 0 ]]
    for c in "${COMMANDS[@]}"; do
      grep -qE "^  $c( |$)" <<< "$output" || { echo "xpro $h does not list $c"; return 1; }
    done
  done
  # no arguments at all: the same list on stderr, a usage error
  run "$XPRO"
  [[ $status -eq 2 ]]
  [[ $output == *"  syncdb "* ]]
}

@test "every command's --help exits 0 and names the command; xpro help CMD says the same" {
  for c in "${COMMANDS[@]}"; do
    run "$XPRO" "$c" --help
    [[ $status -eq 0 ]] || { echo "xpro $c --help: status $status"; return 1; }
    [[ ${lines[0]} == "usage: xpro $c"* ]] || { echo "xpro $c --help: ${lines[0]}"; return 1; }
    local one=$output
    run "$XPRO" help "$c"
    [[ $status -eq 0 && $output == "$one" ]] || { echo "xpro help $c differs"; return 1; }
  done
  # a command's help lists its own options and not the others'
  run "$XPRO" detach --help
  [[ $output == *"--keep-maps"* && $output == *"--set KEY=VALUE"* ]]
  [[ $output != *"--json"* && $output != *"--full-scan"* ]]
  run "$XPRO" syncdb -h
  [[ $status -eq 0 && $output == *"--full-scan"* && $output == *"--periods N"* ]]
}

@test "an option of another command is refused: exit 2, one line naming it" {
  refused detach --json -i xpnone0 -c "$CONF"
  refused status --keep-maps -i xpnone0 -c "$CONF"
  refused attach --full-scan -i xpnone0 -c "$CONF"
  refused stats --interval 1 -i xpnone0 -c "$CONF"
  refused top --prom -i xpnone0 -c "$CONF"
  refused set --replace -i xpnone0 -c "$CONF" tf1=5
  refused tf2 --follow -i xpnone0 -c "$CONF" list
  refused flush --all -i xpnone0 -c "$CONF"
  refused forget --top 1 -i xpnone0 -c "$CONF" 198.18.0.2 198.18.1.2
  refused warnd --count 1 -i xpnone0 -c "$CONF"
  refused alerts --periods 1 -i xpnone0 -c "$CONF"
  refused syncmaps --prom -i xpnone0 -c "$CONF"
  refused syncdb --generic -i xpnone0 -c "$CONF"
  refused exporter --top 1 -i xpnone0 -c "$CONF"
  refused config -i show
  refused version --prom
  refused help --all
  # and one that no command has
  refused stats --nosuch -i xpnone0 -c "$CONF"
}

@test "a bad number for each numeric option is refused: exit 2, one line naming it" {
  local spec cmd opt v
  for spec in stats:--top top:--top top:--count top:--interval warnd:--duration alerts:--count \
      alerts:--duration syncmaps:--duration syncmaps:--periods syncdb:--duration syncdb:--periods; do
    cmd=${spec%%:*} opt=${spec#*:}
    for v in 10x nan inf -1 99999999999999999999999 1e999 ""; do
      refused "$cmd" "$opt" "$v" -i xpnone0 -c "$CONF"
      [[ ${lines[0]} == "xpro $cmd: $opt: \"$v\" "* ]]
    done
  done
  # integers are decimal and take no fraction; the refresh interval has a floor of 0.05 s
  refused stats --top 0x10 -i xpnone0 -c "$CONF"
  refused top --count 1.5 -i xpnone0 -c "$CONF"
  refused syncdb --periods 2.0 -i xpnone0 -c "$CONF"
  refused top --interval 0.01 -i xpnone0 -c "$CONF"
}

@test "valid numbers still pass the options: the command then fails for want of the proxy (exit 1)" {
  run "$XPRO" top -i xpnone0 -c "$CONF" --count 1 --interval 0.05 --top 0
  [[ $status -eq 1 ]]
  [[ $output == *"X-Pro is not attached here (no pins at $BATS_TEST_TMPDIR/bpf/"* ]]
  run "$XPRO" stats --top=3 -c "$CONF" -i xpnone0 --json
  [[ $status -eq 1 && $output == *"not attached here"* ]]
  run "$XPRO" alerts -i xpnone0 -c "$CONF" --count 2 --duration 0.5
  [[ $status -eq 1 && $output == *"no warnings published yet ($BATS_TEST_TMPDIR/state/"* ]]
}

@test "unknown commands, stray operands and a missing interface are usage errors (exit 2)" {
  run "$XPRO" nosuch -i xpnone0
  [[ $status -eq 2 && ${#lines[@]} -eq 1 && $output == *"unknown command 'nosuch'"* ]]
  run "$XPRO" help nosuch
  [[ $status -eq 2 && ${#lines[@]} -eq 1 && $output == *"'nosuch'"* ]]
  run "$XPRO" status -i xpnone0 -c "$CONF" extra
  [[ $status -eq 2 && ${#lines[@]} -eq 1 && $output == *"unexpected argument 'extra'"* ]]
  run "$XPRO" stats -c "$CONF" --json
  [[ $status -eq 2 && $output == *"stats: no interface given (-i IFACE)"* ]]
  run "$XPRO" alerts -c "$CONF" --count 1
  [[ $status -eq 2 && $output == *"alerts: no interface given"* ]]
}

@test "config: options before or after the operands, --set over the file" {
  run "$XPRO" config show -c "$CONF" --set tf1=77
  [[ $status -eq 0 ]]
  [[ $output == *$'\ntf1 = 77\n'* ]]
  [[ $output == *"bpffs = $BATS_TEST_TMPDIR/bpf"* ]]
  run "$XPRO" config --set=tf2=1234 -c "$CONF" show
  [[ $status -eq 0 && $output == *$'\ntf2 = 1234\n'* ]]
  run "$XPRO" config check "$CONF"
  [[ $status -eq 0 && $output == "xpro: config $CONF: ok" ]]
  # a bad --set value is the config's error line, still exit 2
  run "$XPRO" config show -c "$CONF" --set tf1=0
  [[ $status -eq 2 && $output == *"tf1: 0 is out of range"* ]]
}

@test "detach and status go on past a config file with problems; stats does not; none without the file" {
  local bad=$BATS_TEST_TMPDIR/bad.conf
  { cat "$CONF"; echo "tf1 = 0"; echo "no_such_key = 1"; } > "$bad"
  # detach reaches the pins the file's bpffs line names: the rest was used
  run "$XPRO" detach -i xpnone0 -c "$bad"
  echo "$output"
  [[ $status -eq 1 ]]
  [[ $output == *"bad.conf:3: tf1: 0 is out of range"* ]]
  [[ $output == *"bad.conf:4: unknown key 'no_such_key'"* ]]
  [[ $output == *"detach: $bad has 2 problems: going on with the rest of it"* ]]
  [[ $output == *"detach xpnone0: nothing attached and no pins at $BATS_TEST_TMPDIR/bpf/"* ]]
  run "$XPRO" status -i xpnone0 -c "$bad"
  [[ $status -eq 1 && $output == *"no pins at $BATS_TEST_TMPDIR/bpf/"* ]]
  run "$XPRO" stats -i xpnone0 -c "$bad"
  [[ $status -eq 2 && $output != *"not attached"* ]]
  # a file that cannot be read is not "the rest of it": detach stops there
  run "$XPRO" detach -i xpnone0 -c "$BATS_TEST_TMPDIR/nosuch.conf"
  [[ $status -eq 2 && ${#lines[@]} -eq 1 && $output == *"nosuch.conf: No such file or directory"* ]]
}
