#!/usr/bin/env bash
# make deb-check: build X-Pro's Debian packages from the committed tree
# (HEAD) with dpkg-buildpackage, check them with lintian, install xpro in a
# fresh Debian root made by mmdebstrap (the host's release, its configured
# mirror) and run `xpro --version` and `xpro config check` in it. Not part
# of `make test`: it downloads a Debian base system. docs/operations.md.
set -euo pipefail

say() { printf 'deb-check: %s\n' "$*"; }
die() { printf 'deb-check: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (mmdebstrap makes the root in root mode)"
for t in dpkg-buildpackage lintian mmdebstrap git; do
  command -v "$t" >/dev/null || die "$t missing (apt-get install devscripts lintian mmdebstrap)"
done
work=$(mktemp -d "${TMPDIR:-/tmp}/xpro-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/xpro"
git archive HEAD | tar -x -C "$work/xpro"
say "dpkg-buildpackage -us -uc -b (log: $work/build.log)"
(cd "$work/xpro" && dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; die "dpkg-buildpackage failed"; }
ls "$work"/*.deb
say "lintian"
lintian --fail-on warning "$work"/*.changes
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
say "mmdebstrap $suite with xpro installed"
mmdebstrap --quiet --variant=apt \
  --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount --include="$(ls "$work"/xpro_*_amd64.deb)" \
  --customize-hook='chroot "$1" xpro --version' \
  --customize-hook='chroot "$1" xpro config check /etc/xpro/xpro.conf' \
  --customize-hook='chroot "$1" test -f /usr/share/man/man8/xpro.8.gz' \
  --customize-hook='chroot "$1" test -f /usr/share/bash-completion/completions/xpro' \
  "$suite" "$work/root"
say "ok: xpro installs in a fresh $suite root, --version and config check pass"
