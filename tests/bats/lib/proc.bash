# shellcheck shell=bash
# Processes as the BATS suites see them, shared by lib/xpro.bash and the
# suites that do not load it (30-topo.bats).

# _xp_stat PID: "STATE STARTTIME PGRP" from /proc/PID/stat
_xp_stat() {
  local s
  local -a f
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  read -r -a f <<< "$s"
  echo "${f[0]} ${f[19]} ${f[2]}"
}

# xp_alive PID [START]: PID runs (a zombie waiting for PID 1 to reap it
# counts as gone) and, when START is given, is the same process: its start
# time (field 22 of /proc/PID/stat) is START
xp_alive() {
  local st start pgrp
  read -r st start pgrp < <(_xp_stat "$1") || return 1
  [[ -n $st && $st != Z && $st != X && ( $# -lt 2 || $start == "$2" ) ]]
}
