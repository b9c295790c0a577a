#!/usr/bin/env bash
# Build the project inside a Debian root file system (the one a box was made
# from, vagrant/build-box.sh), so that the artefacts link against the VM's
# libraries when the VM runs another Debian release than the host. The BPF
# objects are CO-RE: vmlinux.h comes from the host kernel's BTF as usual.
#
#   vagrant/chroot-build.sh ROOT SRC O     make -C SRC NODEPS=1 O=O build, in ROOT
#
# The mounts live in a private mount namespace and vanish with it.
set -euo pipefail
root=${1:?usage: chroot-build.sh ROOT SRC O}
src=${2:?usage: chroot-build.sh ROOT SRC O}
O=${3:?usage: chroot-build.sh ROOT SRC O}
[[ -x $root/usr/bin/make ]] || { echo "chroot-build: $root has no make" >&2; exit 1; }
mkdir -p "$root/xpro" "$root/sys/kernel/btf" "$root/proc" "$root/dev"
exec unshare --mount --propagation private bash -euc '
  root=$1 src=$2 O=$3
  mount --bind "$src" "$root/xpro"
  mount --bind /sys/kernel/btf "$root/sys/kernel/btf"
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  chroot "$root" make -C /xpro NODEPS=1 O="$O" -j"$(nproc)" build
' chroot-build "$root" "$src" "$O"
