# The lab itself, checked with the raw tools (ip, wg, ping, nft, iptables): a healthy lab works end to
# end, every fault produces its symptom and goes away again, and teardown leaves nothing behind.
# Tagged Lab: needs root, wireguard-go and the network tools; skipped cleanly elsewhere.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
    $script:LabSkipReason = Test-WgLabPrerequisite -Reason
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force

    function Get-LinkState($Lab, $Node, $Interface) {
        $j = Invoke-WgLabCommand -Lab $Lab -Node $Node -Command ip, '-j', 'link', 'show', 'dev', $Interface | ConvertFrom-Json
        # operstate is UNKNOWN for an up tun device; the UP flag is what `ip link set up/down` changes
        if ($j[0].flags -contains 'UP') { 'Up' } else { 'Down' }
    }
    function Get-WgField($Lab, $Node, [string] $Field) {
        $side = if ($Node -eq 'client') { $Lab.Client } else { $Lab.Server }
        Invoke-WgLabCommand -Lab $Lab -Node $Node -Command wg, show, $side.Interface, $Field
    }
    function Assert-Healthy($Lab) {
        Wait-WgLabHandshake -Lab $Lab -TimeoutSeconds 15 | Should -BeTrue -Because 'the lab is healthy again'
        Test-WgLabPing -Lab $Lab -To $Lab.Server.TunnelAddress -Count 2 | Should -BeTrue
        Test-WgLabPing -Lab $Lab -To $Lab.InternetHost | Should -BeTrue
    }
}

Describe 'WgLab helpers' {
    It 'strips a wg-quick configuration to the keys wg setconf accepts' {
        $text = @"
[Interface]
Address = 192.0.2.2/26
PrivateKey = aGVsbG8=   # trailing comment
MTU = 1400
DNS = 192.0.2.1
PostUp = iptables -A FORWARD -i %i -j ACCEPT # kept raw by wg-quick, not by strip
ListenPort = 51820

# peer name
[Peer]
PublicKey = cHVi
Endpoint = vpn.example.test:51820
AllowedIPs = 192.0.2.0/26
PersistentKeepalive = 25
"@
        $out = ConvertTo-WgLabSetconf -Text $text
        $lines = $out -split "`r?`n" | Where-Object { $_ }
        $lines | Should -Be @('[Interface]', 'PrivateKey = aGVsbG8=', 'ListenPort = 51820', '[Peer]', 'PublicKey = cHVi',
            'Endpoint = vpn.example.test:51820', 'AllowedIPs = 192.0.2.0/26', 'PersistentKeepalive = 25')
    }

    It 'documents a side and a symptom for every fault' {
        $faults = Get-WgLabFault
        $faults.Name | Should -Contain 'FirewallBlocksPort'
        @($faults).Count | Should -BeGreaterOrEqual 12 -Because "the built-in faults plus those of tests/lab/Faults"
        foreach ($f in $faults) {
            $f.Side | Should -BeIn 'client', 'server', 'router'
            $f.Symptom | Should -Not -BeNullOrEmpty
        }
    }
}

