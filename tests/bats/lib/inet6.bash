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

# xp6_proxy_path DEVIF VICIF: the IPv6 names of xp_proxy_path's hosts (2001:db8::
# + the IPv4 address, /120 for each /24), routed the same way, IPv6 forwarding on PX:
#   DEV 2001:db8::c612:2 ==== in0 ::c612:1 PX out0 ::c612:101 ==== VIC 2001:db8::c612:102
xp6_proxy_path() {
  xp6_addr "$DEV" "$1" 2001:db8::c612:2/120 &&
    xp6_addr "$PX" in0 2001:db8::c612:1/120 &&
    xp6_addr "$PX" out0 2001:db8::c612:101/120 &&
    xp6_addr "$VIC" "$2" 2001:db8::c612:102/120 &&
    timeout 10 ip -n "$DEV" -6 route add 2001:db8::c612:100/120 via 2001:db8::c612:1 &&
    timeout 10 ip -n "$VIC" -6 route add 2001:db8::c612:0/120 via 2001:db8::c612:101 &&
    xp_exec "$PX" sysctl -qw net.ipv6.conf.all.forwarding=1
}
