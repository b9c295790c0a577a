#!/usr/bin/env bash
# Build a vagrant-libvirt box of Debian from Debian's packages alone: no box is
# downloaded. mmdebstrap makes the root file system with the stock kernel and
# every package the project needs (the list of scripts/deps.sh), so that the
# VM, which has no route to any mirror, provisions offline. The box carries
# its kernel and initrd and boots them directly (no boot loader).
#
#   vagrant/build-box.sh RELEASE OUT.box      RELEASE: bookworm (6.1) or trixie (6.12)
#
# Leaves OUT.box (metadata.json, Vagrantfile, box.img, vmlinuz, initrd.img) and
# OUT.root/, the root file system it was made from.
#
# Needs root, mmdebstrap, qemu-utils, e2fsprogs and the mirror of
# /etc/apt/sources.list* (XPRO_MIRROR overrides it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
RELEASE=${1:?usage: build-box.sh RELEASE OUT.box}
OUT=${2:?usage: build-box.sh RELEASE OUT.box}
SIZE=${XPRO_BOX_SIZE:-8G}
MIRROR=${XPRO_MIRROR:-$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' \
  /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}' || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

# What a Vagrant VM needs to boot and be reached, then the project's packages.
BASE="linux-image-amd64 initramfs-tools systemd-sysv udev kmod dbus procps passwd sudo
openssh-server rsync iproute2 less python3 ca-certificates"
# the package list of the tree that goes into the VM (XPRO_DEPS), else this one's
PROJECT=$(bash "${XPRO_DEPS:-$here/../scripts/deps.sh}" --list)
KEY_PUB=${XPRO_VAGRANT_PUB:-$(ls /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub 2>/dev/null | head -1)}
[[ -r $KEY_PUB ]] || { echo "build-box: no Vagrant insecure public key found" >&2; exit 1; }

work=$(mktemp -d "${OUT%/*}/.box.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
t0=$(date +%s)

# What makes the root a Vagrant box: fstab, DHCP on the first NIC
# (systemd-networkd; the name varies: ens2, ens3, ...), the vagrant user with
# password-less sudo and Vagrant's insecure key (Vagrant swaps it at the first
# login), host keys made at first boot. Run by mmdebstrap with $1 = the root.
cat >"$work/customize.sh" <<'HOOK'
set -e
r=$1
echo xpro >"$r/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 xpro\n' >"$r/etc/hosts"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$r/etc/fstab"
mkdir -p "$r/etc/systemd/network"
printf '[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
  >"$r/etc/systemd/network/50-dhcp.network"
chroot "$r" useradd -m -s /bin/bash -U vagrant
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >"$r/etc/sudoers.d/vagrant"
chmod 440 "$r/etc/sudoers.d/vagrant"
chroot "$r" sh -c 'install -d -m 700 -o vagrant -g vagrant ~vagrant/.ssh &&
  install -m 600 -o vagrant -g vagrant /tmp/vagrant.pub ~vagrant/.ssh/authorized_keys'
rm -f "$r/tmp/vagrant.pub"
echo 'UseDNS no' >"$r/etc/ssh/sshd_config.d/vagrant.conf"
rm -f "$r"/etc/ssh/ssh_host_*key*
printf '[Unit]\nBefore=ssh.service\nConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\n[Service]\nType=oneshot\nExecStart=/usr/bin/ssh-keygen -A\n[Install]\nWantedBy=multi-user.target\n' \
  >"$r/etc/systemd/system/ssh-hostkeys.service"
chroot "$r" systemctl enable systemd-networkd ssh ssh-hostkeys >/dev/null 2>&1
chroot "$r" apt-get clean
HOOK

mmdebstrap --variant=apt --aptopt='APT::Install-Recommends "false"' \
  --include="$(echo $BASE $PROJECT | tr ' ' ',')" \
  --customize-hook="cp '$KEY_PUB' \"\$1/tmp/vagrant.pub\"" \
  --customize-hook="sh '$work/customize.sh' \"\$1\"" \
  "$RELEASE" "$root" "$MIRROR"
t1=$(date +%s)

kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -1)
kver=${kernel##*/vmlinuz-}
cp "$kernel" "$work/vmlinuz"; cp "$initrd" "$work/initrd.img"
truncate -s "$SIZE" "$work/root.raw"
mkfs.ext4 -q -L xpro -d "$root" "$work/root.raw"
qemu-img convert -O qcow2 "$work/root.raw" "$work/box.img"
rm -f "$work/root.raw"
# the root file system stays beside the box: vagrant/chroot-build.sh builds
# the project in it for a release other than the host's
rm -rf "${OUT%.box}.root"; mv "$root" "${OUT%.box}.root"
vsize=$(( $(qemu-img info --output=json "$work/box.img" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p') / 1073741824 ))
printf '{"provider":"libvirt","format":"qcow2","virtual_size":%d}\n' "$vsize" > "$work/metadata.json"
# The box's own Vagrantfile: direct kernel boot of the kernel and initrd it carries.
cat > "$work/Vagrantfile" <<'EOF'
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.kernel = File.expand_path("../vmlinuz", __FILE__)
    lv.initrd = File.expand_path("../initrd.img", __FILE__)
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=1"
  end
end
EOF
echo "$RELEASE $kver" > "$work/info"
tar -C "$work" -cf "$OUT.tmp" metadata.json Vagrantfile box.img vmlinuz initrd.img info
mv "$OUT.tmp" "$OUT"
t2=$(date +%s)
echo "build-box: $OUT: Debian $RELEASE, kernel $kver (mmdebstrap $((t1 - t0)) s, image and box $((t2 - t1)) s)"