Describe 'WgLab' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        $lab = New-WgLab
    }
    AfterAll {
        try { if ($lab) { Remove-WgLab -Lab $lab } }
        finally { $lab = $null }
    }

    Context 'a healthy lab' {
        It 'uses distinct interface names of at most 15 characters and namespaces with the lab prefix' {
            $lab.Client.Interface | Should -Not -Be $lab.Server.Interface
            $lab.Client.Interface.Length | Should -BeLessOrEqual 15
            $lab.Server.Interface.Length | Should -BeLessOrEqual 15
            foreach ($n in 'client', 'server', 'router', 'inet') { $lab.Namespaces[$n] | Should -BeLike "$($lab.Prefix)-*" }
            $present = (Invoke-WgLabCommand -Lab $lab -Node client -Command ip, netns, list) -split "`n"
            foreach ($n in $lab.Namespaces.Values) { ($present -match "^$([regex]::Escape($n))\b").Count | Should -Be 1 }
        }

        It 'runs one wireguard-go per side, recorded by PID' {
            foreach ($side in $lab.Client, $lab.Server) {
                (Get-Content "/proc/$($side.Pid)/comm").Trim() | Should -Be 'wireguard-go'
                (Get-Content -Raw "/proc/$($side.Pid)/cmdline").Replace([char]0, ' ') | Should -Match ([regex]::Escape($side.Interface))
                Test-Path "/var/run/wireguard/$($side.Interface).sock" | Should -BeTrue
            }
        }

        It 'completes a handshake within a bounded time' {
            Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
            Wait-WgLabHandshake -Lab $lab -Node server -TimeoutSeconds 5 -Passive | Should -BeTrue
        }

        It 'pings the server through the tunnel (IPv4 and IPv6)' {
            Test-WgLabPing -Lab $lab -To 192.0.2.1 -Count 3 | Should -BeTrue
            Test-WgLabPing -Lab $lab -To 2001:db8:100::1 | Should -BeTrue
        }

        It 'reaches the internet host through the tunnel and the server''s NAT' {
            Test-WgLabPing -Lab $lab -To 192.0.2.130 -Count 2 | Should -BeTrue
            $route = Invoke-WgLabCommand -Lab $lab -Node client -Command ip, route, get, 192.0.2.130
            $route | Should -Match "dev $($lab.Client.Interface)"
        }

        It 'gives the router no route to the tunnel subnet and no default route' {
            $routes = Invoke-WgLabCommand -Lab $lab -Node router -Command ip, '-4', route, show
            $routes | Should -Not -Match '192\.0\.2\.0/26'
            $routes | Should -Not -Match '^default'
            $routes | Should -Match '192\.0\.2\.128/25 dev rt-inet'
            Invoke-WgLabCommand -Lab $lab -Node router -Command ip, route, get, 192.0.2.2 -PassThru |
                ForEach-Object ExitCode | Should -Not -Be 0
        }

        It 'leaves the internet host no way back to the tunnel subnet' {
            Test-WgLabPing -Lab $lab -From inet -To 192.0.2.2 -TimeoutSeconds 1 | Should -BeFalse
        }

        It 'passes full-size packets: 1392 DF through the tunnel, 1472 DF on the underlay' {
            Test-WgLabPing -Lab $lab -To 192.0.2.1 -Size 1392 -DontFragment | Should -BeTrue
            Test-WgLabPing -Lab $lab -To $lab.Server.Underlay -Size 1472 -DontFragment | Should -BeTrue
        }

        It 'names the server uplink ens3 and the client underlay eth0' {
            Invoke-WgLabCommand -Lab $lab -Node server -Command ip, '-4', '-o', addr, show, dev, ens3 | Should -Match '203\.0\.113\.2/25'
            Invoke-WgLabCommand -Lab $lab -Node client -Command ip, '-4', '-o', addr, show, dev, eth0 | Should -Match '198\.51\.100\.2/25'
        }

        It 'writes 0600 wg-quick configurations that the namespace sees under /etc/wireguard' {
            foreach ($node in 'client', 'server') {
                $side = if ($node -eq 'client') { $lab.Client } else { $lab.Server }
                [System.IO.File]::GetUnixFileMode($side.HostConfigPath) | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
                $side.ConfigPath | Should -Be "/etc/wireguard/$($side.Interface).conf"
                $text = Invoke-WgLabCommand -Lab $lab -Node $node -Command cat, $side.ConfigPath
                $text | Should -Match '(?m)^Address = '
                $text | Should -Match "(?m)^# $($side.PeerName)\r?\n\[Peer\]"
                $text | Should -Match '(?m)^PresharedKey = '
            }
            Invoke-WgLabCommand -Lab $lab -Node server -Command cat, $lab.Server.ConfigPath | Should -Match '(?m)^ListenPort = 51820'
            Invoke-WgLabCommand -Lab $lab -Node client -Command cat, $lab.Client.ConfigPath | Should -Match '(?m)^PersistentKeepalive = 25'
        }

        It 'applies the configuration files to the live interfaces' {
            (Get-WgField $lab client peers).Trim() | Should -Be $lab.Server.PublicKey
            (Get-WgField $lab server peers).Trim() | Should -Be $lab.Client.PublicKey
            (Get-WgField $lab client public-key).Trim() | Should -Be $lab.Client.PublicKey
            (Get-WgField $lab server listen-port).Trim() | Should -Be '51820'
            Get-WgField $lab client endpoints | Should -Match '203\.0\.113\.2:51820'
            Get-WgField $lab client persistent-keepalive | Should -Match '\s25\s*$'
            Get-WgField $lab server allowed-ips | Should -Match '192\.0\.2\.2/32'
            (Get-WgField $lab client preshared-keys) | Should -Match ([regex]::Escape($lab.PresharedKey))
        }

        It 'names the server vpn.example.test in the client''s hosts file' {
            Invoke-WgLabCommand -Lab $lab -Node client -Command getent, hosts, vpn.example.test | Should -Match '^203\.0\.113\.2\s'
        }

        It 'keeps name lookups inside the lab' {
            foreach ($n in 'client', 'server', 'inet') {
                $ns = (Invoke-WgLabCommand -Lab $lab -Node $n -Command cat, /etc/resolv.conf) -split "`n" | Where-Object { $_ -match '^nameserver' }
                $ns | Should -Match '^nameserver (198\.51\.100\.1|203\.0\.113\.1|192\.0\.2\.129)$'
            }
        }

        It 'exposes every secret in base64 and hex for leak tests' {
            $secrets = @(Get-WgLabSecret -Lab $lab)
            $secrets.Count | Should -Be 6
            $secrets | Should -Contain $lab.Client.PrivateKey
            $secrets | Should -Contain $lab.PresharedKey
            @($secrets | Where-Object { $_ -match '^[0-9a-f]{64}$' }).Count | Should -Be 3
        }
    }

    Context 'faults that stop the handshake' {
        It '<Fault>: no fresh handshake, and healthy again once removed' -ForEach @(
            @{ Fault = 'FirewallBlocksPort' }
            @{ Fault = 'FirewallBlocksPortIptables' }
            @{ Fault = 'TcpOnlyFirewallRule' }
            @{ Fault = 'WrongEndpointPort' }
            @{ Fault = 'KeyMismatch' }
            @{ Fault = 'StaleDnsEndpoint' }
        ) {
            Add-WgLabFault -Lab $lab -Fault $Fault
            try {
                $lab.Faults | Should -Contain $Fault
                # the sessions were dropped: no handshake is recorded, and none completes
                (Get-WgLabHandshake -Lab $lab -Node client).LatestHandshake | Should -BeNullOrEmpty
                Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 6 | Should -BeFalse
                (Get-WgLabHandshake -Lab $lab -Node server).LatestHandshake | Should -BeNullOrEmpty
                Test-WgLabPing -Lab $lab -To 192.0.2.1 -TimeoutSeconds 1 | Should -BeFalse

                switch ($Fault) {
                    'FirewallBlocksPort' {
                        Invoke-WgLabCommand -Lab $lab -Node server -Command nft, list, ruleset | Should -Match 'udp dport 51820 drop'
                    }
                    'FirewallBlocksPortIptables' {
                        $lab.IptablesFlavour | Should -BeIn 'nft', 'legacy'
                        Invoke-WgLabCommand -Lab $lab -Node server -Command iptables, '-S', INPUT | Should -Match '-A INPUT -p udp -m udp --dport 51820 -j DROP'
                    }
                    'TcpOnlyFirewallRule' {
                        $rules = Invoke-WgLabCommand -Lab $lab -Node server -Command nft, list, ruleset
                        $rules | Should -Match 'policy drop'
                        $rules | Should -Match 'tcp dport 51820 accept'
                        $rules | Should -Not -Match 'udp dport 51820'
                    }
                    'WrongEndpointPort' {
                        Get-WgField $lab client endpoints | Should -Match '203\.0\.113\.2:51821'
                        Invoke-WgLabCommand -Lab $lab -Node client -Command cat, $lab.Client.ConfigPath | Should -Match '(?m)^Endpoint = 203\.0\.113\.2:51821'
                    }
                    'KeyMismatch' {
                        $peer = (Get-WgField $lab server peers).Trim()
                        $peer | Should -Not -Be $lab.Client.PublicKey
                        $peer | Should -Match '^[A-Za-z0-9+/]{43}=$'
                        Invoke-WgLabCommand -Lab $lab -Node server -Command cat, $lab.Server.ConfigPath | Should -Match "(?m)^PublicKey = $([regex]::Escape($peer))"
                    }
                    'StaleDnsEndpoint' {
                        Get-WgField $lab client endpoints | Should -Match '203\.0\.113\.2:51820'
                        Invoke-WgLabCommand -Lab $lab -Node client -Command getent, hosts, vpn.example.test | Should -Match '^203\.0\.113\.3\s'
                        Invoke-WgLabCommand -Lab $lab -Node client -Command cat, $lab.Client.ConfigPath | Should -Match '(?m)^Endpoint = vpn\.example\.test:51820'
                        $addr = Invoke-WgLabCommand -Lab $lab -Node server -Command ip, '-4', '-o', addr, show, dev, ens3
                        $addr | Should -Match '203\.0\.113\.3/25'
                        $addr | Should -Not -Match '203\.0\.113\.2/'
                        # re-resolving the name is the cure: the server answers at the new address
                        Test-WgLabPing -Lab $lab -From client -To 203.0.113.3 | Should -BeTrue
                    }
                }
            }
            finally {
                Remove-WgLabFault -Lab $lab -Fault $Fault
            }
            $lab.Faults | Should -Not -Contain $Fault
            Assert-Healthy $lab
        }
    }

    Context 'faults that let the handshake through' {
        It 'AllowedIpsMismatch: handshake completes, traffic from the client is dropped' {
            Add-WgLabFault -Lab $lab -Fault AllowedIpsMismatch
            try {
                Get-WgField $lab server allowed-ips | Should -Match '192\.0\.2\.3/32'
                Invoke-WgLabCommand -Lab $lab -Node server -Command cat, $lab.Server.ConfigPath | Should -Match '(?m)^AllowedIPs = 192\.0\.2\.3/32'
                Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 10 | Should -BeTrue
                Test-WgLabPing -Lab $lab -To 192.0.2.1 -TimeoutSeconds 1 | Should -BeFalse
                Test-WgLabPing -Lab $lab -To 192.0.2.130 -TimeoutSeconds 1 | Should -BeFalse
            }
            finally { Remove-WgLabFault -Lab $lab -Fault AllowedIpsMismatch }
            Assert-Healthy $lab
        }

        It 'MtuBlackhole: small packets pass, big DF packets vanish without "fragmentation needed"' {
            Add-WgLabFault -Lab $lab -Fault MtuBlackhole
            try {
                Invoke-WgLabCommand -Lab $lab -Node router -Command ip, link, show, rt-server | Should -Match 'mtu 1400'
                $big = Invoke-WgLabCommand -Lab $lab -Node client -PassThru -Command ping, '-n', '-c', '1', '-W', '2', '-w', '3', '-M', 'do', '-s', '1472', $lab.Server.Underlay
                $big.ExitCode | Should -Not -Be 0
                "$($big.StdOut)$($big.StdErr)" | Should -Not -Match 'Frag needed|mtu ='
                Test-WgLabPing -Lab $lab -To $lab.Server.Underlay -Size 1372 -DontFragment | Should -BeTrue
                Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 10 | Should -BeTrue
                Test-WgLabPing -Lab $lab -To 192.0.2.1 | Should -BeTrue
                Test-WgLabPing -Lab $lab -To 192.0.2.1 -Size 1392 -DontFragment | Should -BeFalse
                # 1300 + 28 = 1328 inner bytes (a multiple of 16, so no WireGuard padding) + 60 = 1388 outer
                Test-WgLabPing -Lab $lab -To 192.0.2.1 -Size 1300 -DontFragment | Should -BeTrue
            }
            finally { Remove-WgLabFault -Lab $lab -Fault MtuBlackhole }
            Assert-Healthy $lab
            Test-WgLabPing -Lab $lab -To 192.0.2.1 -Size 1392 -DontFragment | Should -BeTrue
        }

        It '<Fault>: the tunnel works, the internet host does not' -ForEach @(
            @{ Fault = 'ForwardingDisabled' }
            @{ Fault = 'NatMissing' }
        ) {
            Add-WgLabFault -Lab $lab -Fault $Fault
            try {
                Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 10 | Should -BeTrue
                Test-WgLabPing -Lab $lab -To 192.0.2.1 | Should -BeTrue
                Test-WgLabPing -Lab $lab -To 192.0.2.130 -TimeoutSeconds 1 | Should -BeFalse
                if ($Fault -eq 'ForwardingDisabled') {
                    (Invoke-WgLabCommand -Lab $lab -Node server -Command sysctl, '-n', net.ipv4.ip_forward).Trim() | Should -Be '0'
                }
                else {
                    Invoke-WgLabCommand -Lab $lab -Node server -Command nft, list, ruleset | Should -Not -Match 'masquerade'
                }
            }
            finally { Remove-WgLabFault -Lab $lab -Fault $Fault }
            Assert-Healthy $lab
        }

        It 'IdlePeer: no keepalive and no traffic means no handshake and zero counters, until there is traffic' {
            Add-WgLabFault -Lab $lab -Fault IdlePeer
            try {
                Get-WgField $lab client persistent-keepalive | Should -Match '\soff\s*$'
                Invoke-WgLabCommand -Lab $lab -Node client -Command cat, $lab.Client.ConfigPath | Should -Not -Match 'PersistentKeepalive'
                Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 3 -Passive | Should -BeFalse
                Get-WgField $lab client transfer | Should -Match '\s0\s+0\s*$'
                # idle, not broken
                Test-WgLabPing -Lab $lab -To 192.0.2.1 | Should -BeTrue
                Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 5 -Passive | Should -BeTrue
            }
            finally { Remove-WgLabFault -Lab $lab -Fault IdlePeer }
            Get-WgField $lab client persistent-keepalive | Should -Match '\s25\s*$'
            Assert-Healthy $lab
        }

        It 'InterfaceDown on the <Node>: link down there, no tunnel traffic, no way around it' -ForEach @(
            @{ Node = 'client' }
            @{ Node = 'server' }
        ) {
            $side = if ($Node -eq 'client') { $lab.Client } else { $lab.Server }
            Add-WgLabFault -Lab $lab -Fault InterfaceDown -Node $Node
            try {
                Get-LinkState $lab $Node $side.Interface | Should -Be 'Down'
                Test-WgLabPing -Lab $lab -To 192.0.2.1 -TimeoutSeconds 1 | Should -BeFalse
                Test-WgLabPing -Lab $lab -To 192.0.2.130 -TimeoutSeconds 1 | Should -BeFalse
            }
            finally { Remove-WgLabFault -Lab $lab -Fault InterfaceDown }
            Get-LinkState $lab $Node $side.Interface | Should -Be 'Up'
            Invoke-WgLabCommand -Lab $lab -Node client -Command ip, route, get, 192.0.2.130 | Should -Match "dev $($lab.Client.Interface)"
            Assert-Healthy $lab
        }
    }

    Context 'faults at creation' {
        It 'builds a lab with faults already injected' {
            $lab2 = New-WgLab -Fault NatMissing, ForwardingDisabled -NoKeepalive -Mtu 1380
            try {
                $lab2.Faults | Should -Be @('NatMissing', 'ForwardingDisabled')
                Invoke-WgLabCommand -Lab $lab2 -Node client -Command ip, link, show, $lab2.Client.Interface | Should -Match 'mtu 1380'
                Invoke-WgLabCommand -Lab $lab2 -Node client -Command cat, $lab2.Client.ConfigPath | Should -Match '(?m)^MTU = 1380'
                Invoke-WgLabCommand -Lab $lab2 -Node client -Command cat, $lab2.Client.ConfigPath | Should -Not -Match 'PersistentKeepalive'
                Test-WgLabPing -Lab $lab2 -To 192.0.2.1 | Should -BeTrue
                Test-WgLabPing -Lab $lab2 -To 192.0.2.130 -TimeoutSeconds 1 | Should -BeFalse
            }
            finally { Remove-WgLab -Lab $lab2 }
        }
    }
}

