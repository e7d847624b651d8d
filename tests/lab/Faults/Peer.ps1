# Peer, key and endpoint faults (field-faults.md "Routing and addressing" and "Keys and time").
# Dot-sourced by WgLab.psm1; every Add makes its symptom show at once, every Remove restores the healthy lab.

function New-LabPeerFaultName {
    # A name for something this file creates outside New-WgLab: wgk + six random hex digits.
    'wgk' + (-join ((1..6) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) }))
}

function Start-LabBackground([string] $Namespace, [string[]] $Command) {
    # Starts a program in a namespace in the background; returns its own PID (ip netns exec execs it).
    $quoted = ($Command | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }) -join ' '
    $out = Invoke-LabNative -Command 'sh', '-c', "ip netns exec '$Namespace' $quoted >/dev/null 2>&1 </dev/null & echo `$!"
    [int]$out.Trim()
}

function Wait-LabSession($Lab) {
    # A session before the fault (bounded): a ping from the client through the tunnel.
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    do {
        $r = Invoke-LabNative -Namespace $Lab.Client.Namespace -Command 'ping', '-n', '-q', '-c', '1', '-W', '1', $Lab.Server.TunnelAddress -AllowFailure -TimeoutSeconds 5
        if ($r.ExitCode -eq 0) { return }
    } while ([DateTime]::UtcNow -lt $deadline)
}

Register-LabFault -Name 'EndpointRoutedIntoTunnel' -Side 'client' -Symptom 'No handshake: the client has a host route to the server''s endpoint 203.0.113.2 via its own WireGuard interface and no fwmark, so the encrypted packets loop into the tunnel; nothing leaves eth0 (ip route get 203.0.113.2 answers dev wgc<id>).' -Add {
    param($Lab, $Node)
    $c = $Lab.Client
    $null = Invoke-LabNative -Command 'ip', '-n', $c.Namespace, 'route', 'replace', "$($Lab.Server.Underlay)/32", 'dev', $c.Interface
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    $c = $Lab.Client
    $null = Invoke-LabNative -Command 'ip', '-n', $c.Namespace, 'route', 'del', "$($Lab.Server.Underlay)/32", 'dev', $c.Interface
    Reset-LabSession $Lab
}

Register-LabFault -Name 'EndpointBlackholed' -Side 'client' -Symptom 'No handshake: the client has a blackhole route for the server''s endpoint 203.0.113.2 (as a ban tool leaves one), while its IPv4 default route is fine: ip route get 203.0.113.2 fails with "Invalid argument" and nothing leaves eth0.' -Add {
    param($Lab, $Node)
    $null = Invoke-LabNative -Command 'ip', '-n', $Lab.Client.Namespace, 'route', 'replace', 'blackhole', "$($Lab.Server.Underlay)/32"
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    $null = Invoke-LabNative -Command 'ip', '-n', $Lab.Client.Namespace, 'route', 'del', 'blackhole', "$($Lab.Server.Underlay)/32"
    Reset-LabSession $Lab
}

Register-LabFault -Name 'EndpointAaaaOnly' -Side 'client' -Symptom 'No handshake: the client''s endpoint name vpn.example.test has only an AAAA record (2001:db8:200::2 in its hosts file), wg resolved it to [2001:db8:200::2]:51820, and the client has no IPv6 route there (ip -6 route get fails).' -Add {
    param($Lab, $Node)
    $c = $Lab.Client; $s = $Lab.Server
    $p = $c.Config.Peers[0]
    $Lab.FaultState['EndpointAaaaOnly'] = @{ Endpoint = $p.Endpoint; Hosts = $c.HostsAddress }
    $p.Endpoint = "$($Lab.EndpointHost):$($s.ListenPort)"
    Write-LabSideConfig $c
    Write-LabHosts $Lab '2001:db8:200::2'
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    $st = $Lab.FaultState['EndpointAaaaOnly']
    $Lab.Client.Config.Peers[0].Endpoint = $st.Endpoint
    Write-LabSideConfig $Lab.Client
    Write-LabHosts $Lab $st.Hosts
    Reset-LabSession $Lab
}

