# The main job in the lab: Invoke-WgDiagnosis finds each fault on the side where it can be seen,
# Repair-WgIssue makes the tunnel carry traffic again (and a second run finds nothing to repair),
# a repair that does not verify is rolled back, Invoke-WgRemediation runs by policy with exit codes,
# findings survive remoting's serialization, and no key ever appears in findings, results or reports.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    Import-Module $env:WGT_MODULE -Force   # the format views, for the deserialized objects
    function Invoke-Child([string] $Node, [string] $Script) {
        $r = Invoke-WgLabPwsh -Lab $lab -Node $Node -Script $Script -AsResult -TimeoutSeconds 240
        if ($r.Failure) { throw "child failed in ${Node}: $($r.Failure.Exception.Message ?? $r.Failure)" }
        $script:LastCliXml += $r.CliXml
        $r.Output
    }
    function Assert-NoSecret([string] $Text) {
        $secrets = @(Get-WgLabSecret -Lab $lab)
        $secrets.Count | Should -BeGreaterThan 0 -Because 'a scan for no secrets proves nothing'
        foreach ($s in $secrets) { $Text.Contains($s) | Should -Be $false -Because 'no private or preshared key may appear' }
    }
    $script:LastCliXml = ''
}

Describe 'Invoke-WgDiagnosis and Repair-WgIssue in the lab' -Tag Lab -Skip:$LabUnavailable {
    AfterEach {
        if ($lab) { Assert-NoSecret $script:LastCliXml; Remove-WgLab -Lab $lab }
        $script:LastCliXml = ''
    }

    It 'finds nothing above Info on either side of a healthy tunnel' {
        $lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        foreach ($node in 'client', 'server') {
            $f = @(Invoke-Child $node 'Invoke-WgDiagnosis')
            $f.Count | Should -BeGreaterThan 0
            @($f | Where-Object Severity -ne 'Info') | Should -BeNullOrEmpty -Because ($f | Out-String)
            $f[0].Cause | Should -Be 'Healthy'
            $f[0].PSObject.TypeNames | Should -Contain 'Deserialized.WgTroubleshoot.Finding'
        }
    }

    It 'diagnoses <Fault> on the <Node> as <Cause>, repairs it, and a second run has nothing to repair' -ForEach @(
        @{ Fault = 'FirewallBlocksPort'; Node = 'server'; Cause = 'FirewallBlocksPort'; Check = 'handshake' }
        @{ Fault = 'TcpOnlyFirewallRule'; Node = 'server'; Cause = 'TcpOnlyFirewallRule'; Check = 'handshake' }
        @{ Fault = 'ForwardingDisabled'; Node = 'server'; Cause = 'ForwardingDisabled'; Check = 'internet' }
        @{ Fault = 'NatMissing'; Node = 'server'; Cause = 'NatMissing'; Check = 'internet' }
        @{ Fault = 'StaleDnsEndpoint'; Node = 'client'; Cause = 'StaleEndpoint'; Check = 'handshake'; HostName = $true }
        @{ Fault = 'MtuBlackhole'; Node = 'client'; Cause = 'MtuBlackhole'; Check = 'fullsize'; Deep = $true }
    ) {
        $lab = New-WgLab -EndpointHostName:([bool]$HostName)
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        Add-WgLabFault -Lab $lab -Fault $Fault
        $deepArg = if ($Deep) { '-Deep' } else { '' }
        $f = @(Invoke-Child $Node "Invoke-WgDiagnosis $deepArg")
        $f[0].Cause | Should -Be $Cause -Because ($f | Format-List | Out-String)
        $f[0].Severity | Should -BeIn 'Error', 'Warning'
        $f[0].CanRepair | Should -BeTrue
        $f[0].Evidence | Should -Not -BeNullOrEmpty
        $f[0].Remediation | Should -Match '^(Add-WgFirewallRule|Enable-WgForwarding|Update-WgEndpoint|Set-WgMtu) '

        $r = @(Invoke-Child $Node "Invoke-WgDiagnosis $deepArg | Repair-WgIssue -Confirm:`$false")
        $fix = $r | Where-Object Cause -eq $Cause | Select-Object -First 1
        $fix.Changed | Should -BeTrue -Because ($r | Format-List | Out-String)
        $fix.Verified | Should -BeTrue -Because ($r | Format-List | Out-String)
        $fix.RolledBack | Should -BeFalse
        $fix.PSObject.TypeNames | Should -Contain 'Deserialized.WgTroubleshoot.RepairResult'

        switch ($Check) {
            'handshake' { Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 30 | Should -BeTrue }
            'internet' { Test-WgLabPing -Lab $lab -From client -To 192.0.2.130 -Count 2 -TimeoutSeconds 3 | Should -BeTrue }
            # A full-size packet at the repaired MTU (1340 = 1400 - 60): 1312 bytes of ICMP payload + 28 of headers.
            # At the old MTU (1420) WireGuard pads it to 1344 and the 1400-byte path drops it.
            'fullsize' { Test-WgLabPing -Lab $lab -From client -To 192.0.2.1 -Size 1312 -DontFragment -Count 2 -TimeoutSeconds 3 | Should -BeTrue }
        }
        $again = @(Invoke-Child $Node "Invoke-WgDiagnosis $deepArg | Where-Object { `$_.CanRepair -and `$_.Severity -ne 'Info' }")
        $again | Should -BeNullOrEmpty -Because ($again | Format-List | Out-String)
    }

    It 'diagnoses <Fault> on the <Node> as <Cause>, which needs a human' -ForEach @(
        @{ Fault = 'WrongEndpointPort'; Node = 'client'; Cause = 'EndpointUnreachable' }
        @{ Fault = 'KeyMismatch'; Node = 'server'; Cause = 'KeyMismatch' }
    ) {
        $lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        Add-WgLabFault -Lab $lab -Fault $Fault
        $f = @(Invoke-Child $Node 'Invoke-WgDiagnosis')
        $f[0].Cause | Should -Be $Cause -Because ($f | Format-List | Out-String)
        $f[0].Severity | Should -Be 'Error'
        $f[0].CanRepair | Should -BeFalse
        $r = @(Invoke-Child $Node 'Invoke-WgDiagnosis | Repair-WgIssue -Confirm:$false')
        $mine = @($r | Where-Object Cause -eq $Cause)
        $mine.Count | Should -Be 1 -Because ($r | Format-List | Out-String)
        $mine[0].Changed | Should -Be $false
        $mine[0].Error | Should -Match "needs a human"
    }

    It 'compares both ends with -PeerConfigPath: <Fault> is <Cause>' -ForEach @(
        @{ Fault = 'KeyMismatch'; Cause = 'KeyMismatch' }
        @{ Fault = 'AllowedIpsMismatch'; Cause = 'AllowedIpsMismatch' }
    ) {
        $lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        Add-WgLabFault -Lab $lab -Fault $Fault
        # The client's file, as the admin would copy it next to the server's.
        $f = @(Invoke-Child server "Invoke-WgDiagnosis -PeerConfigPath '$($lab.Client.HostConfigPath)'")
        $f[0].Cause | Should -Be $Cause -Because ($f | Format-List | Out-String)
        @($f | Where-Object { $_.Cause -eq $Cause -and $_.Id -like 'WG2*' }).Count | Should -BeGreaterThan 0
    }

    It 'rolls a repair back when it does not verify, leaving the system as it was' {
        $lab = New-WgLab -EndpointHostName
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        Add-WgLabFault -Lab $lab -Fault StaleDnsEndpoint
        # The name now points at an address where nothing answers: re-resolving cannot fix the tunnel.
        $hosts = "/etc/netns/$($lab.Namespaces.client)/hosts"
        Set-Content -LiteralPath $hosts -Value "127.0.0.1 localhost`n203.0.113.9 vpn.example.test"
        $cfg = $lab.Client.HostConfigPath
        $hashBefore = (Get-FileHash $cfg).Hash
        $before = Invoke-WgLabCommand -Lab $lab -Node client -Command 'sh', '-c', "wg show $($lab.Client.Interface) endpoints; ip -o link show dev $($lab.Client.Interface); nft list ruleset"

        $r = @(Invoke-Child client 'Invoke-WgDiagnosis | Where-Object Cause -eq StaleEndpoint | Repair-WgIssue -Confirm:$false')
        $r.Count | Should -Be 1
        $r[0].Changed | Should -BeTrue
        $r[0].Verified | Should -BeFalse
        $r[0].RolledBack | Should -BeTrue -Because ($r | Format-List | Out-String)
        $r[0].Error | Should -Match 'rolled back'

        $after = Invoke-WgLabCommand -Lab $lab -Node client -Command 'sh', '-c', "wg show $($lab.Client.Interface) endpoints; ip -o link show dev $($lab.Client.Interface); nft list ruleset"
        $after | Should -Be $before
        (Get-FileHash $cfg).Hash | Should -Be $hashBefore
    }
}

