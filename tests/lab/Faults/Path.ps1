# Path and firewall faults: the firewall in every direction (output, forward with a container engine's
# DOCKER-USER chain, ufw's routed policy, input for the tunnel itself), NAT on the wrong interface, a
# site-to-site gateway without forwarding, strict reverse-path filtering, rules of a PostUp hook gone from
# the live ruleset. Each Add makes its symptom show at once; each Remove
# restores the healthy lab. Everything created here lives inside the lab's own namespaces; names made here
# carry the prefix wgf plus the lab id.

function Invoke-LabIptables($Lab, [string] $Node, [string] $Tool, [string[]] $Arguments, [switch] $AllowFailure) {
    $r = Invoke-LabNative -Namespace $Lab.Namespaces[$Node] -Command (@($Tool, '-w', '5') + $Arguments) -AllowFailure
    if ($r.ExitCode -ne 0 -and -not $AllowFailure) { throw "'$Tool $($Arguments -join ' ')' in $Node failed: $($r.StdErr.Trim())" }
}

function Add-LabDockerForward($Lab, [string] $Tool) {
    # What a container engine leaves: FORWARD policy DROP, a DOCKER-USER chain jumped to first (empty but for
    # its RETURN), and accepts only for its own bridge.
    $s = $Lab.Server
    foreach ($a in @(
            @('-N', 'DOCKER-USER'), @('-A', 'DOCKER-USER', '-j', 'RETURN'),
            @('-N', 'DOCKER'), @('-N', 'DOCKER-ISOLATION-STAGE-1'), @('-A', 'DOCKER-ISOLATION-STAGE-1', '-j', 'RETURN'),
            @('-A', 'FORWARD', '-j', 'DOCKER-USER'), @('-A', 'FORWARD', '-j', 'DOCKER-ISOLATION-STAGE-1'),
            @('-A', 'FORWARD', '-o', 'docker0', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'),
            @('-A', 'FORWARD', '-o', 'docker0', '-j', 'DOCKER'),
            @('-A', 'FORWARD', '-i', 'docker0', '!', '-o', 'docker0', '-j', 'ACCEPT'),
            @('-P', 'FORWARD', 'DROP'))) {
        Invoke-LabIptables $Lab server $Tool $a
    }
    $null = $s
}

function Remove-LabDockerForward($Lab, [string] $Tool) {
    # Back to an empty filter table with ACCEPT policies, whatever a repair added in between.
    Invoke-LabIptables $Lab server $Tool @('-P', 'FORWARD', 'ACCEPT')
    Invoke-LabIptables $Lab server $Tool @('-F', 'FORWARD')
    foreach ($c in 'DOCKER-USER', 'DOCKER', 'DOCKER-ISOLATION-STAGE-1') {
        Invoke-LabIptables $Lab server $Tool @('-F', $c) -AllowFailure
        Invoke-LabIptables $Lab server $Tool @('-X', $c) -AllowFailure
    }
}

Register-LabFault -Name 'OutputDropsReplies' -Side 'server' -Symptom 'No handshake: the server''s nftables output chain drops UDP from its listen port 51820. Initiations arrive at the server (the input side is open), wireguard-go answers, and no response leaves the host: the counter of the output rule grows. Keys are right.' -Add {
    param($Lab, $Node)
    Invoke-LabNft $Lab server "table inet wgf_out {`n chain output {`n  type filter hook output priority 0; policy accept;`n  udp sport $($Lab.Server.ListenPort) counter drop`n }`n}`n"
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    Invoke-LabNft $Lab server "delete table inet wgf_out`n"
    Reset-LabSession $Lab
}

Register-LabFault -Name 'DockerForwardDrop' -Side 'server' -Symptom 'Handshake and 192.0.2.1 work, 192.0.2.130 does not: a container engine left FORWARD policy DROP with a DOCKER-USER chain (iptables, the flavour iptables is here). ip_forward is 1 and NAT is in place; the FORWARD policy counter grows with the tunnel''s packets.' -Add {
    param($Lab, $Node)
    $Lab.IptablesFlavour = Get-LabIptablesFlavour
    Add-LabDockerForward $Lab 'iptables'
} -Remove {
    param($Lab)
    Remove-LabDockerForward $Lab 'iptables'
}

Register-LabFault -Name 'DockerForwardDropLegacy' -Side 'server' -Symptom 'As DockerForwardDrop, with the chains in iptables-legacy (x_tables), beside the nftables ruleset.' -Add {
    param($Lab, $Node)
    Add-LabDockerForward $Lab 'iptables-legacy'
} -Remove {
    param($Lab)
    Remove-LabDockerForward $Lab 'iptables-legacy'
}

Register-LabFault -Name 'UfwRoutedDrop' -Side 'server' -Symptom 'ufw active on the server with its default routed policy deny (the UDP port allowed): ping from the client to 192.0.2.130 passes (ufw''s before.rules accept forwarded echo requests), a TCP connection to it does not. ufw status verbose says "deny (routed)".' -Add {
    param($Lab, $Node)
    # ufw's files are per namespace: ip netns exec binds /etc/netns/<ns>/ufw over /etc/ufw and
    # /etc/netns/<ns>/default over /etc/default, so the host's ufw is never touched.
    $etc = "/etc/netns/$($Lab.Namespaces.server)"
    $null = Invoke-LabNative -Command 'cp', '-a', '/etc/ufw', "$etc/ufw"
    $null = Invoke-LabNative -Command 'cp', '-a', '/etc/default', "$etc/default"
    $ns = $Lab.Namespaces.server
    $Lab.FaultState['UfwRoutedDrop'] = @{ Saved = (Invoke-LabNative -Namespace $ns -Command 'iptables-save') }
    $null = Invoke-LabNative -Namespace $ns -Command 'ufw', 'allow', "$($Lab.Server.ListenPort)/udp" -TimeoutSeconds 60
    $null = Invoke-LabNative -Namespace $ns -Command 'ufw', '--force', 'enable' -TimeoutSeconds 60
} -Remove {
    param($Lab)
    $ns = $Lab.Namespaces.server
    $null = Invoke-LabNative -Namespace $ns -Command 'ufw', '--force', 'disable' -TimeoutSeconds 60
    # ufw disable leaves its (empty) chains: restore the tables as they were before
    foreach ($t in 'filter', 'nat', 'mangle', 'raw') {
        $null = Invoke-LabNative -Namespace $ns -Command 'iptables', '-w', '5', '-t', $t, '-F' -AllowFailure
        $null = Invoke-LabNative -Namespace $ns -Command 'iptables', '-w', '5', '-t', $t, '-X' -AllowFailure
        $null = Invoke-LabNative -Namespace $ns -Command 'ip6tables', '-w', '5', '-t', $t, '-F' -AllowFailure
        $null = Invoke-LabNative -Namespace $ns -Command 'ip6tables', '-w', '5', '-t', $t, '-X' -AllowFailure
    }
    foreach ($c in 'INPUT', 'FORWARD', 'OUTPUT') {
        $null = Invoke-LabNative -Namespace $ns -Command 'iptables', '-w', '5', '-P', $c, 'ACCEPT' -AllowFailure
        $null = Invoke-LabNative -Namespace $ns -Command 'ip6tables', '-w', '5', '-P', $c, 'ACCEPT' -AllowFailure
    }
    $saved = $Lab.FaultState['UfwRoutedDrop'].Saved
    if ($saved -and $saved.Trim()) { $null = Invoke-LabNative -Namespace $ns -Command 'iptables-restore' -StandardInput $saved }
    $etc = "/etc/netns/$ns"
    foreach ($d in "$etc/ufw", "$etc/default") { Remove-Item -LiteralPath $d -Recurse -Force -ErrorAction SilentlyContinue }
}

Register-LabFault -Name 'TunnelInputBlocked' -Side 'server' -Symptom 'Forwarded traffic works (TCP to 192.0.2.130 passes), the server itself does not answer through the tunnel: its nftables input chain has policy drop, accepts the uplink and loopback, and nothing accepts the tunnel interface. Ping to 192.0.2.1 times out.' -Add {
    param($Lab, $Node)
    Invoke-LabNft $Lab server "table inet wgf_in {`n chain input {`n  type filter hook input priority 0; policy drop;`n  ct state established,related accept`n  iif `"lo`" accept`n  iifname `"ens3`" accept`n }`n}`n"
} -Remove {
    param($Lab)
    Invoke-LabNft $Lab server "delete table inet wgf_in`n"
}

Register-LabFault -Name 'NatWrongInterface' -Side 'server' -Symptom 'Handshake and 192.0.2.1 work, 192.0.2.130 does not: the server''s config adds its NAT in PostUp with -o eth0 (iptables -t nat -A POSTROUTING -s 192.0.2.0/26 -o eth0 -j MASQUERADE, as wg-quick up ran it), which is not the uplink (the default route leaves by ens3; eth0 does not exist there); the lab''s own masquerade is gone. The rule''s counter stays 0.' -Add {
    param($Lab, $Node)
    $s = $Lab.Server
    $rule = "POSTROUTING -s $($Lab.TunnelSubnet) -o eth0 -j MASQUERADE"
    $s.Config | Add-Member -NotePropertyName PostUp -NotePropertyValue @("iptables -t nat -A $rule") -Force
    $s.Config | Add-Member -NotePropertyName PostDown -NotePropertyValue @("iptables -t nat -D $rule") -Force
    Write-LabSideConfig $s
    Invoke-LabNft $Lab server "flush chain ip wgtlab_nat postrouting`n"
    Invoke-LabIptables $Lab server 'iptables' @('-t', 'nat', '-A', 'POSTROUTING', '-s', $Lab.TunnelSubnet, '-o', 'eth0', '-j', 'MASQUERADE')
} -Remove {
    param($Lab)
    $s = $Lab.Server
    # the rule as the fault added it, or as a repair rewrote it
    foreach ($o in 'eth0', 'ens3') {
        Invoke-LabIptables $Lab server 'iptables' @('-t', 'nat', '-D', 'POSTROUTING', '-s', $Lab.TunnelSubnet, '-o', $o, '-j', 'MASQUERADE') -AllowFailure
    }
    $s.Config.PSObject.Properties.Remove('PostUp')
    $s.Config.PSObject.Properties.Remove('PostDown')
    Write-LabSideConfig $s
    Invoke-LabNft $Lab server "flush chain ip wgtlab_nat postrouting`nadd rule ip wgtlab_nat postrouting ip saddr $($Lab.TunnelSubnet) oifname `"ens3`" masquerade`n"
}

Register-LabFault -Name 'GatewayForwardingOff' -Side 'server' -Symptom 'A site-to-site pair: both sides name an endpoint for the other (the client listens on 51821), so the server does not look like a hub. Its forwarding is off (net.ipv4.ip_forward=0): handshake and 192.0.2.1 work, 192.0.2.130 (the network behind the gateway) does not.' -Add {
    param($Lab, $Node)
    $c = $Lab.Client; $s = $Lab.Server
    $Lab.FaultState['GatewayForwardingOff'] = @{ ClientPort = $c.Config.ListenPort; ServerEndpoint = $s.Config.Peers[0].Endpoint }
    $c.Config.ListenPort = 51821
    $s.Config.Peers[0].Endpoint = "$($c.Underlay):51821"
    Write-LabSideConfig $c
    Write-LabSideConfig $s
    $null = Invoke-LabNative -Namespace $c.Namespace -Command 'wg', 'set', $c.Interface, 'listen-port', '51821'
    Reset-LabSession $Lab
    $null = Invoke-LabNative -Namespace $s.Namespace -Command 'sysctl', '-qw', 'net.ipv4.ip_forward=0'
} -Remove {
    param($Lab)
    $c = $Lab.Client; $s = $Lab.Server
    $st = $Lab.FaultState['GatewayForwardingOff']
    $c.Config.ListenPort = $st.ClientPort
    $s.Config.Peers[0].Endpoint = $st.ServerEndpoint
    Write-LabSideConfig $c
    Write-LabSideConfig $s
    Reset-LabSession $Lab
    $null = Invoke-LabNative -Namespace $s.Namespace -Command 'sysctl', '-qw', 'net.ipv4.ip_forward=1'
}

function Add-LabAsymmetricReturn($Lab) {
    # The route back to the client's underlay leaves by another link (wgf<id>, one end of a veth pair inside the server: an asymmetric path),
    # while WireGuard's own packets are marked and routed out of the uplink by policy routing (as fwmark
    # setups do): the tunnel would work, but a strict reverse-path check on the uplink fails.
    $ns = $Lab.Namespaces.server; $dev = "wgf$($Lab.Id)"
    $port = $Lab.Server.ListenPort
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'link', 'add', $dev, 'type', 'veth', 'peer', 'name', "${dev}p"
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'link', 'set', $dev, 'up'
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'link', 'set', "${dev}p", 'up'
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'route', 'add', '198.51.100.0/25', 'dev', $dev
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'route', 'add', 'default', 'via', $Lab.Router.ServerSide, 'dev', 'ens3', 'table', '51820'
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'rule', 'add', 'fwmark', '0x5157', 'lookup', '51820', 'priority', '1000'
    Invoke-LabNft $Lab server "table ip wgf_mark {`n chain output {`n  type route hook output priority mangle; policy accept;`n  udp sport $port meta mark set 0x5157`n }`n}`n"
    $dev
}

function Remove-LabAsymmetricReturn($Lab) {
    $ns = $Lab.Namespaces.server
    Invoke-LabNft $Lab server "delete table ip wgf_mark`n"
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'rule', 'del', 'fwmark', '0x5157', 'lookup', '51820', 'priority', '1000'
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'route', 'flush', 'table', '51820'
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'link', 'del', "wgf$($Lab.Id)"
}

Register-LabFault -Name 'ReversePathFilter' -Side 'server' -Symptom 'No handshake: the route back to the client''s underlay leaves by another link, and net.ipv4.conf.all.rp_filter=1 (strict) on the server drops the client''s initiations as they arrive on ens3 (TcpExtIPReversePathFilter grows). The firewall allows the port; keys are right.' -Add {
    param($Lab, $Node)
    $ns = $Lab.Namespaces.server
    $Lab.FaultState['ReversePathFilter'] = @{
        All  = (Invoke-LabNative -Namespace $ns -Command 'sysctl', '-n', 'net.ipv4.conf.all.rp_filter').Trim()
        Ens3 = (Invoke-LabNative -Namespace $ns -Command 'sysctl', '-n', 'net.ipv4.conf.ens3.rp_filter').Trim()
    }
    $null = Add-LabAsymmetricReturn $Lab
    $null = Invoke-LabNative -Namespace $ns -Command 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1'
    $null = Invoke-LabNative -Namespace $ns -Command 'sysctl', '-qw', 'net.ipv4.conf.ens3.rp_filter=1'
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    $ns = $Lab.Namespaces.server
    $st = $Lab.FaultState['ReversePathFilter']
    $null = Invoke-LabNative -Namespace $ns -Command 'sysctl', '-qw', "net.ipv4.conf.all.rp_filter=$($st.All)"
    $null = Invoke-LabNative -Namespace $ns -Command 'sysctl', '-qw', "net.ipv4.conf.ens3.rp_filter=$($st.Ens3)"
    Remove-LabAsymmetricReturn $Lab
    Reset-LabSession $Lab
}

Register-LabFault -Name 'ReversePathFilterNft' -Side 'server' -Symptom 'As ReversePathFilter, with rp_filter off and an nftables prerouting rule "fib saddr . iif oif missing drop" (the strict reverse-path check firewalld sets) dropping the initiations.' -Add {
    param($Lab, $Node)
    $null = Add-LabAsymmetricReturn $Lab
    Invoke-LabNft $Lab server "table inet wgf_rpf {`n chain prerouting {`n  type filter hook prerouting priority raw; policy accept;`n  fib saddr . iif oif missing counter drop`n }`n}`n"
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    Invoke-LabNft $Lab server "delete table inet wgf_rpf`n"
    Remove-LabAsymmetricReturn $Lab
    Reset-LabSession $Lab
}

Register-LabFault -Name 'HookRulesMissing' -Side 'server' -Symptom 'The server''s config adds its NAT in PostUp (iptables -t nat -A POSTROUTING -s 192.0.2.0/26 -o ens3 -j MASQUERADE) and that rule is not in the live ruleset (a firewall reload removed it; the lab''s own masquerade is gone too): handshake and 192.0.2.1 work, 192.0.2.130 does not.' -Add {
    param($Lab, $Node)
    $s = $Lab.Server
    $rule = "POSTROUTING -s $($Lab.TunnelSubnet) -o ens3 -j MASQUERADE"
    $s.Config | Add-Member -NotePropertyName PostUp -NotePropertyValue @("iptables -t nat -A $rule") -Force
    $s.Config | Add-Member -NotePropertyName PostDown -NotePropertyValue @("iptables -t nat -D $rule") -Force
    Write-LabSideConfig $s
    Invoke-LabNft $Lab server "flush chain ip wgtlab_nat postrouting`n"
} -Remove {
    param($Lab)
    $s = $Lab.Server
    $null = Invoke-LabNative -Namespace $s.Namespace -Command 'iptables', '-w', '5', '-t', 'nat', '-D', 'POSTROUTING', '-s', $Lab.TunnelSubnet, '-o', 'ens3', '-j', 'MASQUERADE' -AllowFailure
    $s.Config.PSObject.Properties.Remove('PostUp')
    $s.Config.PSObject.Properties.Remove('PostDown')
    Write-LabSideConfig $s
    Invoke-LabNft $Lab server "flush chain ip wgtlab_nat postrouting`nadd rule ip wgtlab_nat postrouting ip saddr $($Lab.TunnelSubnet) oifname `"ens3`" masquerade`n"
}
