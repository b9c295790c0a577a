#!/usr/bin/env bash
# Install exactly the Debian packages X-Pro needs, check the kernel and clang,
# and mount bpffs where the testbed expects it. Idempotent: a second run
# installs nothing and says so. Shared by `make deps`, CI and the Vagrant
# provisioner.
#
#   scripts/deps.sh            check and install what is missing
#   scripts/deps.sh --check    check only; exit 1 if anything is missing
#   scripts/deps.sh --list     print the package list and exit
set -euo pipefail

# Packages, grouped by what needs them.
PKGS_BUILD="make gcc clang llvm pkg-config libbpf-dev libelf-dev zlib1g-dev bpftool"
PKGS_LIBS="libhiredis-dev libpcap-dev libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libmicrohttpd-dev"
PKGS_NET="iproute2 iputils-ping ethtool tcpdump nftables hping3"
PKGS_TEST="bats bats-support bats-assert bats-file redis-server jq curl cppcheck shellcheck"
PKGS_PLOT="gnuplot-nox"
# Mininet is installed without its recommends (they pull Open vSwitch, which
# this kernel cannot run); it is used with --switch lxbr --controller none.
# prometheus only for promtool (the exporter's tests): its service is never
# started (a policy-rc.d refuses every start while these are installed).
PKGS_NORECOMMENDS="mininet prometheus"

BPFFS=${XPRO_BPFFS:-/run/xpro/bpf}
MIN_CLANG=11

say() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

mode=install
case "${1:-}" in
  --check) mode=check ;;
  --list) echo $PKGS_BUILD $PKGS_LIBS $PKGS_NET $PKGS_TEST $PKGS_PLOT $PKGS_NORECOMMENDS; exit 0 ;;
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) die "unknown option '$1' (try --help)" ;;
esac

missing_of() {
  local p out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || out+=("$p")
  done
  echo "${out[@]:-}"
}

missing=$(missing_of $PKGS_BUILD $PKGS_LIBS $PKGS_NET $PKGS_TEST $PKGS_PLOT)
missing_nr=$(missing_of $PKGS_NORECOMMENDS)

if [[ -z "$missing$missing_nr" ]]; then
  say "all packages present; nothing installed"
elif [[ $mode == check ]]; then
  die "missing packages: $missing $missing_nr (run: make deps)"
else
  [[ $(id -u) -eq 0 ]] || die "missing packages ($missing $missing_nr) and not root: run as root"
  export DEBIAN_FRONTEND=noninteractive
  say "installing: $missing $missing_nr"
  apt-get update -qq || die "apt-get update failed"
  if [[ -n "$missing" ]]; then
    apt-get install -y -qq --no-install-recommends $missing >/dev/null || die "apt-get install $missing failed"
  fi
  if [[ -n "$missing_nr" ]]; then
    nostart=; [[ -e /usr/sbin/policy-rc.d ]] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; nostart=1; }
    apt-get install -y -qq --no-install-recommends $missing_nr >/dev/null || die "apt-get install $missing_nr failed"
    [[ -z $nostart ]] || rm -f /usr/sbin/policy-rc.d
  fi
  still=$(missing_of $PKGS_BUILD $PKGS_LIBS $PKGS_NET $PKGS_TEST $PKGS_PLOT $PKGS_NORECOMMENDS)
  [[ -z "$still" ]] || die "still missing after install: $still"
  say "installed: $missing $missing_nr"
fi

# clang must target BPF and be recent enough for CO-RE and BTF.
cv=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
[[ -n "$cv" && "$cv" -ge $MIN_CLANG ]] || die "clang ${cv:-absent} is too old: need >= $MIN_CLANG (apt-get install clang)"
clang -print-targets 2>/dev/null | grep -q bpf || die "clang $cv has no BPF target"
say "clang $cv with BPF target: ok"

# Kernel BTF: vmlinux.h and CO-RE are generated from it.
[[ -r /sys/kernel/btf/vmlinux ]] || die "no kernel BTF at /sys/kernel/btf/vmlinux: need a kernel built with CONFIG_DEBUG_INFO_BTF=y"
say "kernel $(uname -r) BTF: ok"

# The kernel features the code uses, each probed rather than read off the
# version (docs/kernels.md); XPRO_FORCE_MISSING=netdev,napi,live_frames (or
# all) reports those missing, as X-Pro's own probes then do. Only BTF is fatal.
forced() { [[ ",${XPRO_FORCE_MISSING:-}," == *",$1,"* || ",${XPRO_FORCE_MISSING:-}," == *",all,"* ]]; }
cap() { printf 'deps: kernel feature %-12s %-4s %s\n' "$1" "$2" "$3"; }
netdev_ops=$(genl ctrl get name netdev 2>/dev/null || true)
[[ -d /sys/module/veth ]] || modprobe -q veth 2>/dev/null || true
if grep -qw veth_xdp_xmit /proc/kallsyms 2>/dev/null; then
  cap xdp-veth yes "native XDP on veth (4.19+): the testbed's proxies"
else
  cap xdp-veth no "no native XDP on veth (4.19+, module veth): the testbed cannot run"
fi
# (grep reads to the end: with pipefail, an early exit would fail bpftool)
if ! forced live_frames && bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep "STRUCT 'xdp_test_data'" >/dev/null; then
  cap live-frames yes "XDP live frames (5.18+): xpro-bot --fast xdp"
else
  cap live-frames no "no XDP live frames (5.18+): xpro-bot --fast xdp fails; use --fast packet"
fi
if ! forced netdev && [[ -n $netdev_ops ]]; then
  cap netdev yes "netdev netlink family (6.3+): xpro attach checks its redirect targets"
else
  cap netdev no "no netdev netlink family (6.3+): xpro attach and xpro-topo skip the XDP-features checks (said at each run)"
fi
if ! forced napi && ! forced netdev && grep -qi 'ID-0xb\b' <<<"$netdev_ops"; then
  cap napi yes "NAPI information (6.8+): xpro-topo checks a NAPI on every redirect target's peer"
else
  cap napi no "no NAPI information (6.8+): xpro-topo skips the NAPI check and relies on toggling GRO with links up"
fi

# bpffs: X-Pro pins under $BPFFS, outside /sys so that `ip netns exec`
# (which remounts /sys) still sees it.
if [[ $mode == install ]]; then
  if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
    mount -t bpf bpf /sys/fs/bpf 2>/dev/null && say "mounted bpffs on /sys/fs/bpf" || say "warning: could not mount /sys/fs/bpf"
  fi
  mkdir -p "$BPFFS"
  if ! mountpoint -q "$BPFFS"; then
    mount -t bpf -o mode=0700 bpf "$BPFFS" || die "cannot mount bpffs on $BPFFS"
    say "mounted bpffs on $BPFFS (mode 0700)"
  fi
  # the pins are the proxy's state: root's alone, also on a bpffs that an
  # earlier version mounted without a mode
  [[ $(stat -c %a "$BPFFS") == 700 ]] || { chmod 0700 "$BPFFS" && say "bpffs at $BPFFS: mode set to 0700"; }
fi
if mountpoint -q "$BPFFS" 2>/dev/null && [[ $(stat -f -c %T "$BPFFS") == bpf_fs ]]; then
  say "bpffs at $BPFFS: ok"
else
  [[ $mode == check ]] && die "bpffs not mounted at $BPFFS (run: make deps)"
fi
