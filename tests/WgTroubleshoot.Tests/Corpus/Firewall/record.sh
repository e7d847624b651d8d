#!/bin/sh
# Records the real firewall tool outputs the parser tests read. Run as root from this directory:
#   sh record.sh
# Every scenario runs in its own throw-away network namespace (wgt-fw-rec-*), so the host's own firewall
# is never touched. ufw and firewalld write their configuration under /etc: they run inside a private
# mount namespace where /etc/ufw, /etc/default/ufw and /etc/firewalld are temporary copies.
# Timestamps in the *-save headers are left as the tools wrote them.
set -eu
cd "$(dirname "$0")"
NS=wgt-fw-rec
cleanup() { ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

fresh() { cleanup; ip netns add "$NS"; }
inns() { ip netns exec "$NS" "$@"; }

# --- nftables --------------------------------------------------------------------------------------
fresh
inns nft -f - <<'NFT'
table inet filter {
  chain input {
    type filter hook input priority filter; policy drop;
    ct state established,related counter accept
    ct state invalid drop
    iifname "lo" accept
    meta l4proto { icmp, ipv6-icmp } accept
    tcp dport 22 accept comment "ssh"
    udp dport 51820 counter accept comment "wireguard"
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname "wg0" accept
    oifname "wg0" ct state established,related accept
  }
}
NFT
inns nft list ruleset > nft-policy-drop-accept-udp.txt

fresh
inns nft -f - <<'NFT'
table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept
    iifname "lo" accept
    tcp dport 51820 accept
  }
}
NFT
inns nft list ruleset > nft-tcp-only.txt

fresh
inns nft -f - <<'NFT'
table inet filter {
  chain wg_checks {
    udp dport 51820 counter drop comment "blocked on purpose"
  }
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    jump wg_checks
  }
}
NFT
inns nft list ruleset > nft-jump-drop.txt

fresh
inns nft -f - <<'NFT'
table ip filter4 {
  chain input {
    type filter hook input priority filter; policy drop;
    ct state { established, related } accept
    iifname "wg0" accept
    iif "lo" accept
  }
}
NFT
inns nft list ruleset > nft-iifname-wg-established.txt

fresh
inns nft -f - <<'NFT'
table inet filter {
  chain input {
    type filter hook input priority filter; policy accept;
    meta l4proto udp th dport 51000-51999 reject with icmpx type port-unreachable
  }
}
NFT
inns nft list ruleset > nft-reject-range.txt

fresh
inns nft -f - <<'NFT'
table inet filter {
  chain input {
    type filter hook input priority filter; policy drop;
    udp dport { 51820, 51821 } accept
  }
}
table inet late {
  chain input {
    type filter hook input priority filter + 10; policy accept;
    ip saddr 203.0.113.0/24 udp dport 51820 drop
    udp dport 51820 drop comment "second base chain"
  }
}
NFT
inns nft list ruleset > nft-set-and-second-base-chain.txt

# --- iptables, both flavours ------------------------------------------------------------------------
for flavour in legacy nft; do
  fresh
  inns iptables-$flavour -P INPUT DROP
  inns iptables-$flavour -P FORWARD DROP
  inns iptables-$flavour -A INPUT -i lo -j ACCEPT
  inns iptables-$flavour -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  inns iptables-$flavour -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
  inns iptables-$flavour -A INPUT -p tcp -m multiport --dports 51820,51821 -m comment --comment "tcp only" -j ACCEPT
  inns iptables-$flavour -A FORWARD -i wg0 -j ACCEPT
  inns iptables-$flavour -A FORWARD -o wg0 -m state --state RELATED,ESTABLISHED -j ACCEPT
  inns ip6tables-$flavour -P INPUT DROP
  inns ip6tables-$flavour -A INPUT -p udp -m udp --dport 51820 -j ACCEPT
  inns iptables-$flavour-save > iptables-$flavour-tcp-only.txt
  inns ip6tables-$flavour-save > ip6tables-$flavour-udp-open.txt

  fresh
  inns iptables-$flavour -N WG-CHECKS
  inns iptables-$flavour -A WG-CHECKS -s 198.51.100.0/24 -j RETURN
  inns iptables-$flavour -A WG-CHECKS -p udp -m udp --dport 51820 -j REJECT --reject-with icmp-port-unreachable
  inns iptables-$flavour -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  inns iptables-$flavour -A INPUT -j WG-CHECKS
  inns iptables-$flavour -A INPUT -p udp -m udp --dport 51000:52000 -j ACCEPT
  inns iptables-$flavour-save > iptables-$flavour-user-chain-reject.txt
done
# What nft shows for rules added with iptables-nft (the tables iptables-nft manages).
inns nft list ruleset > nft-with-iptables-nft-tables.txt

# --- ufw --------------------------------------------------------------------------------------------
ufw_run() {
  # $1: shell commands to run with ufw inside the namespace and a private copy of ufw's configuration.
  tmp=$(mktemp -d)
  cp -a /etc/ufw "$tmp/ufw"; cp /etc/default/ufw "$tmp/default-ufw"; : > "$tmp/sysctl.conf"
  sed -i "s|^IPT_SYSCTL=.*|IPT_SYSCTL=$tmp/sysctl.conf|" "$tmp/default-ufw"
  inns unshare -m --propagation private sh -c "mount --bind $tmp/ufw /etc/ufw && mount --bind $tmp/default-ufw /etc/default/ufw && $1"
  rm -rf "$tmp"
}
fresh
ufw_run 'ufw --force enable >/dev/null && ufw status verbose' > ufw-status-default-deny-no-rule.txt
fresh
ufw_run 'ufw allow 22/tcp >/dev/null && ufw allow 51820/udp >/dev/null && ufw --force enable >/dev/null && ufw status verbose' > ufw-status-allow-udp.txt
fresh
ufw_run 'ufw allow 51820/tcp >/dev/null && ufw allow in on wg0 >/dev/null && ufw route allow in on wg0 >/dev/null && ufw --force enable >/dev/null && ufw status verbose; iptables-save > ufw-iptables-save.txt' > ufw-status-tcp-only.txt
mv -f ufw-iptables-save.txt ufw-iptables-nft-save-tcp-only.txt 2>/dev/null || true

# --- firewalld (offline: same output format as firewall-cmd --list-all, no daemon needed) ------------
fw_run() {
  tmp=$(mktemp -d); cp -a /etc/firewalld "$tmp/firewalld"
  unshare -m --propagation private sh -c "mount --bind $tmp/firewalld /etc/firewalld && $1"
  rm -rf "$tmp"
}
fw_run 'firewall-offline-cmd --zone=public --list-all' > firewalld-list-all-public-default.txt
fw_run 'firewall-offline-cmd --zone=public --add-port=51820/udp >/dev/null && firewall-offline-cmd --zone=public --add-service=ssh >/dev/null && firewall-offline-cmd --zone=public --list-all' > firewalld-list-all-public-port.txt
fw_run 'firewall-offline-cmd --zone=drop --add-service=wireguard >/dev/null && firewall-offline-cmd --zone=drop --list-all' > firewalld-list-all-drop-service.txt
fw_run 'firewall-offline-cmd --zone=public --add-port=51820/tcp >/dev/null && firewall-offline-cmd --zone=public --add-rich-rule="rule family=ipv4 source address=198.51.100.0/24 port port=51821 protocol=udp accept" >/dev/null && firewall-offline-cmd --zone=public --list-all' > firewalld-list-all-public-tcp-rich.txt
echo recorded