Register-LabFault -Name 'DdnsMovedFreshHandshake' -Side 'client' -Symptom 'Nothing passes although the latest handshake is seconds old: the server moved to 203.0.113.3 and vpn.example.test says so, but the client keeps its live session and endpoint 203.0.113.2 (the client''s session is kept, so its handshake stays younger than 180 s for a while; the server restarted at the new address without sessions, so it never sends first).' -Add {
    param($Lab, $Node)
    $c = $Lab.Client; $s = $Lab.Server
    Wait-LabSession $Lab
    $p = $c.Config.Peers[0]
    $Lab.FaultState['DdnsMovedFreshHandshake'] = @{ Endpoint = $p.Endpoint; Hosts = $c.HostsAddress }
    $p.Endpoint = "$($Lab.EndpointHost):$($s.ListenPort)"
    Write-LabSideConfig $c      # the file names the host; the live endpoint stays the old address
    $ns = $s.Namespace
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'del', "$($s.Underlay)/25", 'dev', 'ens3'
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'add', "$($s.MovedUnderlay)/25", 'dev', 'ens3'
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'route', 'replace', 'default', 'via', $Lab.Router.ServerSide
    Write-LabHosts $Lab $s.MovedUnderlay
    # the server came back at its new address without its sessions (a restart, a new uplink lease): it knows no
    # endpoint for the client and never sends first, so the client cannot roam to the new address
    Sync-LabSide -Lab $Lab -Node server
} -Remove {
    param($Lab)
    $c = $Lab.Client; $s = $Lab.Server
    $st = $Lab.FaultState['DdnsMovedFreshHandshake']
    $ns = $s.Namespace
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'del', "$($s.MovedUnderlay)/25", 'dev', 'ens3'
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'add', "$($s.Underlay)/25", 'dev', 'ens3'
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'route', 'replace', 'default', 'via', $Lab.Router.ServerSide
    Write-LabHosts $Lab $st.Hosts
    $c.Config.Peers[0].Endpoint = $st.Endpoint
    Write-LabSideConfig $c
    Reset-LabSession $Lab
}

Register-LabFault -Name 'AllowedIpsConflict' -Side 'server' -Symptom 'The client handshakes but passes nothing over IPv4: a second [Peer] on the server, configured after the client, also claims 192.0.2.2/32, so the live allowed-ips of the client''s peer lost it and the server sends the replies to the other peer.' -Add {
    param($Lab, $Node)
    $s = $Lab.Server
    $other = New-LabKeyPair
    $Lab.FaultState['AllowedIpsConflict'] = @{ Peers = @($s.Config.Peers) }
    $s.Config.Peers = @($s.Config.Peers) + [pscustomobject]@{ Name = 'lab-laptop'; PublicKey = $other.PublicKey; PresharedKey = $null; Endpoint = $null; AllowedIPs = @('192.0.2.2/32'); PersistentKeepalive = 0 }
    Write-LabSideConfig $s
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    $s = $Lab.Server
    $s.Config.Peers = @($Lab.FaultState['AllowedIpsConflict'].Peers)
    Write-LabSideConfig $s
    Reset-LabSession $Lab
}

