#!/usr/bin/env bash
# make vagrant-check: boot a Debian VM under libvirt (QEMU, TCG emulation when
# there is no KVM), provision it with scripts/deps.sh, run the unit and BPF
# test-run layers and a CI-scale flood experiment on the VM's stock kernel,
# copy the results out, destroy everything, and print one last line:
#   vagrant-check: PASS ...   or   vagrant-check: FAIL <reason>
#
# Settings (environment or make variables):
#   RELEASE=bookworm|trixie  Debian 12 (kernel 6.1, default) or 13 (kernel 6.12)
#   XPRO_BOX=local|public    local (default): build the box from Debian's packages
#                            when missing (vagrant/build-box.sh); public: debian/RELEASE64,
#                            which Vagrant must be able to download
#   MULTI=1                  proxies on separate VMs (not implemented yet: refused)
#   XPRO_TREE=head|work      what is copied in: the committed HEAD (default, as a
#                            clean clone has it) or the working tree
#   XPRO_VM_CACHE=DIR        boxes, the libvirt pool and run folders (/var/tmp/xpro-vagrant)
#   XPRO_KEEP=1              leave the VM and libvirtd running at the end (debugging)
# Needs root. Installs its host packages with apt-get (--no-install-recommends).
# When no libvirtd runs, it starts virtlogd and libvirtd itself inside a network
# namespace of its own (unshare): the VM's bridge, tap and firewall rules never
# appear on the host, and all of it goes when the daemons stop. vagrant/README.md
# gives the steps and the time each takes.
set -uo pipefail
export LC_ALL=C.UTF-8
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
RELEASE=${RELEASE:-bookworm}
XPRO_BOX=${XPRO_BOX:-local}
MULTI=${MULTI:-0}
XPRO_TREE=${XPRO_TREE:-head}
CACHE=${XPRO_VM_CACHE:-/var/tmp/xpro-vagrant}
PHASE=${XPRO_VM_PHASE:-host}
O=build-vm
HOST_PKGS="qemu-system-x86 qemu-utils mmdebstrap e2fsprogs libvirt-daemon libvirt-daemon-driver-qemu
libvirt-clients vagrant vagrant-libvirt dnsmasq-base iptables rsync openssh-client util-linux"
POOL=xpro-vagrant
NETS="xpro-mgmt xpro-testbed"

fail() {
  echo "vagrant-check: FAIL $*"
  exit 1
}
say() { printf 'vagrant-check: %s\n' "$*"; }

# step NAME CMD...: run CMD with its output in $LOG/NAME.log, time it, and on a
# failure show the log's tail.
STEPS=${XPRO_VM_STEPS:-}
step() {
  local name=$1 t0 t1 rc
  shift
  t0=$(date +%s)
  "$@" >"$LOG/$name.log" 2>&1
  rc=$?
  t1=$(date +%s)
  STEPS+="$name=$((t1 - t0))s "
  if [[ $rc -ne 0 ]]; then
    say "step $name failed (exit $rc) after $((t1 - t0)) s; last lines of its log:"
    tr '\r' '\n' <"$LOG/$name.log" | grep -v 'Progress:' | tail -n 25 | cut -c1-240 | sed 's/^/  | /'
    return 1
  fi
  say "step $name: ok in $((t1 - t0)) s"
}