Describe 'WgLab teardown' -Tag Lab -Skip:$LabUnavailable {
    It 'leaves no namespace, daemon, socket, /etc/netns directory or state behind, and is idempotent' {
        $t = New-WgLab
        try {
            $pids = @($t.Client.Pid, $t.Server.Pid)
            $socks = @($t.Client.Interface, $t.Server.Interface) | ForEach-Object { "/var/run/wireguard/$_.sock" }
            $socks | ForEach-Object { Test-Path $_ | Should -BeTrue }
        }
        finally { Remove-WgLab -Lab $t }
        (& ip netns list) -join "`n" | Should -Not -Match ([regex]::Escape($t.Prefix))
        foreach ($p in $pids) {
            $alive = (Test-Path "/proc/$p") -and ((Get-Content "/proc/$p/stat" -ErrorAction SilentlyContinue) -notmatch '\) [ZX] ')
            $alive | Should -BeFalse -Because "wireguard-go $p was killed"
        }
        $socks | ForEach-Object { Test-Path $_ | Should -BeFalse }
        foreach ($n in $t.Namespaces.Values) { Test-Path "/etc/netns/$n" | Should -BeFalse }
        Test-Path "/run/wgt-lab/$($t.Id).json" | Should -BeFalse
        { Remove-WgLab -Lab $t } | Should -Not -Throw
    }

    It 'removes the leftovers of a lab whose owner died before a new lab starts' {
        $pwsh = if ($env:WGT_PWSH) { $env:WGT_PWSH } else { Join-Path $PSHOME 'pwsh' }
        $module = Join-Path $PSScriptRoot '../lab/WgLab.psm1'
        # a child builds a lab and exits without removing it, as an interrupted test run would
        $id = (& $pwsh -NoProfile -NonInteractive -Command "Import-Module '$module'; (New-WgLab).Id" | Select-Object -Last 1).Trim()
        $id | Should -Match '^[0-9a-f]{6}$'
        try {
            (& ip netns list) -join "`n" | Should -Match "wgt-$id-client"
            $t = New-WgLab
            Remove-WgLab -Lab $t
            (& ip netns list) -join "`n" | Should -Not -Match "wgt-$id-"
            Test-Path "/var/run/wireguard/wgc$id.sock" | Should -BeFalse
            Test-Path "/etc/netns/wgt-$id-client" | Should -BeFalse
        }
        finally {
            # belt and braces: never leave the child's lab behind
            Remove-WgLab -Lab ([pscustomobject]@{ Id = $id; Client = @{ Pid = 0 }; Server = @{ Pid = 0 }; Removed = $false })
        }
    }

    Context 'second wireguard-go processes (SharedKeyPair twins) left by interrupted runs' {
        BeforeAll {
            $script:mine = [System.Collections.Generic.List[object]]::new()
            function Start-FakeTwin([string] $Namespace) {
                # a wireguard-go of this test's own (wgf + six random hex digits), in a named namespace or a new unnamed one
                $name = 'wgf' + (-join ((1..6) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) }))
                $run = if ($Namespace) { "ip netns exec '$Namespace' wireguard-go -f $name" } else { "unshare -n wireguard-go -f $name" }
                $procId = [int](& sh -c "$run >/dev/null 2>&1 </dev/null & echo `$!").Trim()
                $t = [pscustomobject]@{ Name = $name; Pid = $procId; Sock = "/var/run/wireguard/$name.sock" }
                $script:mine.Add($t)
                $deadline = [DateTime]::UtcNow.AddSeconds(10)
                while (-not (Test-Path $t.Sock) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
                Test-Path $t.Sock | Should -BeTrue -Because "wireguard-go $name started"
                $t
            }
            function Test-Alive([int] $ProcessId) { & (Get-Module WgLab) { param($p) Test-LabProcessAlive $p } $ProcessId }
        }
        AfterAll {
            # only this test's own processes, by PID, and their sockets
            foreach ($t in $script:mine) {
                & (Get-Module WgLab) { param($p) Stop-LabProcess -ProcessId $p -ExpectedComm 'wireguard-go' } $t.Pid
                if (Test-Path -LiteralPath $t.Sock) { Remove-Item -LiteralPath $t.Sock -Force -ErrorAction SilentlyContinue }
            }
        }

        It 'kills the twin of a dead lab and removes its socket; a live lab and its twin stay' {
            $pwsh = if ($env:WGT_PWSH) { $env:WGT_PWSH } else { Join-Path $PSHOME 'pwsh' }
            $module = Join-Path $PSScriptRoot '../lab/WgLab.psm1'
            $live = New-WgLab
            $id = $null
            try {
                $liveTwin = Start-FakeTwin $live.Namespaces.client
                # a child builds a lab and exits without removing it, as an interrupted run would (its own cleanup
                # at the start must leave this live lab and its twin alone)
                $id = (& $pwsh -NoProfile -NonInteractive -Command "Import-Module '$module'; (New-WgLab).Id" | Select-Object -Last 1).Trim()
                $id | Should -Match '^[0-9a-f]{6}$'
                Test-Alive $liveTwin.Pid | Should -BeTrue -Because 'a new lab leaves the twin of a live lab alone'
                $deadTwin = Start-FakeTwin "wgt-$id-client"
                & (Get-Module WgLab) { Remove-StaleLab }
                Test-Alive $deadTwin.Pid | Should -BeFalse -Because "the twin in the dead lab wgt-$id was killed"
                Test-Path $deadTwin.Sock | Should -BeFalse
                (& ip netns list) -join "`n" | Should -Not -Match "wgt-$id-"
                Test-Alive $liveTwin.Pid | Should -BeTrue -Because 'the live lab''s twin stays'
                Test-Path $liveTwin.Sock | Should -BeTrue
                foreach ($side in $live.Client, $live.Server) {
                    Test-Alive $side.Pid | Should -BeTrue
                    Test-Path "/var/run/wireguard/$($side.Interface).sock" | Should -BeTrue
                }
                Wait-WgLabHandshake -Lab $live -TimeoutSeconds 15 | Should -BeTrue -Because 'the live lab still works'
                # the lab's own teardown takes every wireguard-go in its namespaces with it
                Remove-WgLab -Lab $live
                Test-Alive $liveTwin.Pid | Should -BeFalse
                Test-Path $liveTwin.Sock | Should -BeFalse
            }
            finally {
                Remove-WgLab -Lab $live
                if ($id) { Remove-WgLab -Lab ([pscustomobject]@{ Id = $id; Client = @{ Pid = 0 }; Server = @{ Pid = 0 }; Removed = $false }) }
            }
        }

        It 'kills a twin whose lab namespace is gone and removes a twin socket no process serves; a twin in a named namespace stays' {
            $ns = 'wgf' + (-join ((1..6) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) })) + '-ns'
            & ip netns add $ns
            $saved = & (Get-Module WgLab) { $script:TwinPattern }
            try {
                # this test's twins carry its own prefix: the cleanup is pointed at that name pattern for the test only
                & (Get-Module WgLab) { $script:TwinPattern = '^wgf[0-9a-f]{6}$' }
                $named = Start-FakeTwin $ns
                $orphan = Start-FakeTwin $null
                $killed = Start-FakeTwin $null
                & kill -KILL $killed.Pid
                $deadline = [DateTime]::UtcNow.AddSeconds(5)
                while ((Test-Alive $killed.Pid) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
                Test-Path $killed.Sock | Should -BeTrue -Because 'a killed wireguard-go leaves its socket'
                & (Get-Module WgLab) { Remove-OrphanLabTwin }
                Test-Alive $orphan.Pid | Should -BeFalse -Because 'its namespace has no name: its lab is gone'
                Test-Path $orphan.Sock | Should -BeFalse
                Test-Path $killed.Sock | Should -BeFalse -Because 'no wireguard-go serves it'
                Test-Alive $named.Pid | Should -BeTrue -Because "$ns is not a lab's namespace: not the cleanup's to judge"
                Test-Path $named.Sock | Should -BeTrue
            }
            finally {
                & (Get-Module WgLab) { param($p) $script:TwinPattern = $p } $saved
                foreach ($t in @($script:mine)) { & (Get-Module WgLab) { param($p) Stop-LabProcess -ProcessId $p -ExpectedComm 'wireguard-go' } $t.Pid }
                & ip netns del $ns
            }
        }
    }
}