Register-LabFault -Name 'ListenPortInUse' -Side 'server' -Symptom 'No handshake: another program (socat) owns UDP 51820 on the server, and wireguard-go listens on 51830 instead; the client sends to 51820 and reaches the other program (ss -ulpn ''sport = :51820'' names socat).' -Add {
    param($Lab, $Node)
    $s = $Lab.Server
    $null = Invoke-LabNative -Namespace $s.Namespace -Command 'wg', 'set', $s.Interface, 'listen-port', '51830'
    $procId = Start-LabBackground $s.Namespace @('socat', '-u', "UDP4-RECV:$($s.ListenPort)", 'OPEN:/dev/null')
    $Lab.FaultState['ListenPortInUse'] = @{ Pid = $procId }
    $deadline = [DateTime]::UtcNow.AddSeconds(3)
    do {
        $ss = Invoke-LabNative -Namespace $s.Namespace -Command 'ss', '-Hulpn', "sport = :$($s.ListenPort)" -AllowFailure
        if ($ss.StdOut -match 'socat') { break }
        Start-Sleep -Milliseconds 50
    } while ([DateTime]::UtcNow -lt $deadline)
    # the server's own side of the session is dropped too, so the client must handshake again (and cannot)
    $text = [System.IO.File]::ReadAllText($s.HostConfigPath) | ConvertTo-WgLabSetconf
    $text = $text -replace '(?m)^\s*ListenPort\s*=.*$', 'ListenPort = 51830'
    $null = Invoke-LabNative -Namespace $s.Namespace -Command 'wg', 'setconf', $s.Interface, '/dev/stdin' -StandardInput $text
    Sync-LabSide -Lab $Lab -Node client
} -Remove {
    param($Lab)
    $s = $Lab.Server
    Stop-LabProcess -ProcessId $Lab.FaultState['ListenPortInUse'].Pid -ExpectedComm 'socat'
    Reset-LabSession $Lab
}

