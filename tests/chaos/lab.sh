# lab.sh — a private network of Linux network namespaces for the fault-injection suite
# (sourced by tests/chaos/chaos.sh).
#
# Every node gets its own namespace (lab_node K: 10.77.0.K on its eth0); a "switch"
# namespace joins them with a bridge. Each veth pair is created with both ends already
# inside lab namespaces, so no interface, route or firewall rule of the host is ever
# touched. Faults are applied inside the node namespaces only:
#   lab_partition "A..." "B..."   nftables drop between the two groups (both ways)
#   lab_cut K ADDR...             node K cannot reach ADDR (nor they it)
#   lab_degrade LOSS% [DELAY_MS JITTER_MS]  on every node's egress: tc netem when the
#                                 kernel has it (loss, delay, jitter: reordering),
#                                 otherwise loss alone through nftables
#   lab_heal                      removes every fault
# lab_cleanup (run from the caller's EXIT trap) deletes every namespace of this run,
# and lab_init first removes those of earlier runs whose process is gone.
LAB_PREFIX=agchaos
LAB_ID="$LAB_PREFIX-$$"
LAB_NODES=()
LAB_NETEM=""

lab_ns() { echo "$LAB_ID-$1"; }
lab_addr() { echo "10.77.0.$1"; }
lab_exec() { local k=$1; shift; ip netns exec "$(lab_ns "$k")" "$@"; }

# lab_supported: prints why not and returns 1 when this machine cannot run the lab.
lab_supported() {
  [ "$(id -u)" -eq 0 ] || { echo "not root: network namespaces need root"; return 1; }
  local t d
  for t in ip nft tc; do
    command -v "$t" >/dev/null || { echo "'$t' not found (scripts/install-deps.sh installs it)"; return 1; }
  done
  local probe="$LAB_PREFIX-probe-$$"
  if ! d=$(ip netns add "$probe" 2>&1); then echo "cannot create a network namespace: $d"; return 1; fi
  local ok=0
  ip -n "$probe" link add p0 type veth peer name p1 2>/dev/null || ok=1
  [ $ok -eq 0 ] || echo "no veth support in this kernel"
  if [ $ok -eq 0 ] && ! ip netns exec "$probe" nft add table inet probe 2>/dev/null; then
    echo "no nftables support in this kernel"; ok=1
  fi
  ip netns del "$probe" 2>/dev/null
  return $ok
}

# lab_has_netem: the kernel has sch_netem (delay, jitter, loss).
lab_has_netem() {
  if [ -z "$LAB_NETEM" ]; then
    local probe="$LAB_PREFIX-probe-$$"
    ip netns add "$probe" 2>/dev/null
    if ip netns exec "$probe" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
      LAB_NETEM=yes; else LAB_NETEM=no; fi
    ip netns del "$probe" 2>/dev/null
  fi
  [ "$LAB_NETEM" = yes ]
}

# lab_init: the switch namespace with its bridge (after removing stale labs).
lab_init() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$LAB_PREFIX-[0-9]*-"); do
    pid=${ns#"$LAB_PREFIX"-}; pid=${pid%%-*}
    kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null
  done
  ip netns add "$(lab_ns sw)" || return 1
  ip -n "$(lab_ns sw)" link set lo up
  ip -n "$(lab_ns sw)" link add br0 type bridge || return 1
  ip -n "$(lab_ns sw)" link set br0 up
}

# lab_node K: namespace K, a veth to the switch, address 10.77.0.K/24, loopback up.
lab_node() {
  local k=$1 ns sw
  ns=$(lab_ns "$k"); sw=$(lab_ns sw)
  ip netns add "$ns" || return 1
  ip -n "$sw" link add "v$k" type veth peer name eth0 netns "$ns" || return 1
  ip -n "$sw" link set "v$k" master br0 up
  ip -n "$ns" addr add "$(lab_addr "$k")/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  LAB_NODES+=("$k")
}

# _lab_drop K ADDR...: in namespace K, drop everything to and from ADDR...
_lab_drop() {
  local k=$1; shift
  local set
  set=$(IFS=,; echo "$*")
  lab_exec "$k" nft -f - <<NFT
table inet chaos_cut {
  chain in {
    type filter hook input priority 0; policy accept;
    ip saddr { $set } drop
  }
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr { $set } drop
  }
}
NFT
}

lab_partition() {
  local a=($1) b=($2) k x addrs
  addrs=(); for x in "${b[@]}"; do addrs+=("$(lab_addr "$x")"); done
  for k in "${a[@]}"; do _lab_drop "$k" "${addrs[@]}" || return 1; done
  addrs=(); for x in "${a[@]}"; do addrs+=("$(lab_addr "$x")"); done
  for k in "${b[@]}"; do _lab_drop "$k" "${addrs[@]}" || return 1; done
}

lab_cut() { local k=$1; shift; local addrs=() x; for x in "$@"; do addrs+=("$(lab_addr "$x")"); done; _lab_drop "$k" "${addrs[@]}"; }

lab_degrade() {
  local loss=$1 delay=${2:-0} jitter=${3:-0} k
  for k in "${LAB_NODES[@]}"; do
    if lab_has_netem; then
      if [ "$delay" -gt 0 ]; then
        lab_exec "$k" tc qdisc add dev eth0 root netem loss "$loss%" delay "${delay}ms" "${jitter}ms" || return 1
      else
        lab_exec "$k" tc qdisc add dev eth0 root netem loss "$loss%" || return 1
      fi
    else
      # numgen counts in per mille so that fractional percentages work too
      local pm
      pm=$(awk -v l="$loss" 'BEGIN { printf "%d", l * 10 + 0.5 }')
      lab_exec "$k" nft -f - <<NFT || return 1
table inet chaos_loss {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "eth0" numgen random mod 1000 < $pm drop
  }
}
NFT
    fi
  done
}

lab_heal() {
  local k
  for k in "${LAB_NODES[@]}"; do
    lab_exec "$k" nft delete table inet chaos_cut 2>/dev/null
    lab_exec "$k" nft delete table inet chaos_loss 2>/dev/null
    lab_exec "$k" tc qdisc del dev eth0 root 2>/dev/null
  done
  return 0
}

# lab_cleanup: every namespace of this run (their veths go with them).
lab_cleanup() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$LAB_ID-"); do
    ip netns del "$ns" 2>/dev/null
  done
  LAB_NODES=()
}