if [[ $PHASE == host ]]; then
  # ==== on the host: packages, box, tree, build (the mirror is reachable here)
  case $RELEASE in bookworm | trixie) ;; *) fail "RELEASE must be bookworm or trixie, not '$RELEASE'" ;; esac
  case $XPRO_BOX in local | public) ;; *) fail "XPRO_BOX must be local or public, not '$XPRO_BOX'" ;; esac
  case $XPRO_TREE in head | work) ;; *) fail "XPRO_TREE must be head or work, not '$XPRO_TREE'" ;; esac
  [[ $MULTI == 0 ]] || fail "MULTI=$MULTI: proxies on separate VMs are not implemented yet (vagrant/README.md)"
  [[ $(id -u) -eq 0 ]] || fail "needs root (libvirtd, mmdebstrap, the testbed inside the VM)"
  T_START=$(date +%s)
  STAMP=$(date -u +%Y%m%dT%H%M%SZ)
  RUN=$CACHE/run-$RELEASE-$STAMP
  OUT=$repo/results/vagrant/$RELEASE-$STAMP
  LOG=$RUN/log
  mkdir -p "$LOG" "$OUT" "$CACHE/boxes" || fail "cannot create $RUN or $OUT"
  trap 'rc=$?; trap - EXIT; [[ ${XPRO_KEEP:-0} == 1 ]] || rm -rf "$RUN/src"; exit $rc' EXIT
  trap 'fail "interrupted"' INT TERM

  host_packages() {
    local missing=() p
    for p in $HOST_PKGS; do
      dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then echo "all host packages present"; return 0; fi
    echo "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  }
  step host-packages host_packages || fail "installing the host packages"

  # The sources as a clean clone has them (HEAD) or the working tree.
  src=$RUN/src
  export_tree() {
    rm -rf "$src" && mkdir -p "$src" || return 1
    if [[ $XPRO_TREE == head ]]; then
      git -C "$repo" archive --format=tar HEAD | tar -x -C "$src" &&
        git -C "$repo" rev-parse HEAD >"$src/.xpro-commit"
    else
      (cd "$repo" && git ls-files -z -c -o --exclude-standard | tar --null -T - -cf -) | tar -x -C "$src" &&
        echo "working tree of $(git -C "$repo" rev-parse HEAD)" >"$src/.xpro-commit"
    fi
  }
  step export export_tree || fail "exporting the tree"
  export VAGRANT_HOME=$CACHE/vagrant.d VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_DEFAULT_PROVIDER=libvirt
  # The box is named after what it bakes in (build-box.sh and the package list
  # of scripts/deps.sh): a change of either builds a new one.
  export XPRO_DEPS=$src/scripts/deps.sh
  boxhash=$(cat "$here/build-box.sh" <(bash "$XPRO_DEPS" --list) | sha256sum | cut -c1-12)
  BOXROOT=""
  if [[ $XPRO_BOX == local ]]; then
    XPRO_BOX_NAME=xpro/$RELEASE-$boxhash
    BOXFILE=$CACHE/boxes/$RELEASE-$boxhash.box
    BOXROOT=$CACHE/boxes/$RELEASE-$boxhash.root
    if [[ ! -s $BOXFILE ]]; then
      step build-box bash "$here/build-box.sh" "$RELEASE" "$BOXFILE" || fail "building the $RELEASE box"
    else
      say "box $BOXFILE present"
    fi
    if ! vagrant box list 2>/dev/null | grep -q "^$XPRO_BOX_NAME "; then
      step box-add vagrant box add --force --name "$XPRO_BOX_NAME" "$BOXFILE" || fail "vagrant box add"
    fi
  else
    XPRO_BOX_NAME=debian/${RELEASE}64
    say "public box $XPRO_BOX_NAME (Vagrant downloads it if it is not there yet)"
  fi

  # The artefacts, built for the VM's Debian: on the host when it runs the same
  # release, else in the box's root file system (the VM's libraries).
  host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  build_tree() {
    if [[ $host_release == "$RELEASE" ]]; then
      make -C "$src" NODEPS=1 O=$O -j"$(nproc)" build
    elif [[ -d $BOXROOT ]]; then
      bash "$here/chroot-build.sh" "$BOXROOT" "$src" $O
    else
      echo "no $RELEASE root file system to build in (the public box has none)"
      return 1
    fi
  }
  step build build_tree || fail "building on the host"

  export RELEASE XPRO_BOX XPRO_BOX_NAME RUN OUT LOG T_START STAMP XPRO_VM_STEPS="$STEPS"
  export XPRO_VM_CACHE=$CACHE
  if [[ -r /run/libvirtd.pid ]] && kill -0 "$(cat /run/libvirtd.pid)" 2>/dev/null; then
    say "libvirtd $(cat /run/libvirtd.pid) already runs: using it, in the host's network namespace"
    XPRO_VM_PHASE=vm bash "$0"
  else
    # a network namespace of our own for libvirtd, its networks and the VM
    XPRO_VM_PHASE=vm-isolated unshare --net --mount --propagation private bash "$0"
  fi
  rc=$?
  [[ $rc -eq 0 ]] || [[ -s $RUN/final ]] || echo "vagrant-check: FAIL the VM phase ended with status $rc"
  exit $rc
fi

# ==== the VM phase: libvirt, vagrant up, tests in the VM, destroy ==============
export VAGRANT_HOME=$CACHE/vagrant.d VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_DEFAULT_PROVIDER=libvirt
export VAGRANT_DOTFILE_PATH=$RUN/vagrant-dot VAGRANT_CWD=$here
export XPRO_SYNC=none XPRO_POOL=$POOL
src=$RUN/src
final() { echo "$*" >"$RUN/final"; echo "$*"; }
fail() {
  final "vagrant-check: FAIL $*"
  exit 1
}

# (the host's /sys stays: libvirt needs its cgroup mounts, and sets bridges up
# through netlink and ioctls where /sys/class/net does not show them)
[[ $PHASE == vm-isolated ]] && ip link set lo up

STARTED_PIDS=()
IPT_BEFORE=""
vm() { ssh -F "$RUN/ssh.cfg" -o ConnectTimeout=30 -o ServerAliveInterval=30 xpro1 "$@"; }
cleanup() {
  local rc=$? n p t ipt ch v
  trap - EXIT INT TERM
  # after a failure, whatever the VM has of logs and results
  if [[ $rc -ne 0 && -s $RUN/ssh.cfg ]]; then
    timeout 120 ssh -F "$RUN/ssh.cfg" -o ConnectTimeout=10 xpro1 \
      "cd /xpro 2>/dev/null && sudo tar -chf - $O/test-logs results 2>/dev/null" 2>/dev/null | tar -x -C "$OUT" 2>/dev/null
  fi
  cp "$LOG"/*.log "$OUT/" 2>/dev/null
  if [[ ${XPRO_KEEP:-0} == 1 ]]; then
    echo "vagrant-check: XPRO_KEEP=1: VM, libvirtd (${STARTED_PIDS[*]}) and $RUN left; ssh -F $RUN/ssh.cfg xpro1"
    [[ $PHASE == vm-isolated ]] && echo "vagrant-check: they live in the network namespace of PID ${STARTED_PIDS[1]:-?} (nsenter -t PID -n)"
    exit $rc
  fi
  if [[ -d $VAGRANT_DOTFILE_PATH ]]; then
    timeout 300 vagrant destroy -f >>"$LOG/destroy.log" 2>&1
  fi
  if [[ -n ${LIBVIRT_UP:-} ]]; then
    for n in $(virsh -q list --all --name 2>/dev/null | grep '^xpro-' || true); do
      virsh destroy "$n" >/dev/null 2>&1; virsh undefine "$n" --remove-all-storage >/dev/null 2>&1
    done
    for n in $NETS; do
      virsh net-destroy "$n" >/dev/null 2>&1; virsh net-undefine "$n" >/dev/null 2>&1
    done
    if virsh pool-info "$POOL" >/dev/null 2>&1; then
      for v in $(virsh -q vol-list "$POOL" 2>/dev/null | awk '{print $1}'); do
        virsh vol-delete --pool "$POOL" "$v" >/dev/null 2>&1
      done
      virsh pool-destroy "$POOL" >/dev/null 2>&1; virsh pool-undefine "$POOL" >/dev/null 2>&1
    fi
    rm -rf "$CACHE/pool"
    # libvirt leaves its LIBVIRT_* chains behind, empty: remove those it added
    # (in our own network namespace they go with it anyway)
    for t in filter nat mangle; do
      for ipt in iptables ip6tables; do
        for ch in $($ipt -t $t -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^LIBVIRT_/ {print $2}'); do
          grep -qx "$ipt $t $ch" <<<"$IPT_BEFORE" && continue
          $ipt -t $t -S 2>/dev/null | awk -v c="$ch" '$1 == "-A" && $0 ~ "-j " c "$" {sub(/^-A/, "-D"); print}' |
            while read -r rule; do $ipt -t $t $rule 2>/dev/null; done
          $ipt -t $t -F "$ch" 2>/dev/null; $ipt -t $t -X "$ch" 2>/dev/null
        done
      done
    done
  fi
  for ((p = ${#STARTED_PIDS[@]} - 1; p >= 0; p--)); do
    kill "${STARTED_PIDS[p]}" 2>/dev/null
    for _ in $(seq 20); do kill -0 "${STARTED_PIDS[p]}" 2>/dev/null || break; sleep 0.5; done
  done
  rm -rf "$RUN/vagrant-dot"
  exit $rc
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

# Without libvirt-daemon-system nobody creates the user QEMU runs as, nor starts
# the daemons: do what its install script and its units would.
pid_alive() { [[ -r $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
libvirt_up() {
  getent group libvirt >/dev/null || groupadd -r libvirt
  getent group kvm >/dev/null || groupadd -r kvm
  getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd -r -g kvm -G libvirt-qemu -d /var/lib/libvirt -M -s /usr/sbin/nologin libvirt-qemu
  mkdir -p /var/lib/libvirt /var/log/libvirt /run/libvirt
  if [[ $PHASE == vm-isolated && -c /dev/kvm ]]; then
    # QEMU's capability probe finds KVM, but /dev/kvm is root's alone, so
    # libvirt judges KVM unusable by its QEMU user and probes QEMU again at
    # every call (minutes per vagrant up). In this mount namespace only, a
    # copy of the node the kvm group may open makes the two agree; the VM
    # still runs under TCG (driver "qemu").
    local mm
    mm=$(stat -c '%t %T' /dev/kvm)
    rm -f "$RUN/kvm" && mknod -m 660 "$RUN/kvm" c $((16#${mm% *})) $((16#${mm#* })) &&
      chgrp kvm "$RUN/kvm" && mount --bind "$RUN/kvm" /dev/kvm && echo "/dev/kvm: group kvm, in this namespace"
  fi
  if ! pid_alive /run/virtlogd.pid; then
    virtlogd -d || return 1
    for _ in $(seq 20); do pid_alive /run/virtlogd.pid && break; sleep 0.25; done
    pid_alive /run/virtlogd.pid || { echo "virtlogd did not start"; return 1; }
    echo "started virtlogd $(cat /run/virtlogd.pid)"
    cat /run/virtlogd.pid >"$RUN/virtlogd.pid"
  fi
  if ! pid_alive /run/libvirtd.pid; then
    libvirtd -d || return 1
    for _ in $(seq 120); do virsh -q version >/dev/null 2>&1 && break; sleep 0.25; done
    pid_alive /run/libvirtd.pid || { echo "libvirtd did not start"; return 1; }
    echo "started libvirtd $(cat /run/libvirtd.pid)"
    cat /run/libvirtd.pid >"$RUN/libvirtd.pid"
  fi
  virsh -q version
}
for t in filter nat mangle; do
  for ipt in iptables ip6tables; do
    for ch in $($ipt -t $t -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^LIBVIRT_/ {print $2}'); do
      IPT_BEFORE+="$ipt $t $ch"$'\n'
    done
  done
done
LIBVIRT_UP=1
step libvirt libvirt_up
rc=$?
[[ -r $RUN/virtlogd.pid ]] && STARTED_PIDS+=("$(cat "$RUN/virtlogd.pid")")
[[ -r $RUN/libvirtd.pid ]] && STARTED_PIDS+=("$(cat "$RUN/libvirtd.pid")")
[[ $rc -eq 0 ]] || fail "starting libvirt"

pool_up() {
  virsh pool-info "$POOL" >/dev/null 2>&1 && return 0
  mkdir -p "$CACHE/pool"
  virsh pool-define-as "$POOL" dir --target "$CACHE/pool" && virsh pool-start "$POOL"
}
step pool pool_up || fail "creating the libvirt storage pool $POOL"

step up vagrant up --no-provision || fail "vagrant up"
vagrant ssh-config >"$RUN/ssh.cfg" 2>/dev/null || fail "vagrant ssh-config"
copy_in() {
  tar -C "$src" -cf - . | vm 'sudo mkdir -p /xpro && sudo tar -x -C /xpro -f - && sudo chown -R root:root /xpro'
}
step copy-in copy_in || fail "copying the tree into the VM"
vm 'uname -r; ip -4 addr show scope global | grep inet; ip route; ip route show default | grep -q . && echo "DEFAULT ROUTE PRESENT" || echo "no default route"' \
  >"$LOG/vm-info.log" 2>&1
KVER=$(head -1 "$LOG/vm-info.log")
say "VM kernel $KVER; address(es): $(grep inet "$LOG/vm-info.log" | awk '{print $2}' | tr '\n' ' ')"
grep -q 'DEFAULT ROUTE PRESENT' "$LOG/vm-info.log" && fail "the VM has a default route"
grep inet "$LOG/vm-info.log" | awk '{print $2}' | grep -vqE '^198\.(18|19)\.' && fail "a VM address lies outside 198.18.0.0/15"

# deps.sh, as the Vagrant provisioner runs it: the VM has no route to any
# mirror, so its passing shows it needs no network when all is installed
step provision vagrant provision xpro1 --provision-with deps || fail "scripts/deps.sh in the VM"
grep -q 'nothing installed' "$LOG/provision.log" || fail "scripts/deps.sh in the VM installed something"
# Debian's kernel modules are compressed: the first load of each, emulated,
# can outlast the runner's 10 s for an nft ruleset. Load once, in a scratch
# namespace, what the testbed's links and the runner's rulesets use.
warm_up() {
  vm 'sudo modprobe -a veth bridge sch_ingress cls_bpf nf_tables nft_limit 2>/dev/null
    sudo ip netns add xpro-warm-up && sudo ip -n xpro-warm-up link add eth0 type veth peer name eth1 || exit 1
    sudo ip netns exec xpro-warm-up nft -f - <<RULES
table netdev w {
  counter c { }
  chain i {
    type filter hook ingress device "eth0" priority -500; policy accept;
    ip saddr 198.18.0.0/15 counter name "c" accept
  }
}
table inet w {
  counter c { }
  chain i {
    type filter hook input priority -300; policy accept;
    ip daddr { 198.18.0.0/24, 198.18.1.0/24 } counter name "c" drop
  }
}
table ip w {
  set m { type ipv4_addr . ipv4_addr; flags dynamic; timeout 10s; size 1024; }
  chain f {
    type filter hook forward priority 0; policy accept;
    update @m { ip saddr . ip daddr limit rate over 10/second burst 10 packets } drop
  }
}
RULES
    rc=$?; sudo ip netns del xpro-warm-up; exit $rc'
}
step warm-up warm_up || fail "loading the kernel modules in the VM"
# the artefacts came from the host: tell make they are current
vm "cd /xpro && sudo make -s -t NODEPS=1 O=$O build" >"$LOG/touch.log" 2>&1
step unit vm "cd /xpro && sudo O=$O bash tests/run.sh unit" || fail "unit tests in the VM"
# emulated, the differential test runs about 12 times slower than on the host:
# 5,000 random sequences instead of 100,000 (make test runs them all)
DIFF_SEQS=${XPRO_VM_DIFF_SEQS:-5000}
step bpf vm "cd /xpro && sudo XPRO_DIFF_SEQS=$DIFF_SEQS O=$O bash tests/run.sh bpf" ||
  fail "BPF test-run tests in the VM"
step flood vm "cd /xpro && sudo SCALE=ci make NODEPS=1 O=$O experiment SCENARIO=flood" ||
  fail "make experiment SCENARIO=flood (CI scale) in the VM"
copy_out() {
  vm "cd /xpro && sudo tar -chf - results/flood/latest $O/test-logs" | tar -x -C "$OUT"
}
step copy-out copy_out || fail "copying the results out"
unit=$(tail -1 "$LOG/unit.log")
bpf=$(tail -1 "$LOG/bpf.log")
# the run's headline, and the scenario's assertions for the record (under
# emulation the rates are far from the host's: informative, not the verdict)
flood=$(grep -m1 'valid ' "$LOG/flood.log" | sed 's/^ *//; s/, p99.*//')
vm "cd /xpro && sudo python3 experiments/xpro-exp check flood results/flood/latest --scale ci" >"$LOG/flood-check.log" 2>&1
asserts="$(grep -c '^ok' "$LOG/flood-check.log") ok, $(grep '^FAIL' "$LOG/flood-check.log" | grep -vc 'not run') failed"
step destroy vagrant destroy -f || fail "vagrant destroy"
echo "$STEPS" >"$OUT/times"
say "results in ${OUT#"$repo"/}; steps: $STEPS"
final "vagrant-check: PASS Debian $RELEASE, kernel $KVER; unit: $unit; bpf ($DIFF_SEQS diff sequences): $bpf; flood (CI scale): $flood (scenario asserts of the run defense: $asserts); $(($(date +%s) - T_START)) s"