Describe 'Invoke-WgRemediation in the lab' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        $lab = New-WgLab -EndpointHostName
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) "wgt-rem-$($lab.Id)"
        $null = New-Item -ItemType Directory -Force $dir
        # The shipped example, pointed at the lab's server interface and a state file of its own.
        $example = Get-Content -Raw (Join-Path $env:WGT_ROOT 'examples/remediation-policy.yaml')
        # The lab has one server interface: keep the example's wg0 entry, drop its second (wg1) one.
        $example = $example.Substring(0, $example.IndexOf('  # A site-to-site link'))
        $policy = Join-Path $dir 'policy.yaml'
        $example.Replace('/var/lib/wgtroubleshoot/state.json', (Join-Path $dir 'state.json')).Replace('  wg0:', "  $($lab.Server.Interface):") |
            Set-Content -LiteralPath $policy
        $bad = Join-Path $dir 'bad.yaml'
        Set-Content -LiteralPath $bad -Value "interfaces:`n  $($lab.Server.Interface):`n    allowedRepairs: [Firewall`n    mtu: nope`n"
        # A policy of one interface with the given keys, a state file of its own and room for repairs.
        function New-Policy([string] $Name, [string] $Interface, [string[]] $Keys) {
            $p = Join-Path $dir "$Name.yaml"
            $text = "stateFile: $(Join-Path $dir "$Name.state.json")`ninterfaces:`n  ${Interface}:`n" + (($Keys + 'maxRepairsPerHour: 10' | ForEach-Object { "    $_" }) -join "`n") + "`n"
            Set-Content -LiteralPath $p -Value $text
            $p
        }
        # Runs the policy unattended on the node: the report and the exit code.
        function Invoke-Policy([string] $Node, [string] $Path) {
            $out = @(Invoke-Child $Node "Invoke-WgRemediation -Policy '$Path' -Confirm:`$false -WarningAction SilentlyContinue; `$LASTEXITCODE")
            [pscustomobject]@{ Report = $out[0]; Code = $out[-1]; Text = ($out[0].Interfaces | Format-List * | Out-String) + ($out[0].Interfaces.Findings | Format-List Cause, Severity, Summary | Out-String) }
        }
        function Get-Sysctl([string] $Key) { (Invoke-WgLabCommand -Lab $lab -Node server -Command 'sysctl', '-n', $Key).Trim() }
    }
    AfterAll {
        Remove-WgLab -Lab $lab
        Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue
    }

    It 'repairs a broken tunnel with exit code 2, then reports healthy with 0' {
        Add-WgLabFault -Lab $lab -Fault FirewallBlocksPort
        # -WhatIf first: it says what it would run and changes nothing.
        $rules = Invoke-WgLabCommand -Lab $lab -Node server -Command 'nft', 'list', 'ruleset'
        $w = @(Invoke-Child server "Invoke-WgRemediation -Policy '$policy' -WhatIf; `$LASTEXITCODE")
        $w[-1] | Should -Be 3
        $w[0].Interfaces[0].NeedsHuman -join ' ' | Should -Match 'WhatIf: Add-WgFirewallRule -Interface'
        Invoke-WgLabCommand -Lab $lab -Node server -Command 'nft', 'list', 'ruleset' | Should -Be $rules
        Test-Path (Join-Path $dir 'state.json') | Should -BeFalse
        $report = Join-Path $dir 'report.yaml'
        $r = @(Invoke-Child server "Invoke-WgRemediation -Policy '$policy' -ReportPath '$report' -Confirm:`$false; `$LASTEXITCODE")
        $r[-1] | Should -Be 2 -Because (($r[0] | Format-List * | Out-String) + ($r[0].Interfaces | Format-List * | Out-String) + ($r[0].Interfaces.Findings | Format-List * | Out-String))
        $r[0].Outcome | Should -Be 'Repaired'
        Test-Path $report | Should -BeTrue
        $text = Get-Content -Raw $report
        $text | Should -Match 'outcome: Repaired'
        $text | Should -Match 'FirewallBlocksPort'
        Assert-NoSecret $text
        ([System.IO.File]::GetUnixFileMode($report) -band [System.IO.UnixFileMode]'GroupRead, OtherRead') | Should -Be 0
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 30 | Should -BeTrue

        $r2 = @(Invoke-Child server "Invoke-WgRemediation -Policy '$policy' -ReportPath '$report' -Confirm:`$false; `$LASTEXITCODE")
        $r2[-1] | Should -Be 0 -Because ($r2[0].Interfaces | Format-List * | Out-String)
        $r2[0].Outcome | Should -Be 'Healthy'
    }

    It 'rejects a malformed policy with the error code, the YAML position, and changes nothing' {
        Add-WgLabFault -Lab $lab -Fault FirewallBlocksPort
        $before = Invoke-WgLabCommand -Lab $lab -Node server -Command 'nft', 'list', 'ruleset'
        $res = Invoke-WgLabPwsh -Lab $lab -Node server -AsResult -Script "Invoke-WgRemediation -Policy '$bad' -Confirm:`$false -ErrorAction Continue; `$LASTEXITCODE"
        $res.Output[-1] | Should -Be 1
        $res.Output[0].Outcome | Should -Be 'Error'
        $res.Errors[0].FullyQualifiedErrorId | Should -BeLike 'WgPolicyInvalid*'
        "$($res.Errors[0].Exception.Message)" | Should -Match 'line \d+, column \d+'
        Invoke-WgLabCommand -Lab $lab -Node server -Command 'nft', 'list', 'ruleset' | Should -Be $before
        Remove-WgLabFault -Lab $lab -Fault FirewallBlocksPort
    }

    It 'keeps findings and results usable after remoting serialization (an out-of-process job)' {
        $out = @(Invoke-Child server @"
`$m = '$($env:WGT_MODULE)'
`$j = Start-Job -ScriptBlock { Import-Module `$using:m; Invoke-WgDiagnosis }
`$f = @(Receive-Job -Job `$j -Wait -AutoRemoveJob)
[pscustomobject]@{
    TypeName = `$f[0].PSObject.TypeNames[0]
    Count = `$f.Count
    Info = @(`$f | Where-Object Severity -eq Info).Count
    Table = (`$f | Format-Table | Out-String -Width 200)
    WhatIf = (`$f | Repair-WgIssue -WhatIf *>&1 | Out-String)
    # A deserialized finding made repairable (InterfaceDown for an interface that is up): it goes through the
    # repair table and the link remedy, which finds nothing to change.
    Down = @(`$f[0] | Select-Object @{ n = 'Cause'; e = { 'InterfaceDown' } }, Interface, @{ n = 'Severity'; e = { 'Error' } }, @{ n = 'CanRepair'; e = { `$true } }, @{ n = 'RepairData'; e = { @("Interface=`$(`$_.Interface)") } } |
        Repair-WgIssue -Confirm:`$false -WarningAction SilentlyContinue)
    Interface = `$f[0].Interface
}
"@)
        $out[0].TypeName | Should -Be 'Deserialized.WgTroubleshoot.Finding'
        $out[0].Info | Should -Be $out[0].Count
        $out[0].Table | Should -Match 'Severity\s+Interface\s+Cause'
        $out[0].WhatIf | Should -Not -Match 'Exception' -Because $out[0].WhatIf
        @($out[0].Down).Count | Should -Be 1
        $out[0].Down[0].Action | Should -Be "ip link set dev $($out[0].Interface) up"
        $out[0].Down[0].Changed | Should -Be $false
    }

    Context 'each policy key changes what an unattended run does' {
        It 'maxHandshakeAgeSeconds: a handshake older than the limit counts as down (exit 3), the default limit does not (exit 0)' {
            $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 20
            $lenient = Invoke-Policy server (New-Policy 'age180' $lab.Server.Interface @('maxHandshakeAgeSeconds: 180', 'allowedRepairs: []'))
            $lenient.Code | Should -Be 0 -Because $lenient.Text
            Start-Sleep -Seconds 2
            $strict = Invoke-Policy server (New-Policy 'age1' $lab.Server.Interface @('maxHandshakeAgeSeconds: 1', 'allowedRepairs: []'))
            $strict.Code | Should -Be 3 -Because $strict.Text
            ($strict.Report.Interfaces[0].NeedsHuman -join ' ') | Should -Match 'maxHandshakeAgeSeconds \(1\)'
        }

        It 'firewallPort: a port other than the one WireGuard listens on is NeedsHuman' {
            $ok = Invoke-Policy server (New-Policy 'port-ok' $lab.Server.Interface @("firewallPort: $($lab.Server.ListenPort)", 'allowedRepairs: []'))
            $ok.Code | Should -Be 0 -Because $ok.Text
            $wrong = Invoke-Policy server (New-Policy 'port-wrong' $lab.Server.Interface @("firewallPort: $($lab.Server.ListenPort + 1)", 'allowedRepairs: []'))
            $wrong.Code | Should -Be 3 -Because $wrong.Text
            ($wrong.Report.Interfaces[0].NeedsHuman -join ' ') | Should -Match "firewallPort is $($lab.Server.ListenPort + 1)"
        }

        It 'forwarding: false leaves forwarding off as wanted (exit 0); forwarding: true turns it on (exit 2)' {
            Add-WgLabFault -Lab $lab -Fault ForwardingDisabled
            try {
                $off = Invoke-Policy server (New-Policy 'fwd-off' $lab.Server.Interface @('forwarding: false', 'allowedRepairs: [Forwarding]'))
                $off.Code | Should -Be 0 -Because $off.Text
                @($off.Report.Interfaces[0].Repairs).Count | Should -Be 0
                Get-Sysctl net.ipv4.ip_forward | Should -Be '0'
                $on = Invoke-Policy server (New-Policy 'fwd-on' $lab.Server.Interface @('forwarding: true', 'allowedRepairs: [Forwarding]'))
                $on.Code | Should -Be 2 -Because $on.Text
                Get-Sysctl net.ipv4.ip_forward | Should -Be '1'
            }
            finally { Remove-WgLabFault -Lab $lab -Fault ForwardingDisabled }
        }

        It 'nat: false leaves the missing masquerade as wanted (exit 0); nat: true repairs it (exit 2)' {
            Add-WgLabFault -Lab $lab -Fault NatMissing
            try {
                Test-WgLabPing -Lab $lab -From client -To 192.0.2.130 -Count 1 -TimeoutSeconds 2 | Should -Be $false
                $no = Invoke-Policy server (New-Policy 'nat-off' $lab.Server.Interface @('nat: false', 'allowedRepairs: [Nat, Forwarding]'))
                $no.Code | Should -Be 0 -Because $no.Text
                Test-WgLabPing -Lab $lab -From client -To 192.0.2.130 -Count 1 -TimeoutSeconds 2 | Should -Be $false
                $yes = Invoke-Policy server (New-Policy 'nat-on' $lab.Server.Interface @('nat: true', 'allowedRepairs: [Nat, Forwarding]'))
                $yes.Code | Should -Be 2 -Because $yes.Text
                Test-WgLabPing -Lab $lab -From client -To 192.0.2.130 -Count 2 -TimeoutSeconds 3 | Should -BeTrue
            }
            finally { Remove-WgLabFault -Lab $lab -Fault NatMissing }
        }

        It 'reresolveEndpoints: false keeps a drifted endpoint (exit 3) even with Endpoint allowed; true re-resolves it (exit 2)' {
            Add-WgLabFault -Lab $lab -Fault StaleDnsEndpoint
            try {
                $if = $lab.Client.Interface
                $endpoint = { (Invoke-WgLabCommand -Lab $lab -Node client -Command 'wg', 'show', $if, 'endpoints') }
                $stale = & $endpoint
                $no = Invoke-Policy client (New-Policy 'dns-off' $if @('reresolveEndpoints: false', 'allowedRepairs: [Endpoint]'))
                $no.Code | Should -Be 3 -Because $no.Text
                ($no.Report.Interfaces[0].NeedsHuman -join ' ') | Should -Match 'reresolveEndpoints: false'
                & $endpoint | Should -Be $stale
                $yes = Invoke-Policy client (New-Policy 'dns-on' $if @('reresolveEndpoints: true', 'allowedRepairs: []'))
                $yes.Code | Should -Be 2 -Because $yes.Text
                & $endpoint | Should -Not -Be $stale
            }
            finally { Remove-WgLabFault -Lab $lab -Fault StaleDnsEndpoint }
        }

        It 'mtu: auto measures the path MTU and repairs a blackhole (exit 2); without it the MTU is left alone (exit 0)' {
            Add-WgLabFault -Lab $lab -Fault MtuBlackhole
            try {
                $if = $lab.Client.Interface
                $mtu = { (Invoke-WgLabCommand -Lab $lab -Node client -Command 'cat', "/sys/class/net/$if/mtu").Trim() }
                $plain = Invoke-Policy client (New-Policy 'mtu-none' $if @('allowedRepairs: [Mtu]'))
                $plain.Code | Should -Be 0 -Because $plain.Text
                & $mtu | Should -Be '1420'
                $auto = Invoke-Policy client (New-Policy 'mtu-auto' $if @('mtu: auto', 'allowedRepairs: [Mtu]'))
                $auto.Code | Should -Be 2 -Because $auto.Text
                & $mtu | Should -Be '1340'
            }
            finally { Remove-WgLabFault -Lab $lab -Fault MtuBlackhole }
        }
    }
}
