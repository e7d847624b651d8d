# Connection-tracking faults (field-faults.md "Stale conntrack entry after a NAT or uplink change").
# Dot-sourced by WgLab.psm1; every Add makes its symptom show at once, every Remove restores the healthy lab.

Register-LabFault -Name 'StaleConntrack' -Side 'client' -Symptom 'No handshake: the client (a gateway listening on UDP 51822) source-NATs its WireGuard flow to its uplink address, which was 198.51.100.3 and is now 198.51.100.2 (the address gone, the rule rewritten for the new one); the conntrack entry of the flow, made before the change, still rewrites the source to 198.51.100.3, so the initiations leave with the old address and the answers find nobody (conntrack -L shows dst=198.51.100.3 in the reply tuple). Every retry keeps the entry alive.' -Add {
    param($Lab, $Node)
    $c = $Lab.Client
    $ns = $c.Namespace
    $old = '198.51.100.3'
    # a gateway with a fixed port (as most are): the port is kept across session resets, so is the flow
    $port = 51822
    $Lab.FaultState['StaleConntrack'] = @{ Old = $old; Port = $port; ClientPort = $c.Config.ListenPort }
    $c.Config.ListenPort = $port
    Write-LabSideConfig $c
    $null = Invoke-LabNative -Namespace $ns -Command 'wg', 'set', $c.Interface, 'listen-port', "$port"
    # before the change: the uplink has the old address and the flow is source-NATed to it
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'add', "$old/25", 'dev', 'eth0'
    Invoke-LabNft $Lab client "table ip wgtfault_snat {`n chain postrouting {`n  type nat hook postrouting priority srcnat; policy accept;`n  oifname `"eth0`" udp sport $port snat to $old`n }`n}`n"
    $null = Invoke-LabNative -Namespace $ns -Command 'conntrack', '-D', '-p', 'udp', '--orig-port-src', "$port" -AllowFailure
    Reset-LabSession $Lab
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    do {
        $r = Invoke-LabNative -Namespace $ns -Command 'ping', '-n', '-q', '-c', '1', '-W', '1', $Lab.Server.TunnelAddress -AllowFailure -TimeoutSeconds 5
    } while ($r.ExitCode -ne 0 -and [DateTime]::UtcNow -lt $deadline)
    if ($r.ExitCode -ne 0) { throw 'StaleConntrack: the tunnel did not work through the source NAT before the change' }
    # the uplink change: the old address goes (and with it the neighbour entry upstream), the rule now names the
    # new address; the entry of the running flow is not touched by either
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'del', "$old/25", 'dev', 'eth0'
    $null = Invoke-LabNative -Command 'ip', '-n', $Lab.Namespaces.router, 'neigh', 'del', $old, 'dev', 'rt-client' -AllowFailure
    Invoke-LabNft $Lab client "flush chain ip wgtfault_snat postrouting`nadd rule ip wgtfault_snat postrouting oifname `"eth0`" udp sport $port snat to $($c.Underlay)`n"
    # both sides drop their sessions, so the client must handshake again through the stale entry (and cannot)
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    $c = $Lab.Client
    $ns = $c.Namespace
    $st = $Lab.FaultState['StaleConntrack']
    Invoke-LabNft $Lab client "delete table ip wgtfault_snat`n"
    # the entries keep their NAT binding without any rule: removed with the table
    $null = Invoke-LabNative -Namespace $ns -Command 'conntrack', '-D', '-p', 'udp', '--orig-port-src', "$($st.Port)" -AllowFailure
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'del', "$($st.Old)/25", 'dev', 'eth0' -AllowFailure
    $c.Config.ListenPort = $st.ClientPort
    Write-LabSideConfig $c
    Reset-LabSession $Lab
}
