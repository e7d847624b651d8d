# Faults of the tunnel's own path (tests/lab/Faults/Mtu.ps1 and Subnet.ps1): a routing server that does not
# clamp the TCP MSS in front of a smaller link, and a client whose local LAN uses the remote LAN's subnet.
# Each shows its symptom with the raw tools before the module looks, then the module names the Cause on the
# side where it shows, with the deciding SYN/route in the evidence; the MSS clamp is repaired and verified with
# a full-size TCP transfer. The healthy lab gets neither finding, with SYNs crossing the tunnel while it looks.
# One lab for the whole file; faults are injected one after another.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    # A full-size transfer from the host beyond the server to the client (the direction an MSS decides).
    function Test-Download($Lab, [int] $Bytes = 1048576, [int] $TimeoutSeconds = 8) {
        Test-WgLabTcp -Lab $Lab -From inet -Node client -To $Lab.Client.TunnelAddress -Bytes $Bytes -TimeoutSeconds $TimeoutSeconds
    }
    function Invoke-Diagnosis($Lab, [string] $Node, [switch] $Deep, [switch] $Repair, [string] $Cause) {
        $if = if ($Node -eq 'client') { $Lab.Client.Interface } else { $Lab.Server.Interface }
        $out = Invoke-WgLabPwsh -Lab $Lab -Node $Node -ArgumentList $if, ([bool]$Deep), ([bool]$Repair), $Cause -TimeoutSeconds 280 -ScriptBlock {
            param($i, $deep, $repair, $cause)
            $d = @(Invoke-WgDiagnosis -Interface $i -Deep:$deep)
            [pscustomobject]@{ Kind = 'diagnosis'; Findings = $d }
            if ($repair) { [pscustomobject]@{ Kind = 'repair'; Results = @($d | Where-Object Cause -eq $cause | Select-Object -First 1 | Repair-WgIssue -Confirm:$false) } }
        }
        [pscustomobject]@{
            Findings = @(($out | Where-Object Kind -eq 'diagnosis').Findings)
            Repair   = @(($out | Where-Object Kind -eq 'repair').Results)
        }
    }
    function Show([object[]] $Findings) { ($Findings | ForEach-Object { "$($_.Severity) $($_.Cause)" }) -join '; ' }
}

