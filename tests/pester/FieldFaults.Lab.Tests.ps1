# Field faults of the state the host keeps (tests/lab/Faults/Conntrack.ps1) and a check that cannot run: each
# shows its symptom with the raw tools first, then the module on the side where it shows names it. One lab for
# the file; faults are injected one after another.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
    $script:NoSetpriv = -not (Get-Command setpriv -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    function Lab([string] $Node, [string[]] $Command) { Invoke-WgLabCommand -Lab $script:lab -Node $Node -Command $Command -PassThru }
    function Assert-TcpWorks([string] $Because) {
        $r = Test-WgLabTcp -Lab $script:lab -TimeoutSeconds 10
        if (-not $r.Success) { Start-Sleep -Seconds 1; $r = Test-WgLabTcp -Lab $script:lab -TimeoutSeconds 15 }
        $r.Success | Should -BeTrue -Because "$Because ($($r.Error))"
        $r.BytesReceived | Should -Be 1048576
    }
}

Describe 'Field faults of host state: symptom first, then the Cause' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        $script:lab = New-WgLab
        Wait-WgLabHandshake -Lab $script:lab -TimeoutSeconds 15 | Should -BeTrue
    }
    AfterAll { if ($script:lab) { Remove-WgLab -Lab $script:lab } }
    AfterEach {
        foreach ($f in @($script:lab.Faults)) { try { Remove-WgLabFault -Lab $script:lab -Fault $f } catch { Write-Warning "removing $f`: $_" } }
    }

    It 'StaleConntrack: the flow keeps the old uplink address; the repair deletes that entry only and TCP flows' {
        Add-WgLabFault -Lab $lab -Fault StaleConntrack
        # a flow of another program, source-NATed the same way: the repair must leave it alone
        $null = Lab client 'conntrack', '-I', '-p', 'udp', '-s', '198.51.100.2', '-d', '192.0.2.130', '--sport', '40123', '--dport', '5353',
            '-r', '192.0.2.130', '-q', '198.51.100.3', '--reply-port-src', '5353', '--reply-port-dst', '40123', '-t', '300', '-u', 'SEEN_REPLY'
        # the symptom, with the raw tools: the mapping names an address eth0 does not have, and no handshake completes
        $ct = (Lab client 'conntrack', '-L', '-p', 'udp', '--orig-port-src', '51822').StdOut
        $ct | Should -Match 'sport=51822 dport=51820 src=203\.0\.113\.2 dst=198\.51\.100\.3 '
        (Lab client 'ip', '-br', 'addr', 'show', 'eth0').StdOut | Should -Not -Match '198\.51\.100\.3'
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 5 -Since ([DateTime]::UtcNow) | Should -BeFalse
        (Test-WgLabTcp -Lab $lab -TimeoutSeconds 5).Success | Should -BeFalse
        # the module, on the client: StaleConntrack first, with the entry and the egress link as evidence; repaired
        $out = Invoke-WgLabPwsh -Lab $lab -Node client -ArgumentList $lab.Client.Interface -TimeoutSeconds 240 -ScriptBlock {
            param($i)
            $d = @(Invoke-WgDiagnosis -Interface $i)
            [pscustomobject]@{ Kind = 'diagnosis'; Findings = $d }
            [pscustomobject]@{ Kind = 'repair'; Results = @($d | Where-Object Cause -eq 'StaleConntrack' | Select-Object -First 1 | Repair-WgIssue -Confirm:$false) }
        }
        $diag = @(($out | Where-Object Kind -eq 'diagnosis').Findings)
        $top = $diag[0]
        $top.Cause | Should -Be 'StaleConntrack' -Because ($diag | Format-List Severity, Cause, Summary | Out-String)
        $top.Severity | Should -Be 'Error'
        $top.Interface | Should -Be $lab.Client.Interface
        $top.Role | Should -Not -Be 'Server'
        @($diag | Where-Object Cause -eq 'KeyMismatch').Count | Should -Be 0
        ($top.Evidence -join ' ') | Should -Match 'conntrack: udp .*sport=51822 dport=51820 .*dst=198\.51\.100\.3'
        ($top.Evidence -join ' ') | Should -Match 'leaves by eth0 .*whose addresses are 198\.51\.100\.2'
        $top.RepairData | Should -Contain 'OrigSport=51822'
        @($diag | Where-Object { $_.Cause -eq 'StaleConntrack' -and ($_.Evidence -join ' ') -match 'sport=40123' }).Count | Should -Be 0 -Because 'the other flow is not WireGuard''s'
        $rep = @(($out | Where-Object Kind -eq 'repair').Results)
        $rep.Count | Should -Be 1
        $rep[0].Verified | Should -BeTrue -Because "the repair verifies ($($rep[0].Error))"
        # only that entry went: the other flow is still there, the WireGuard flow has a fresh mapping to the new address
        (Lab client 'conntrack', '-L', '-p', 'udp', '--orig-port-src', '40123').StdOut | Should -Match 'dport=5353'
        (Lab client 'conntrack', '-L', '-p', 'udp', '--orig-port-src', '51822').StdOut | Should -Not -Match 'dst=198\.51\.100\.3 '
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
        Assert-TcpWorks 'TCP flows after the stale entry is deleted'
        $null = Lab client 'conntrack', '-D', '-p', 'udp', '--orig-port-src', '40123'
    }

    It 'CheckNotRun: nft is there but cannot run, the port is blocked: the finding above Info names the checks' -Skip:$NoSetpriv {
        Add-WgLabFault -Lab $lab -Fault FirewallBlocksPort
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 4 -Since ([DateTime]::UtcNow) | Should -BeFalse
        # nft first on PATH runs the real one without CAP_NET_ADMIN (as in a container that lacks it)
        $bin = Join-Path ([System.IO.Path]::GetTempPath()) ('wgb' + [Guid]::NewGuid().ToString('N').Substring(0, 6))
        $null = New-Item -ItemType Directory $bin
        try {
            $nft = (Get-Command nft -CommandType Application | Select-Object -First 1).Source
            Set-Content -LiteralPath (Join-Path $bin 'nft') -Value "#!/bin/sh`nexec setpriv --bounding-set -net_admin --inh-caps -net_admin '$nft' `"`$@`"`n"
            [System.IO.File]::SetUnixFileMode((Join-Path $bin 'nft'), [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute, GroupRead, GroupExecute, OtherRead, OtherExecute')
            $envPath = @{ PATH = "$bin`:$env:PATH" }
            $probe = Invoke-WgLabPwsh -Lab $lab -Node server -Environment $envPath -AsResult -ScriptBlock { (Get-Command nft).Source; & nft list ruleset 2>&1 | Out-String; $LASTEXITCODE }
            $probe.Output[0] | Should -Be (Join-Path $bin 'nft')
            $probe.Output[2] | Should -Not -Be 0 -Because "nft cannot run there: $($probe.Output[1])"
            $f = @(Invoke-WgLabPwsh -Lab $lab -Node server -Environment $envPath -TimeoutSeconds 240 -ScriptBlock { Invoke-WgDiagnosis })
        }
        finally { Remove-Item -LiteralPath $bin -Recurse -Force -ErrorAction SilentlyContinue }
        $above = @($f | Where-Object Severity -ne 'Info')
        $above.Count | Should -BeGreaterThan 0 -Because 'a check that could not run is never a silent "no fault found"'
        @($f | Where-Object Cause -eq 'Healthy').Count | Should -Be 0
        $n = @($above | Where-Object Cause -eq 'CheckNotRun')
        $n.Count | Should -BeGreaterThan 0 -Because ($f | Format-List Severity, Cause, Summary | Out-String)
        $n[0].Severity | Should -Be 'Warning'
        $n[0].Summary | Should -Match 'FirewallInput'
        ($n[0].Evidence -join ' ') | Should -Match 'Source netfilter: .*nft list ruleset'
        ($f.Evidence -join ' ') | Should -Not -Match 'No local firewall blocks the port' -Because 'the firewall was not read'
        # the same host with nft able to run names the fault itself
        $g = @(Invoke-WgLabPwsh -Lab $lab -Node server -TimeoutSeconds 240 -ScriptBlock { Invoke-WgDiagnosis })
        $g[0].Cause | Should -Be 'FirewallBlocksPort' -Because ($g | Format-List Severity, Cause, Summary | Out-String)
    }
}
