# Peer, key and endpoint faults (tests/lab/Faults/Peer.ps1) and the liveness probe, in the lab: each fault shows
# its symptom first, then the diagnosis on the side where it shows names its Cause; healthy idle tunnels with a
# short keepalive raise nothing above Info.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    function Invoke-Child([string] $Node, [scriptblock] $ScriptBlock, [object[]] $ArgumentList = @()) {
        Invoke-WgLabPwsh -Lab $script:lab -Node $Node -ScriptBlock $ScriptBlock -ArgumentList $ArgumentList -TimeoutSeconds 180
    }
    function Lab([string] $Node, [string[]] $Command) { Invoke-WgLabCommand -Lab $script:lab -Node $Node -Command $Command -PassThru }
}

Describe 'Peer and key faults: symptom first, then the Cause' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        $script:lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $script:lab -TimeoutSeconds 15
    }
    AfterAll { Remove-WgLab -Lab $script:lab }
    AfterEach {
        foreach ($f in @($script:lab.Faults)) { Remove-WgLabFault -Lab $script:lab -Fault $f }
    }

    It 'EndpointRoutedIntoTunnel: the route to the endpoint goes into the tunnel' {
        Add-WgLabFault -Lab $lab -Fault EndpointRoutedIntoTunnel
        (Lab client 'ip', 'route', 'get', $lab.Server.Underlay).StdOut | Should -Match "dev $($lab.Client.Interface)\b"
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 4 | Should -BeFalse
        $f = @(Invoke-Child client { Invoke-WgDiagnosis })
        $f[0].Cause | Should -Be 'EndpointRoutedIntoTunnel' -Because ($f | Format-List | Out-String)
        $f[0].Severity | Should -Be 'Error'
        ($f[0].Evidence -join ' ') | Should -Match "ip route get $([regex]::Escape($lab.Server.Underlay)): .*dev $($lab.Client.Interface)"
        @($f | Where-Object Cause -eq 'EndpointUnreachable').Count | Should -Be 0
    }

    It 'AddressFamilyMismatch: the endpoint name has only an AAAA record and there is no IPv6 route' {
        Add-WgLabFault -Lab $lab -Fault EndpointAaaaOnly
        (Lab client 'wg', 'show', $lab.Client.Interface, 'endpoints').StdOut | Should -Match '\[2001:db8:200::2\]:51820'
        (Lab client 'ip', '-6', 'route', 'get', '2001:db8:200::2').ExitCode | Should -Not -Be 0
        $f = @(Invoke-Child client { Invoke-WgDiagnosis })
        $f[0].Cause | Should -Be 'AddressFamilyMismatch' -Because ($f | Format-List | Out-String)
        $f[0].Severity | Should -Be 'Error'
        @($f | Where-Object Cause -eq 'EndpointUnreachable').Count | Should -Be 0
    }

    It 'No route of either family (no default route at all): EndpointUnreachable naming the failed lookup, not AddressFamilyMismatch' {
        Add-WgLabFault -Lab $lab -Fault EndpointAaaaOnly
        $default = (Lab client 'ip', '-4', 'route', 'show', 'default').StdOut.Trim()
        $default | Should -Match '^default via \S+ dev \S+'
        $null = Lab client (@('ip', '-4', 'route', 'del') + ($default -split '\s+'))
        try {
            # the symptom: the host routes neither family, and the endpoint's own lookup fails
            (Lab client 'ip', '-4', 'route', 'show', 'default').StdOut.Trim() | Should -BeNullOrEmpty
            (Lab client 'ip', '-6', 'route', 'show', 'default').StdOut.Trim() | Should -BeNullOrEmpty
            (Lab client 'ip', '-6', 'route', 'get', '2001:db8:200::2').ExitCode | Should -Not -Be 0
            $f = @(Invoke-Child client { Invoke-WgDiagnosis })
            $f[0].Cause | Should -Be 'EndpointUnreachable' -Because ($f | Format-List | Out-String)
            $f[0].Id | Should -Be 'WGD305'
            $f[0].Severity | Should -Be 'Error'
            ($f[0].Evidence -join "`n") | Should -Match 'ip -6 route get 2001:db8:200::2: '
            @($f | Where-Object Cause -eq 'AddressFamilyMismatch').Count | Should -Be 0
            @($f | Where-Object Cause -eq 'EndpointUnreachable').Count | Should -Be 1
        }
        finally { $null = Lab client (@('ip', '-4', 'route', 'replace') + ($default -split '\s+')) }
    }

    It 'A blackhole route for the endpoint while the family is routed: EndpointUnreachable naming the failed lookup and the route kind' {
        Add-WgLabFault -Lab $lab -Fault EndpointBlackholed
        # the symptom: the default route is there, this one address has no route, and no handshake completes
        (Lab client 'ip', '-4', 'route', 'show', 'default').StdOut | Should -Match '^default via'
        $get = Lab client 'ip', 'route', 'get', $lab.Server.Underlay
        $get.ExitCode | Should -Not -Be 0
        $get.StdErr | Should -Match 'Invalid argument'
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 4 | Should -BeFalse
        $f = @(Invoke-Child client { Invoke-WgDiagnosis })
        $f[0].Cause | Should -Be 'EndpointUnreachable' -Because ($f | Format-List | Out-String)
        $f[0].Id | Should -Be 'WGD305'
        ($f[0].Evidence -join "`n") | Should -Match "ip -4 route get $([regex]::Escape($lab.Server.Underlay)): RTNETLINK answers: Invalid argument \(a blackhole route\)"
        @($f | Where-Object Cause -eq 'EndpointUnreachable').Count | Should -Be 1
        @($f | Where-Object Cause -eq 'AddressFamilyMismatch').Count | Should -Be 0
    }

    It 'StaleEndpoint is an Error right after the name moved, while the handshake is still fresh' {
        Add-WgLabFault -Lab $lab -Fault DdnsMovedFreshHandshake
        $hs = Get-WgLabHandshake -Lab $lab -Node client
        ([DateTime]::UtcNow - $hs[0].LatestHandshake).TotalSeconds | Should -BeLessThan 150
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress | Should -BeFalse
        # the diagnosis, then Repair-WgIssue on its top finding: no -Force, the probe proved it one-way
        $out = @(Invoke-Child client {
                $d = @(Invoke-WgDiagnosis)
                [pscustomobject]@{ Kind = 'diagnosis'; Findings = $d }
                if ($d[0].Cause -eq 'StaleEndpoint') { [pscustomobject]@{ Kind = 'repair'; Results = @($d[0] | Repair-WgIssue -Confirm:$false) } }
            })
        $f = @(($out | Where-Object Kind -eq 'diagnosis').Findings)
        $f[0].Cause | Should -Be 'StaleEndpoint' -Because ($f | Format-List | Out-String)
        $f[0].Severity | Should -Be 'Error'
        ($f[0].Evidence -join ' ') | Should -Match 'Liveness probe: one ICMP echo to 192\.0\.2\.1 .*nothing came back'
        $f[0].CanRepair | Should -BeTrue
        $f[0].RepairData | Should -Contain 'OneWay=true'
        $rep = @(($out | Where-Object Kind -eq 'repair').Results)
        $rep.Count | Should -Be 1
        $rep[0].Changed | Should -BeTrue -Because "the endpoint is re-resolved without -Force ($($rep[0].Error))"
        $rep[0].Verified | Should -BeTrue -Because "the repair verifies ($($rep[0].Error); $($rep[0].After))"
        (Lab client 'wg', 'show', $lab.Client.Interface, 'endpoints').StdOut | Should -Match ([regex]::Escape("$($lab.Server.MovedUnderlay):$($lab.Server.ListenPort)"))
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        $t = Test-WgLabTcp -Lab $lab -TimeoutSeconds 15
        $t.Success | Should -BeTrue -Because "TCP flows through the tunnel after the repair ($($t.Error))"
        $t.BytesReceived | Should -Be 1048576
    }

    It 'AllowedIpsConflict: another peer took the client''s prefix live' {
        Add-WgLabFault -Lab $lab -Fault AllowedIpsConflict
        $ai = (Lab server 'wg', 'show', $lab.Server.Interface, 'allowed-ips').StdOut
        ($ai -split "`n" | Where-Object { $_ -like "$($lab.Client.PublicKey)*" }) | Should -Not -Match '192\.0\.2\.2/32'
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 10
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress | Should -BeFalse
        $f = @(Invoke-Child server { Invoke-WgDiagnosis })
        $f[0].Cause | Should -Be 'AllowedIpsConflict' -Because ($f | Format-List | Out-String)
        $f[0].CanRepair | Should -BeFalse
        ($f[0].Evidence -join ' ') | Should -Match 'Live allowed-ips of lab-client: 2001:db8:100::2/128'
    }

    It 'ListenPortInUse: another program owns the configured port' {
        Add-WgLabFault -Lab $lab -Fault ListenPortInUse
        (Lab server 'ss', '-Hulpn', "sport = :$($lab.Server.ListenPort)").StdOut | Should -Match 'socat'
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 4 | Should -BeFalse
        $f = @(Invoke-Child server { Invoke-WgDiagnosis })
        $f[0].Cause | Should -Be 'ListenPortInUse' -Because ($f | Format-List | Out-String)
        ($f[0].Evidence -join ' ') | Should -Match 'socat pid \d+'
    }

    It 'SharedKeyPair: the endpoint of one key flips between two devices' {
        Add-WgLabFault -Lab $lab -Fault SharedKeyPair
        # the symptom first: the server's endpoint for the client's key leaves an address and comes back (bounded)
        $seen = [System.Collections.Generic.List[string]]::new()
        $deadline = [DateTime]::UtcNow.AddSeconds(6)
        do {
            $ep = ((Lab server 'wg', 'show', $lab.Server.Interface, 'endpoints').StdOut.Trim() -split '\s+')[1]
            if ($seen.Count -eq 0 -or $seen[-1] -ne $ep) { $seen.Add($ep) }
            Start-Sleep -Milliseconds 150
        } while (($seen.Count -lt 3 -or $seen[0] -ne $seen[2]) -and [DateTime]::UtcNow -lt $deadline)
        $seen.Count | Should -BeGreaterOrEqual 3 -Because "the server's endpoint should leave 1 address and come back: $($seen -join ' -> ')"
        $seen[2] | Should -Be $seen[0]
        $snap = "/tmp/wgt-$($lab.Id)-skp.json"
        try {
            $f = @(Invoke-Child server { param($p) Invoke-WgDiagnosis -SnapshotPath $p } -ArgumentList $snap)
            $readings = @((Get-Content -Raw -LiteralPath $snap | ConvertFrom-Json).Interfaces[0].EndpointReadings | Where-Object Peer -eq $lab.Client.PublicKey)
        }
        finally { Remove-Item -LiteralPath $snap -ErrorAction SilentlyContinue }
        # what the diagnosis saw over its own sample decides: the endpoint it read flipped back
        $eps = @($readings[0].Endpoints)
        $eps.Count | Should -BeGreaterOrEqual 3 -Because "the diagnosis read $($readings[0].Reads) times: $($eps -join ' -> ')"
        @($eps | Sort-Object -Unique).Count | Should -Be 2
        $k = @($f | Where-Object Cause -eq 'SharedKeyPair')
        $k.Count | Should -Be 1 -Because ($f | Format-List | Out-String)
        $k[0].Severity | Should -Be 'Warning'
        $k[0].Peer | Should -Be $lab.Client.PublicKey
        ($k[0].Evidence -join ' ') | Should -Match ([regex]::Escape(($eps -join ' -> ')))
        $k[0].CanRepair | Should -BeFalse
    }

    It 'PresharedKeyMismatch: the server answers, the client never accepts' {
        Add-WgLabFault -Lab $lab -Fault PresharedKeyMismatch
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 6 | Should -BeFalse
        $f = @(Invoke-Child client { Invoke-WgDiagnosis })
        $f[0].Cause | Should -Be 'PresharedKeyMismatch' -Because ($f | Format-List | Out-String)
        @($f | Where-Object Cause -eq 'KeyMismatch').Count | Should -Be 0
    }

    It 'ResolverMissing: DNS = in the configuration and no resolvconf' {
        Add-WgLabFault -Lab $lab -Fault ResolverMissing
        Get-Content -LiteralPath $lab.Client.HostConfigPath | Should -Contain 'DNS = 192.0.2.1'
        (Lab client 'sh', '-c', 'command -v resolvconf').ExitCode | Should -Not -Be 0
        $f = @(Invoke-Child client { Invoke-WgDiagnosis })
        @($f | Where-Object Cause -eq 'ResolverMissing').Count | Should -Be 1 -Because ($f | Format-List | Out-String)
    }
}

