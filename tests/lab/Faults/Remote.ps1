# Faults that need both ends in view (Invoke-WgDiagnosis -PeerSession): made on the router between them.

Register-LabFault -Name 'NatNoKeepalive' -Side 'client' -Symptom 'The router masquerades the client (the server sees 203.0.113.1:<port> as its endpoint) and forgets UDP mappings after 32 s; the client has no PersistentKeepalive (live and config). Once the client is idle longer than that, the server cannot reach it: its packets to the old mapping end at the router.' -Add {
    param($Lab, $Node)
    $r = $Lab.Namespaces.router
    Invoke-LabNft $Lab router "table ip wgtfault_nat {`n chain postrouting {`n  type nat hook postrouting priority srcnat; policy accept;`n  iifname `"rt-client`" oifname `"rt-server`" masquerade`n }`n}`n"
    $Lab.FaultState['NatNoKeepalive'] = @{
        Udp       = (Invoke-LabNative -Namespace $r -Command 'sysctl', '-n', 'net.netfilter.nf_conntrack_udp_timeout').Trim()
        UdpStream = (Invoke-LabNative -Namespace $r -Command 'sysctl', '-n', 'net.netfilter.nf_conntrack_udp_timeout_stream').Trim()
    }
    $null = Invoke-LabNative -Namespace $r -Command 'sysctl', '-qw', 'net.netfilter.nf_conntrack_udp_timeout=32'
    $null = Invoke-LabNative -Namespace $r -Command 'sysctl', '-qw', 'net.netfilter.nf_conntrack_udp_timeout_stream=32'
    $Lab.Client.Config.Peers[0].PersistentKeepalive = 0
    Write-LabSideConfig $Lab.Client
    $null = Invoke-LabNative -Namespace $r -Command 'conntrack', '-F' -AllowFailure
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    $r = $Lab.Namespaces.router
    Invoke-LabNft $Lab router "delete table ip wgtfault_nat`n"
    $s = $Lab.FaultState['NatNoKeepalive']
    $null = Invoke-LabNative -Namespace $r -Command 'sysctl', '-qw', "net.netfilter.nf_conntrack_udp_timeout=$($s.Udp)"
    $null = Invoke-LabNative -Namespace $r -Command 'sysctl', '-qw', "net.netfilter.nf_conntrack_udp_timeout_stream=$($s.UdpStream)"
    $Lab.Client.Config.Peers[0].PersistentKeepalive = $Lab.Client.Keepalive
    Write-LabSideConfig $Lab.Client
    $null = Invoke-LabNative -Namespace $r -Command 'conntrack', '-F' -AllowFailure
    Reset-LabSession $Lab
}

Register-LabFault -Name 'UpstreamDrop' -Side 'router' -Symptom 'The router (an upstream filter: a cloud security group, an ISP) drops UDP to the server''s listen port: the client''s initiations leave its uplink and never arrive at the server''s. No handshake; nothing on either host''s own firewall.' -Add {
    param($Lab, $Node)
    Invoke-LabNft $Lab router "table inet wgtfault_upstream {`n chain forward {`n  type filter hook forward priority -10; policy accept;`n  iifname `"rt-client`" udp dport $($Lab.Server.ListenPort) drop`n }`n}`n"
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    Invoke-LabNft $Lab router "delete table inet wgtfault_upstream`n"
    Reset-LabSession $Lab
}

Register-LabFault -Name 'ReturnPathDrop' -Side 'router' -Symptom 'The router drops UDP from the server''s listen port towards the client: initiations arrive at the server, its responses leave the server''s uplink and never arrive back at the client. No handshake.' -Add {
    param($Lab, $Node)
    Invoke-LabNft $Lab router "table inet wgtfault_return {`n chain forward {`n  type filter hook forward priority -10; policy accept;`n  iifname `"rt-server`" oifname `"rt-client`" udp sport $($Lab.Server.ListenPort) drop`n }`n}`n"
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    Invoke-LabNft $Lab router "delete table inet wgtfault_return`n"
    Reset-LabSession $Lab
}
