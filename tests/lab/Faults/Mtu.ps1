# MTU faults inside the tunnel's path: a routing server whose forwarded TCP carries an MSS larger than the
# link beyond it can take, with the "fragmentation needed" that would tell the sender dropped on the way.
# Everything created here lives inside the lab's own namespaces; link names made here carry the prefix wga
# plus a random part. Each Add makes its symptom show at once; each Remove restores the healthy lab.

function New-LabRandomName([string] $Prefix) {
    $Prefix + (-join ((1..6) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) }))
}

Register-LabFault -Name 'MssClampMissing' -Side 'server' -Symptom 'The server reaches 192.0.2.130 over a second, PPPoE-like link of MTU 1400 (a veth wga<random> to the router, both ends 1400; the router drops its own "fragmentation needed"), and nothing on the server clamps the TCP MSS. Ping and small TCP through the tunnel work; a full-size transfer from 192.0.2.130 to the client stalls: the client''s SYNs carry MSS 1380 (its tunnel MTU 1420 - 40), so 192.0.2.130 sends 1420-byte packets that the 1400 link cannot take. The outer path (1500) is fine. A loop in the client opens a TCP connection to 192.0.2.130 every 0.3 s (a server with users), so SYNs cross the tunnel while the module looks.' -Add {
    param($Lab, $Node)
    $s = $Lab.Server; $nsS = $Lab.Namespaces.server; $nsR = $Lab.Namespaces.router; $nsC = $Lab.Namespaces.client
    $link = New-LabRandomName 'wga'
    # 203.0.113.128/30 is not used by the lab: server .129, router .130
    $null = Invoke-LabNative -Command 'ip', '-n', $nsR, 'link', 'add', "${link}r", 'mtu', '1400', 'type', 'veth', 'peer', 'name', $link, 'mtu', '1400', 'netns', $nsS
    $null = Invoke-LabNative -Command 'ip', '-n', $nsR, 'addr', 'add', '203.0.113.130/30', 'dev', "${link}r"
    $null = Invoke-LabNative -Command 'ip', '-n', $nsR, 'link', 'set', "${link}r", 'up'
    $null = Invoke-LabNative -Command 'ip', '-n', $nsS, 'addr', 'add', '203.0.113.129/30', 'dev', $link
    $null = Invoke-LabNative -Command 'ip', '-n', $nsS, 'link', 'set', $link, 'up'
    # the host beyond is reached over the small link; the router sends the tunnel's addresses back over it
    $null = Invoke-LabNative -Command 'ip', '-n', $nsS, 'route', 'add', "$($Lab.InternetHost)/32", 'via', '203.0.113.130', 'dev', $link
    $null = Invoke-LabNative -Command 'ip', '-n', $nsR, 'route', 'add', $Lab.TunnelSubnet, 'via', '203.0.113.129', 'dev', "${link}r"
    Invoke-LabNft $Lab router "table inet wga_mss {`n chain output {`n  type filter hook output priority 0; policy accept;`n  icmp type destination-unreachable icmp code frag-needed counter drop`n }`n}`n"
    # users of the server: a TCP connection from the client to 192.0.2.130 every 0.3 s (refused there, the SYN is
    # what counts), bounded in time and ending by itself when the lab's namespace is gone
    $cmd = "ip netns exec '$nsC' timeout 900 sh -c 'while [ -e /run/netns/$nsC ]; do socat -T1 /dev/null TCP:$($Lab.InternetHost):9,connect-timeout=1 2>/dev/null; sleep 0.3; done' >/dev/null 2>&1 </dev/null & echo `$!"
    $loop = [int](Invoke-LabNative -Command 'sh', '-c', $cmd).Trim()
    $Lab.FaultState['MssClampMissing'] = @{ Link = $link; Loop = $loop }
} -Remove {
    param($Lab)
    $st = $Lab.FaultState['MssClampMissing']
    $nsS = $Lab.Namespaces.server; $nsR = $Lab.Namespaces.router
    if ($st.Loop) {
        # the loop is `timeout` (the PID started above): TERM makes it end its sh child too
        $info = Get-LabProcessInfo $st.Loop
        if ($info -and $info.Comm -eq 'timeout') { $null = Invoke-LabNative -Command 'kill', '-TERM', "$($st.Loop)" -AllowFailure }
    }
    $null = Invoke-LabNative -Command 'ip', '-n', $nsR, 'route', 'del', $Lab.TunnelSubnet, 'via', '203.0.113.129' -AllowFailure
    if ($st.Link) { $null = Invoke-LabNative -Command 'ip', '-n', $nsS, 'link', 'del', $st.Link -AllowFailure }
    $null = Invoke-LabNative -Namespace $nsR -Command 'nft', 'delete', 'table', 'inet', 'wga_mss' -AllowFailure
    # whatever a repair added on the server: the clamp rule in mangle FORWARD or the module's own nft table
    $null = Invoke-LabNative -Namespace $nsS -Command 'iptables', '-w', '5', '-t', 'mangle', '-F', 'FORWARD' -AllowFailure
    $null = Invoke-LabNative -Namespace $nsS -Command 'nft', 'delete', 'table', 'inet', 'wgtroubleshoot_mss' -AllowFailure
}
