# IPv6 in the traffic tools' suites (50-bot, 51-tunnel-device, 52-sink,
# 53-replay): static addresses from 2001:db8::/32 only, no router
# advertisements, no SLAAC, no duplicate address detection (docs: topo/README.md).

# xp6_enable NS IF...: IPv6 on in NS and on each IF, accept_ra=0, autoconf=0, no
# duplicate address detection (a tentative link-local address would hold back
# the first neighbour solicitation for a second)
xp6_enable() {
  local ns=$1 i k
  shift
  for k in accept_ra=0 autoconf=0 accept_dad=0 dad_transmits=0; do
    xp_exec "$ns" sysctl -qw "net.ipv6.conf.default.$k" "net.ipv6.conf.all.$k" || return 1
    for i in "$@"; do xp_exec "$ns" sysctl -qw "net.ipv6.conf.$i.$k" || return 1; done
  done
  xp_exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 || return 1
  for i in "$@"; do xp_exec "$ns" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=0" || return 1; done
}

# xp6_addr NS IF CIDR: a static address (nodad) inside 2001:db8::/32
xp6_addr() {
  case ${3:-} in
    2001:db8:*) ;;
    *) echo "xp6_addr: refusing '${3:-}' on $1/$2: outside 2001:db8::/32" >&2; return 1 ;;
  esac
  timeout 10 ip -n "$1" addr add "$3" dev "$2" nodad
}