Register-LabFault -Name 'SharedKeyPair' -Side 'server' -Symptom 'A second device with the client''s key pair (a wireguard-go interface wgk<random> in the client namespace, its own port, keepalive 1 s) talks to the server as well; the client sends a keepalive every second too, half a second apart: the server takes the endpoint of every packet, so its endpoint for the client''s public key flips between the two ports several times a second.' -Add {
    param($Lab, $Node)
    $c = $Lab.Client; $s = $Lab.Server
    $name = New-LabPeerFaultName
    $procId = Start-LabBackground $c.Namespace @('wireguard-go', '-f', $name)
    $Lab.FaultState['SharedKeyPair'] = @{ Name = $name; Pid = $procId }
    $sock = "/var/run/wireguard/$name.sock"
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while (-not (Test-Path $sock) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
    if (-not (Test-Path $sock)) { throw "wireguard-go $name did not start" }
    # the twin: same private key, no routes (it only keeps its session alive), keepalive 1 s
    $conf = "[Interface]`nPrivateKey = $($c.PrivateKey)`n`n[Peer]`nPublicKey = $($s.PublicKey)`nPresharedKey = $($Lab.PresharedKey)`nEndpoint = $($s.Underlay):$($s.ListenPort)`nAllowedIPs = 192.0.2.1/32`nPersistentKeepalive = 1`n"
    $null = Invoke-LabNative -Namespace $c.Namespace -Command 'wg', 'setconf', $name, '/dev/stdin' -StandardInput $conf
    # the client: keepalive 1 s from now (turned off and on, wireguard-go sends one at once and then one a second,
    # instead of waiting out the 25 s timer it had armed)
    $null = Invoke-LabNative -Namespace $c.Namespace -Command 'wg', 'set', $c.Interface, 'peer', $s.PublicKey, 'persistent-keepalive', 'off'
    $null = Invoke-LabNative -Namespace $c.Namespace -Command 'wg', 'set', $c.Interface, 'peer', $s.PublicKey, 'persistent-keepalive', '1'
    # the twin comes up half a keepalive later, so the two trains of keepalives take turns half a second apart
    Start-Sleep -Milliseconds 500
    $null = Invoke-LabNative -Command 'ip', '-n', $c.Namespace, 'link', 'set', $name, 'up'
    $deadline = [DateTime]::UtcNow.AddSeconds(6)
    do {
        Start-Sleep -Milliseconds 100
        $hs = (Invoke-LabNative -Namespace $c.Namespace -Command 'wg', 'show', $name, 'latest-handshakes' -AllowFailure).StdOut
    } while ($hs -notmatch '\t[1-9]\d*\s*$' -and [DateTime]::UtcNow -lt $deadline)
    if ($hs -notmatch '\t[1-9]\d*\s*$') { throw "the second device $name did not complete a handshake" }
    # The twin's handshake can leave the client's session behind (a second handshake of the twin rotates it out of
    # the server's keypairs, and the client's keepalives then no longer decrypt). The client starts a session of its
    # own again, as a device that comes back does: its peer is set anew (same key, preshared key, endpoint, allowed
    # IPs, keepalive 1 s), so it handshakes at once, and the server holds both devices' sessions (current and previous).
    $allowed = ((Invoke-LabNative -Namespace $c.Namespace -Command 'wg', 'show', $c.Interface, 'allowed-ips') -split "`n" |
        Where-Object { $_ -like "$($s.PublicKey)*" } | Select-Object -First 1) -replace '^\S+\s+', '' -replace '\s+', ','
    $since = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    $null = Invoke-LabNative -Namespace $c.Namespace -Command 'wg', 'set', $c.Interface, 'peer', $s.PublicKey, 'remove'
    $null = Invoke-LabNative -Namespace $c.Namespace -Command 'wg', 'set', $c.Interface, 'peer', $s.PublicKey, 'preshared-key', '/dev/stdin',
        'endpoint', "$($s.Underlay):$($s.ListenPort)", 'allowed-ips', $allowed.Trim(','), 'persistent-keepalive', '1' -StandardInput $Lab.PresharedKey
    $deadline = [DateTime]::UtcNow.AddSeconds(8)
    do {
        Start-Sleep -Milliseconds 100
        $t = ((Invoke-LabNative -Namespace $c.Namespace -Command 'wg', 'show', $c.Interface, 'latest-handshakes' -AllowFailure).StdOut -split '\s+')[1]
    } while (-not ($t -as [long] -ge $since) -and [DateTime]::UtcNow -lt $deadline)
    if (-not ($t -as [long] -ge $since)) { throw "the client did not handshake again beside the second device $name" }
} -Remove {
    param($Lab)
    $st = $Lab.FaultState['SharedKeyPair']
    foreach ($p in Stop-LabWireGuardGo ([pscustomobject]@{ Pid = $st.Pid; Interface = $st.Name })) { Write-Warning "SharedKeyPair: $p" }
    Reset-LabSession $Lab
}

Register-LabFault -Name 'PresharedKeyMismatch' -Side 'client' -Symptom 'No session: the server has another preshared key for the client. The server answers each initiation (148 bytes out, 92 back on the client''s uplink), the client never accepts the answer.' -Add {
    param($Lab, $Node)
    $s = $Lab.Server
    $s.Config.Peers[0].PresharedKey = (Invoke-LabNative -Command 'wg', 'genpsk').Trim()
    Write-LabSideConfig $s
    Reset-LabSession $Lab
} -Remove {
    param($Lab)
    $s = $Lab.Server
    $s.Config.Peers[0].PresharedKey = $Lab.PresharedKey
    Write-LabSideConfig $s
    Reset-LabSession $Lab
}

Register-LabFault -Name 'ResolverMissing' -Side 'client' -Symptom 'The client''s configuration has DNS = 192.0.2.1 and the host has no resolvconf: `wg-quick up` of that configuration exits 127 and removes the interface (the running lab tunnel itself still works; it was not brought up by wg-quick).' -Add {
    param($Lab, $Node)
    $c = $Lab.Client
    $text = (ConvertTo-LabConfigText $c) -replace '(?m)^(Address = .*)$', "`$1`nDNS = 192.0.2.1"
    Write-LabSecretFile -Path $c.HostConfigPath -Text $text
} -Remove {
    param($Lab)
    Write-LabSideConfig $Lab.Client
}