Describe 'Tunnel path faults: MSS clamp and local subnet conflict' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        $lab = New-WgLab
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
    }
    AfterAll {
        try {
            if ($lab) { foreach ($f in @($lab.Faults)) { try { Remove-WgLabFault -Lab $lab -Fault $f } catch { Write-Warning "removing $f`: $_" } } }
        }
        finally { if ($lab) { Remove-WgLab -Lab $lab }; $lab = $null }
    }
    AfterEach {
        foreach ($f in @($lab.Faults)) { try { Remove-WgLabFault -Lab $lab -Fault $f } catch { Write-Warning "removing $f`: $_" } }
    }

    It 'registers both faults with their side and symptom' {
        $f = @(Get-WgLabFault | Where-Object Name -In 'MssClampMissing', 'LocalSubnetConflict')
        $f.Count | Should -Be 2
        ($f | Where-Object Name -eq 'MssClampMissing').Side | Should -Be 'server'
        ($f | Where-Object Name -eq 'LocalSubnetConflict').Side | Should -Be 'client'
        foreach ($x in $f) { $x.Symptom.Length | Should -BeGreaterThan 80 }
    }

    It 'healthy: TCP through the tunnel, and neither finding on the server (-Deep, with SYNs crossing) nor on the client' {
        $r = Test-WgLabTcp -Lab $lab -TimeoutSeconds 10
        $r.Success | Should -BeTrue -Because "the healthy lab carries TCP ($($r.Error))"
        # SYNs cross the tunnel while the server looks: a TCP connection from the client every 0.3 s
        $psi = [System.Diagnostics.ProcessStartInfo]::new('ip')
        foreach ($a in 'netns', 'exec', $lab.Namespaces.client, 'timeout', '120', 'sh', '-c',
            "while [ -e /run/netns/$($lab.Namespaces.client) ]; do socat -T1 /dev/null TCP:$($lab.InternetHost):9,connect-timeout=1 2>/dev/null; sleep 0.3; done") { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $loop = [System.Diagnostics.Process]::Start($psi)
        try {
            $snap = "/tmp/wga-$($lab.Id)-healthy.json"
            $d = Invoke-WgLabPwsh -Lab $lab -Node server -ArgumentList $lab.Server.Interface, $snap -TimeoutSeconds 240 -ScriptBlock {
                param($i, $p) @(Invoke-WgDiagnosis -Interface $i -Deep -SnapshotPath $p)
            }
            $json = Get-Content -Raw $snap | ConvertFrom-Json
            Remove-Item -LiteralPath $snap -ErrorAction SilentlyContinue
        }
        finally {
            # the PID is `timeout` (ip netns exec execs it): TERM ends it and its loop
            if (-not $loop.HasExited) { $null = & kill -TERM $loop.Id }
            $null = $loop.WaitForExit(5000); $loop.Dispose()
        }
        $syns = @($json.Interfaces[0].Syns.Syns)
        ($syns | Measure-Object Count -Sum).Sum | Should -BeGreaterThan 0 -Because 'the check had SYNs to judge'
        $syns[0].Mss | Should -Be 1380
        @($d | Where-Object Cause -in 'MssClampMissing', 'LocalSubnetConflict').Count | Should -Be 0 -Because "healthy server: $(Show $d)"
        @($d | Where-Object { $_.Severity -in 'Warning', 'Error' }).Count | Should -Be 0 -Because "healthy server: $(Show $d)"
        $c = (Invoke-Diagnosis $lab client).Findings
        @($c | Where-Object Cause -in 'MssClampMissing', 'LocalSubnetConflict').Count | Should -Be 0 -Because "healthy client: $(Show $c)"
    }

    It 'MssClampMissing: small TCP passes and a full-size download stalls; -Deep on the server names it; the clamp repair verifies and 1 MiB flows' {
        Add-WgLabFault -Lab $lab -Fault MssClampMissing
        # the server forwards IPv6 too (its tunnel has 2001:db8:100::1/64): the clamp must cover IPv6 as well
        $null = Invoke-WgLabCommand -Lab $lab -Node server -Command 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1'
        try {
        # the symptom, before the module looks
        Test-WgLabPing -Lab $lab -To $lab.InternetHost -Count 2 | Should -BeTrue -Because 'ping through the server works'
        # small: one segment below any MSS
        $small = Test-Download $lab -Bytes 1000
        $small.Success | Should -BeTrue -Because "small TCP works ($($small.Error))"
        $full = Test-Download $lab -TimeoutSeconds 6
        $full.Success | Should -BeFalse -Because 'a full-size transfer stalls'
        $full.BytesReceived | Should -Be 0

        $res = Invoke-Diagnosis $lab server -Deep -Repair -Cause MssClampMissing
        $top = $res.Findings[0]
        $top.Cause | Should -Be 'MssClampMissing' -Because "the top finding on the server ($(Show $res.Findings))"
        $top.Severity | Should -Be 'Warning'
        $link = $lab.FaultState['MssClampMissing'].Link
        $ev = $top.Evidence -join "`n"
        $ev | Should -Match 'with MSS 1380'
        $ev | Should -Match "forwarded out of $link"
        $ev | Should -Match 'MTU 1400 \(link\)'
        $ev | Should -Match 'an MSS up to 1360 fits'
        $ev | Should -Match 'No MSS clamp rule'
        $ev | Should -Match 'carries IPv6 \(address 2001:db8:100::1/64\) and net\.ipv6\.conf\.all\.forwarding = 1'
        $top.RepairData | Should -Contain 'IPv6=true'
        $top.CanRepair | Should -BeTrue
        @($res.Findings | Where-Object Cause -eq 'KeyMismatch').Count | Should -Be 0

        $rep = $res.Repair
        $rep.Count | Should -Be 1
        $rep[0].Verified | Should -BeTrue -Because "the repair verifies ($($rep[0].Error); $($rep[0].After))"
        $rep[0].Before | Should -Match 'MSS'
        $rep[0].UndoCommands | Should -Not -BeNullOrEmpty
        $after = Test-Download $lab -TimeoutSeconds 15
        $after.Success | Should -BeTrue -Because "1 MiB flows after the clamp ($($after.Error))"
        $after.BytesReceived | Should -Be 1048576
        (Test-WgLabTcp -Lab $lab -TimeoutSeconds 15).Success | Should -BeTrue -Because 'TCP to the host beyond works the other way too'
        # the clamp is in the live ruleset, and a new -Deep diagnosis no longer finds it
        $rules = Invoke-WgLabCommand -Lab $lab -Node server -Command 'nft', 'list', 'ruleset'
        $rules | Should -Match 'tcp option maxseg size set rt mtu'
        # in the inet table, with no family match: the same rules see IPv6
        $rules | Should -Match 'table inet wgtroubleshoot_mss'
        $rules | Should -Not -Match 'nfproto ipv4 tcp flags syn / syn,rst tcp option maxseg size set rt mtu'
        $again = (Invoke-Diagnosis $lab server -Deep).Findings
        @($again | Where-Object Cause -eq 'MssClampMissing').Count | Should -Be 0 -Because "clamped now ($(Show $again))"
        }
        finally { $null = Invoke-WgLabCommand -Lab $lab -Node server -Command 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=0' }
    }

    It 'LocalSubnetConflict: the route to the remote LAN leaves by the local LAN; the client names it, report only' {
        (Test-WgLabTcp -Lab $lab -TimeoutSeconds 10).Success | Should -BeTrue -Because 'healthy before the fault'
        Add-WgLabFault -Lab $lab -Fault LocalSubnetConflict
        $lan = $lab.FaultState['LocalSubnetConflict'].Link
        # the symptom, before the module looks
        $route = Invoke-WgLabCommand -Lab $lab -Node client -Command 'ip', 'route', 'get', $lab.InternetHost
        $route | Should -Match "dev $lan"
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress -Count 1 | Should -BeTrue -Because 'the tunnel itself works'
        Test-WgLabPing -Lab $lab -To $lab.InternetHost -Count 1 -TimeoutSeconds 2 | Should -BeFalse -Because 'the remote LAN does not answer'
        (Test-WgLabTcp -Lab $lab -TimeoutSeconds 5).Success | Should -BeFalse -Because 'TCP to the remote LAN fails'

        $d = (Invoke-Diagnosis $lab client).Findings
        $top = $d[0]
        $top.Cause | Should -Be 'LocalSubnetConflict' -Because "the top finding on the client ($(Show $d))"
        $top.Severity | Should -Be 'Error'
        $top.Peer | Should -Be $lab.Server.PublicKey
        ($top.Evidence -join "`n") | Should -Match ([regex]::Escape('`ip route get 192.0.2.129`') + ".*dev $lan")
        ($top.Evidence -join "`n") | Should -Match ([regex]::Escape('AllowedIPs 192.0.2.128/25 is inside 192.0.2.128/25 (192.0.2.140/25 on ') + $lan)
        $top.CanRepair | Should -BeFalse

        Remove-WgLabFault -Lab $lab -Fault LocalSubnetConflict
        (Test-WgLabTcp -Lab $lab -TimeoutSeconds 10).Success | Should -BeTrue -Because 'the lab is healthy again without the LAN'
    }
}
