# Diagnosis over real PowerShell remoting (SSH): sshd in the lab namespaces with the pinned pwsh as its
# powershell subsystem (tests/lab/WgLabRemote.psm1). One lab for the whole file.
BeforeDiscovery {
    $script:CanRun = -not $IsWindows -and ((id -u) -eq '0') -and (Test-Path /usr/sbin/sshd) -and
        @('wireguard-go', 'wg', 'ip', 'nft', 'ssh', 'ssh-keygen', 'tcpdump', 'conntrack').Where({ -not (Get-Command $_ -CommandType Application -ErrorAction SilentlyContinue) }).Count -eq 0
}

Describe 'Remote diagnosis over SSH' -Tag Lab -Skip:(-not $CanRun) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot '../lab/WgLabRemote.psm1') -Force
        $script:Lab = New-WgLabRemote
        $script:Ssh = @{}
        foreach ($n in 'client', 'server', 'inet') { $Ssh[$n] = Get-WgLabSshParameter -Lab $Lab -Node $n }
        $script:Outputs = [System.Collections.Generic.List[string]]::new()

        # Invoke-WgDiagnosis -PeerSession run on one end against the other; every stream comes back as objects
        function Invoke-PeerDiagnosis([string] $From, [string] $To, [switch] $HostName) {
            $side = if ($From -eq 'client') { $Lab.Client } else { $Lab.Server }
            $r = Invoke-WgLabPwsh -Lab $Lab -Node $From -AllStreams -AsResult -ArgumentList $Ssh[$To], $side.Interface, [bool]$HostName -ScriptBlock {
                param($p, $if, $byName)
                if ($byName) {
                    Invoke-WgDiagnosis -Interface $if -PeerHostName $p.HostName -UserName $p.UserName -KeyFilePath $p.KeyFilePath -SshOption $p.Options -Verbose
                }
                else {
                    $s = New-PSSession @p -ErrorAction Stop
                    try { Invoke-WgDiagnosis -Interface $if -PeerSession $s -Verbose } finally { Remove-PSSession $s }
                }
            }
            $script:Outputs.Add($r.CliXml); $script:Outputs.Add($r.StdOut); $script:Outputs.Add($r.StdErr)
            if ($r.Failure) { throw "Invoke-WgDiagnosis on $From failed: $($r.Failure)" }
            @($r.Output | Where-Object { $_.PSObject.Properties['Cause'] -and $_.PSObject.Properties['Severity'] })
        }
    }
    AfterAll {
        Remove-WgLabRemote -Lab $script:Lab
    }

    It 'sees an upstream drop on the router as UpstreamFilter (Error) from either end' {
        Add-WgLabFault -Lab $Lab -Fault UpstreamDrop
        try {
            Test-WgLabPing -Lab $Lab -From client -To $Lab.Server.TunnelAddress -Count 2 | Should -BeFalse   # the symptom
            foreach ($case in @{ From = 'client'; To = 'server' }, @{ From = 'server'; To = 'client' }) {
                $f = Invoke-PeerDiagnosis @case
                $f.Count | Should -BeGreaterThan 0
                $f[0].Cause | Should -Be 'UpstreamFilter' -Because "from the $($case.From)"
                $f[0].Severity | Should -Be 'Error'
                ($f[0].Evidence -join "`n") | Should -Match 'segment: from the uplink'
                ($f[0].Evidence -join "`n") | Should -Match '198\.51\.100\.2'
            }
        }
        finally { Remove-WgLabFault -Lab $Lab -Fault UpstreamDrop }
    }

    It 'sees answers dropped on the way back as ReturnPathBlocked' {
        Add-WgLabFault -Lab $Lab -Fault ReturnPathDrop
        try {
            Test-WgLabPing -Lab $Lab -From client -To $Lab.Server.TunnelAddress -Count 2 | Should -BeFalse   # the symptom
            $f = Invoke-PeerDiagnosis -From client -To server
            $f[0].Cause | Should -Be 'ReturnPathBlocked'
            $f[0].Severity | Should -Be 'Error'
            ($f[0].Evidence -join "`n") | Should -Match 'Response'
        }
        finally { Remove-WgLabFault -Lab $Lab -Fault ReturnPathDrop }
    }

    It 'finds a key mismatch live, without any configuration file (-PeerHostName)' {
        Add-WgLabFault -Lab $Lab -Fault KeyMismatch
        try {
            Test-WgLabPing -Lab $Lab -From client -To $Lab.Server.TunnelAddress -Count 2 | Should -BeFalse
            $f = Invoke-PeerDiagnosis -From client -To server -HostName
            $f[0].Cause | Should -Be 'KeyMismatch'
            $f[0].PSComputerName | Should -Be $Ssh.server.HostName       # about the server's side
            ($f[0].Evidence -join "`n") | Should -Match ([regex]::Escape($Lab.Client.PublicKey))
        }
        finally { Remove-WgLabFault -Lab $Lab -Fault KeyMismatch }
    }

    It 'finds an AllowedIPs mismatch live, without any configuration file' {
        Add-WgLabFault -Lab $Lab -Fault AllowedIpsMismatch
        try {
            $null = Wait-WgLabHandshake -Lab $Lab -Node client -TimeoutSeconds 10
            Test-WgLabPing -Lab $Lab -From client -To $Lab.Server.TunnelAddress -Count 2 | Should -BeFalse
            $f = Invoke-PeerDiagnosis -From client -To server
            $a = @($f | Where-Object Cause -eq 'AllowedIpsMismatch')
            $a.Count | Should -Be 1
            $a[0].Severity | Should -Be 'Error'
            $a[0].Interface | Should -Be $Lab.Server.Interface
            ($a[0].Evidence -join "`n") | Should -Match '192\.0\.2\.3/32'
            $f[0].Cause | Should -Be 'AllowedIpsMismatch'
        }
        finally { Remove-WgLabFault -Lab $Lab -Fault AllowedIpsMismatch }
    }

    It 'finds a client behind NAT without keepalive, repairs it over the session, and the server then reaches the idle client' {
        Add-WgLabFault -Lab $Lab -Fault NatNoKeepalive
        try {
            Test-WgLabPing -Lab $Lab -From client -To $Lab.Server.TunnelAddress -Count 2 | Should -BeTrue   # the client starts a session
            # idle until the NAT has forgotten the client's mapping (32 s after the last packet; bounded)
            $deadline = [DateTime]::UtcNow.AddSeconds(75)
            do {
                Start-Sleep -Seconds 2
                $ct = Invoke-WgLabCommand -Lab $Lab -Node router -Command 'conntrack', '-L', '-p', 'udp', '--orig-src', $Lab.Client.Underlay -PassThru
            } while ($ct.StdOut -match 'udp' -and [DateTime]::UtcNow -lt $deadline)
            $ct.StdOut | Should -Not -Match 'udp'
            Test-WgLabPing -Lab $Lab -From server -To $Lab.Client.TunnelAddress -Count 2 | Should -BeFalse  # the symptom
            $f = Invoke-PeerDiagnosis -From server -To client
            $n = @($f | Where-Object Cause -eq 'NoKeepaliveBehindNat')
            $n.Count | Should -Be 1
            # the mapping is gone: what the server sends to it never arrives, and the NAT (not a filter) is named first
            $n[0].Severity | Should -Be 'Error'
            @($f | Where-Object Cause -eq 'UpstreamFilter').Count | Should -Be 0
            $n[0].Interface | Should -Be $Lab.Client.Interface
            $n[0].PSComputerName | Should -Be $Ssh.client.HostName
            $n[0].CanRepair | Should -BeTrue
            ($n[0].Evidence -join "`n") | Should -Match '203\.0\.113\.1:'

            $configBefore = Get-Content -Raw $Lab.Client.HostConfigPath
            $r = Invoke-WgLabPwsh -Lab $Lab -Node server -ArgumentList $Ssh.client, $n[0] -AsResult -AllStreams -ScriptBlock {
                param($p, $finding)
                $s = New-PSSession @p -ErrorAction Stop
                try {
                    $finding | Repair-WgIssue -Session $s -WhatIf
                    [pscustomobject]@{ Step = 'after-whatif'; Keepalive = (Invoke-Command -Session $s -ArgumentList $finding.Interface { param($i) wg show $i persistent-keepalive }) }
                    # a forged copy: validated by the catalog on the client, refused there, nothing changed
                    $forged = $finding | Select-Object *
                    $forged.RepairData = @('PublicKey=' + $finding.Peer, 'Keepalive=25;wg-quick down x')
                    $forged | Repair-WgIssue -Session $s -Confirm:$false -WarningAction SilentlyContinue
                    [pscustomobject]@{ Step = 'after-forged'; Keepalive = (Invoke-Command -Session $s -ArgumentList $finding.Interface { param($i) wg show $i persistent-keepalive }) }
                    $finding | Repair-WgIssue -Session $s -Confirm:$false
                }
                finally { Remove-PSSession $s }
            }
            $script:Outputs.Add($r.CliXml)
            $w = @($r.Output | Where-Object { $_.PSObject.Properties['Step'] })
            "$($w[0].Keepalive)" | Should -Match 'off'                                                      # -WhatIf changed nothing
            "$($w[1].Keepalive)" | Should -Match 'off'                                                      # the forged finding changed nothing
            $res = @($r.Output | Where-Object { $_.PSObject.Properties['Verified'] })
            $res.Count | Should -Be 2
            $res[0].Changed | Should -BeFalse
            $res[0].Error | Should -Match 'refused'
            $res[1].Verified | Should -BeTrue
            $res[1].PSComputerName | Should -Be $Ssh.client.HostName
            $res[1].Action | Should -Match 'persistent-keepalive 25'
            @($res[1].Changes | Where-Object Changed).Count | Should -Be 2                                   # live and the configuration, one transaction
            (Invoke-WgLabCommand -Lab $Lab -Node client -Command 'wg', 'show', $Lab.Client.Interface, 'persistent-keepalive') | Should -Match "`t25"
            $configAfter = Get-Content -Raw $Lab.Client.HostConfigPath
            $configAfter | Should -Match '(?m)^PersistentKeepalive = 25'
            ($configAfter -replace '(?m)^PersistentKeepalive = 25\r?\n', '') | Should -BeExactly $configBefore   # every other byte kept
            Start-Sleep -Seconds 40                                                                         # idle past the NAT's timeout again
            Test-WgLabPing -Lab $Lab -From server -To $Lab.Client.TunnelAddress -Count 2 | Should -BeTrue
        }
        finally { Remove-WgLabFault -Lab $Lab -Fault NatNoKeepalive }
    }

    It 'runs a fleet diagnosis over three hosts (New-PSSession -HostName, Invoke-Command -ThrottleLimit), an unreachable one failing alone and in bounded time, and repairs the right host' {
        $third = $Lab.Remote.Third
        Invoke-WgLabCommand -Lab $Lab -Node inet -Command 'ip', 'link', 'set', $third.Interface, 'down' | Out-Null
        $arg = @{ Hosts = @($Ssh.client.HostName, $Ssh.server.HostName, $Ssh.inet.HostName, '192.0.2.131'); Key = $Lab.Remote.KeyFile; Options = $Ssh.client.Options }
        $r = Invoke-WgLabPwsh -Lab $Lab -Node router -ArgumentList $arg -AsResult -TimeoutSeconds 240 -ScriptBlock {
            param($a)
            $sw = [Diagnostics.Stopwatch]::StartNew()
            # the documented fleet pattern (about_WgTroubleshoot)
            $sessions = New-PSSession -HostName $a.Hosts -UserName root -KeyFilePath $a.Key -Options $a.Options -ErrorAction SilentlyContinue -ErrorVariable failed
            $sessionSeconds = $sw.Elapsed.TotalSeconds
            try {
                $findings = Invoke-Command -Session $sessions -ThrottleLimit 16 -ScriptBlock { Invoke-WgDiagnosis } -ErrorAction SilentlyContinue -ErrorVariable +failed
                [pscustomobject]@{ Step = 'fleet'; Seconds = $sw.Elapsed.TotalSeconds; SessionSeconds = $sessionSeconds
                    Failed = @($failed | ForEach-Object { $t = $_.TargetObject; "$(if ($t -and $t.PSObject.Properties['ConnectionInfo']) { $t.ConnectionInfo.ComputerName } else { $t }): $($_.Exception.Message)" }); Table = ($findings | Format-Table -View Fleet | Out-String -Width 200) }
                $findings
                $findings | Where-Object Cause -eq 'InterfaceDown' | Repair-WgIssue -Session $sessions -Confirm:$false
            }
            finally { $sessions | Remove-PSSession }
        }
        $script:Outputs.Add($r.CliXml)
        if ($r.Failure) { throw "fleet run failed: $($r.Failure)" }
        $step = @($r.Output | Where-Object { $_.PSObject.Properties['Step'] })[0]
        $findings = @($r.Output | Where-Object { $_.PSObject.Properties['Cause'] -and -not $_.PSObject.Properties['Verified'] })
        $repairs = @($r.Output | Where-Object { $_.PSObject.Properties['Verified'] })

        foreach ($h in $Ssh.client.HostName, $Ssh.server.HostName, $Ssh.inet.HostName) {
            @($findings | Where-Object PSComputerName -eq $h).Count | Should -BeGreaterThan 0 -Because "$h answers"
        }
        @($step.Failed).Count | Should -Be 1
        $step.Failed[0] | Should -Match '192\.0\.2\.131'
        $step.SessionSeconds | Should -BeLessThan 30     # the unreachable host costs at most ssh's ConnectTimeout (5 s)
        $step.Seconds | Should -BeLessThan 150
        $step.Table | Should -Match 'ComputerName'
        $step.Table | Should -Match ([regex]::Escape($third.Interface))
        $down = @($findings | Where-Object Cause -eq 'InterfaceDown')
        $down.Count | Should -Be 1
        $down[0].PSComputerName | Should -Be $Ssh.inet.HostName
        $down[0].Interface | Should -Be $third.Interface
        $repairs.Count | Should -Be 1
        $repairs[0].Verified | Should -BeTrue
        $repairs[0].PSComputerName | Should -Be $Ssh.inet.HostName
        (Invoke-WgLabCommand -Lab $Lab -Node inet -Command 'ip', '-o', 'link', 'show', $third.Interface) | Should -Match '[<,]UP[,>]'
    }

    It 'gives a clear error in bounded time when the other end cannot be reached (-PeerHostName)' {
        $p = Get-WgLabSshParameter -Lab $Lab -Node server -Address '203.0.113.99'
        $r = Invoke-WgLabPwsh -Lab $Lab -Node client -AsResult -ArgumentList $p, $Lab.Client.Interface -ScriptBlock {
            param($p, $if)
            $sw = [Diagnostics.Stopwatch]::StartNew()
            try { Invoke-WgDiagnosis -Interface $if -PeerHostName $p.HostName -UserName $p.UserName -KeyFilePath $p.KeyFilePath -SshOption $p.Options -ErrorAction Stop }
            catch { [pscustomobject]@{ Id = $_.FullyQualifiedErrorId; Category = "$($_.CategoryInfo.Category)"; Message = $_.Exception.Message } }
            [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds }
        }
        $e = @($r.Output | Where-Object { $_.PSObject.Properties['Id'] })
        $e.Count | Should -Be 1
        $e[0].Id | Should -Match '^WgRemoteUnreachable'
        $e[0].Category | Should -Be 'ConnectionError'
        $e[0].Message | Should -Match '203\.0\.113\.99'
        @($r.Output | Where-Object { $_.PSObject.Properties['Seconds'] })[0].Seconds | Should -BeLessThan 45
    }

    It 'refuses to repair another host''s finding here when no session to it is given' {
        $finding = [pscustomobject]@{ Cause = 'InterfaceDown'; Interface = $Lab.Client.Interface; CanRepair = $true; Severity = 'Error'; PSComputerName = '192.0.2.250'; RepairData = @() }
        $r = Invoke-WgLabPwsh -Lab $Lab -Node client -AsResult -ArgumentList $finding -ScriptBlock { param($f) $f | Repair-WgIssue -Confirm:$false }
        @($r.Errors).Count | Should -Be 1
        "$($r.Errors[0].FullyQualifiedErrorId)" | Should -Match 'WgNoSessionForHost'
    }

    It 'lets no private or preshared key of either end cross the sessions or appear in any output' {
        $script:Outputs.Count | Should -BeGreaterThan 5
        $traffic = Get-WgLabSessionTraffic -Lab $Lab
        $traffic.Length | Should -BeGreaterThan 10000                        # the tap saw the sessions
        $traffic | Should -Match ([regex]::Escape($Lab.Client.PublicKey))   # public keys do cross (so the scan can see keys)
        $all = ($script:Outputs -join "`n") + "`n" + $traffic
        foreach ($secret in Get-WgLabSecret -Lab $Lab) {
            $all.Contains($secret) | Should -BeFalse
            $all.Contains($secret.ToUpperInvariant()) | Should -BeFalse
        }
    }
}