Describe 'Liveness: no false alarm on an idle client with PersistentKeepalive = 1' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        $script:lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $script:lab -TimeoutSeconds 15
        Set-WgLabKeepalive -Lab $script:lab -Seconds 1
    }
    AfterAll { Remove-WgLab -Lab $script:lab }

    It 'raises nothing above Info in 10 runs on the <Node>' -ForEach @(@{ Node = 'client' }, @{ Node = 'server' }) {
        # the setting that made the false alarm, live: keepalives every second, no other traffic
        (Lab client 'wg', 'show', $lab.Client.Interface, 'persistent-keepalive').StdOut | Should -Match "`t1\s*$"
        $runs = @(Invoke-Child $Node {
                foreach ($n in 1..10) {
                    $f = @(Invoke-WgDiagnosis)
                    [pscustomobject]@{ Run = $n; Above = @($f | Where-Object Severity -ne 'Info' | ForEach-Object { "$($_.Severity) $($_.Cause): $($_.Summary)" }); Top = $f[0].Cause }
                }
            })
        $runs.Count | Should -Be 10
        @($runs | Where-Object { $_.Above.Count -gt 0 }).Count | Should -Be 0 -Because (($runs.Above | Out-String))
        @($runs | Where-Object Top -eq 'Healthy').Count | Should -Be 10
    }

    It 'Test-WgHandshake on the client: keepalives going out unanswered are not OneWay (the probe is answered)' {
        $h = @(Invoke-Child client { param($if) Test-WgHandshake -Interface $if -SampleSeconds 3 } -ArgumentList $lab.Client.Interface)
        $h.Count | Should -Be 1
        $h[0].Status | Should -Be 'Healthy'
        $h[0].OneWay | Should -BeFalse -Because $h[0].Reason
        $h[0].Reason | Should -Match 'Liveness probe: one ICMP echo to 192\.0\.2\.1 bound to'
        $h[0].Reason | Should -Match 'the peer receives and answers'
    }

    It 'Test-WgHandshake on the client: a fresh session whose packets are dropped on the way is OneWay' {
        # the router drops what the client sends to the server, sessions kept: the handshake stays fresh
        $rule = "table inet wgq_oneway {`n chain forward {`n  type filter hook forward priority -10; policy accept;`n  iifname `"rt-client`" udp dport $($lab.Server.ListenPort) drop`n }`n}`n"
        (Invoke-WgLabCommand -Lab $lab -Node router -Command 'nft', '-f', '-' -StandardInput $rule -PassThru).ExitCode | Should -Be 0
        try {
            Test-WgLabPing -Lab $lab -From client -To $lab.Server.TunnelAddress -Count 1 | Should -BeFalse   # the symptom
            $h = @(Invoke-Child client { param($if) Test-WgHandshake -Interface $if -SampleSeconds 2 } -ArgumentList $lab.Client.Interface)
            $h[0].Status | Should -Be 'Healthy' -Because $h[0].Reason
            $h[0].OneWay | Should -BeTrue -Because $h[0].Reason
            $h[0].Reason | Should -Match 'nothing came back'
        }
        finally {
            Lab router 'nft', 'delete', 'table', 'inet', 'wgq_oneway' | Out-Null
            $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 10
        }
    }
}
