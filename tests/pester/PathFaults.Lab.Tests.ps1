# Path and firewall faults (tests/lab/Faults/Path.ps1): each one shows its symptom in the lab, checked with
# the raw tools before the module looks at it, and the lab is healthy again (TCP through the tunnel) after
# it is removed. Then the module, on the side where it shows: the top finding names the Cause (never
# KeyMismatch), Repair-WgIssue verifies where the repair is safe, and TCP flows afterwards. One lab for the
# whole file; faults are injected one after another.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
    $script:NoUfw = -not (Get-Command ufw -CommandType Application -ErrorAction SilentlyContinue)
    $script:NoLegacy = -not (Get-Command iptables-legacy -CommandType Application -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    function Assert-TcpWorks($Lab, [string] $Because) {
        $r = Test-WgLabTcp -Lab $Lab -TimeoutSeconds 10
        # one more try on a loaded machine (a listener slow to start); a path that drops TCP fails both
        if (-not $r.Success) { Start-Sleep -Seconds 1; $r = Test-WgLabTcp -Lab $Lab -TimeoutSeconds 15 }
        $r.Success | Should -BeTrue -Because "$Because ($($r.Error))"
        $r.BytesReceived | Should -Be 1048576
    }
    function Assert-TcpFails($Lab, [string] $Because) {
        $r = Test-WgLabTcp -Lab $Lab -TimeoutSeconds 6
        $r.Success | Should -BeFalse -Because $Because
    }
    function Get-NewHandshake($Lab, [DateTime] $Since, [int] $Seconds = 6) {
        Wait-WgLabHandshake -Lab $Lab -TimeoutSeconds $Seconds -Since $Since
    }
    # The module's view on the side where the fault shows: the top finding must be the expected Cause, then
    # Repair-WgIssue on that finding must verify, and TCP must flow afterwards.
    function Assert-DiagnosedAndRepaired($Lab, [string] $Fault, [string] $Cause, [switch] $NoRepair) {
        $side = (Get-WgLabFault -Name $Fault).Side
        $if = if ($side -eq 'client') { $Lab.Client.Interface } else { $Lab.Server.Interface }
        $out = Invoke-WgLabPwsh -Lab $Lab -Node $side -ArgumentList $if, ([bool]$NoRepair) -TimeoutSeconds 240 -ScriptBlock {
            param($i, $noRepair)
            $d = @(Invoke-WgDiagnosis -Interface $i)
            [pscustomobject]@{ Kind = 'diagnosis'; Findings = $d }
            if (-not $noRepair) { [pscustomobject]@{ Kind = 'repair'; Results = @($d[0] | Repair-WgIssue -Confirm:$false) } }
        }
        $diag = ($out | Where-Object Kind -eq 'diagnosis').Findings
        $top = $diag[0]
        $top.Cause | Should -Be $Cause -Because "the top finding on the $side names the cause ($($diag | ForEach-Object { "$($_.Severity) $($_.Cause)" }))"
        $top.Severity | Should -BeIn 'Warning', 'Error'
        @($diag | Where-Object Cause -eq 'KeyMismatch').Count | Should -Be 0 -Because 'it is never called a key mismatch'
        $top.Evidence.Count | Should -BeGreaterThan 0
        if ($NoRepair) { $top.CanRepair | Should -BeFalse; return $top }
        $rep = @(($out | Where-Object Kind -eq 'repair').Results)
        $rep.Count | Should -BeGreaterThan 0
        $rep[0].Verified | Should -BeTrue -Because "the repair verifies ($($rep[0].Error))"
        $null = Wait-WgLabHandshake -Lab $Lab -TimeoutSeconds 15
        Assert-TcpWorks $Lab "TCP flows after the repair of $Cause"
        $top
    }
}

Describe 'Path and firewall faults: symptom, diagnosis, repair' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        $lab = New-WgLab
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
    }
    AfterAll {
        try { if ($lab) { Remove-WgLab -Lab $lab } }
        finally { $lab = $null }
    }
    AfterEach {
        # whatever failed, the next fault starts from a healthy lab
        foreach ($f in @($lab.Faults)) { try { Remove-WgLabFault -Lab $lab -Fault $f } catch { Write-Warning "removing $f`: $_" } }
    }

    It 'registers every path fault with its side and symptom' {
        $names = 'OutputDropsReplies', 'DockerForwardDrop', 'DockerForwardDropLegacy', 'UfwRoutedDrop', 'TunnelInputBlocked',
            'NatWrongInterface', 'GatewayForwardingOff', 'ReversePathFilter', 'ReversePathFilterNft', 'HookRulesMissing'
        $faults = @(Get-WgLabFault | Where-Object Name -In $names)
        $faults.Count | Should -Be $names.Count
        foreach ($f in $faults) { $f.Side | Should -BeIn 'client', 'server'; $f.Symptom.Length | Should -BeGreaterThan 40 }
    }

    It 'starts healthy: TCP and a 1 MiB transfer through the tunnel to the host beyond the server' {
        Assert-TcpWorks $lab 'the healthy lab carries TCP'
    }

    It 'OutputDropsReplies: initiations arrive at the server and no response leaves' {
        $t0 = [DateTime]::UtcNow
        Add-WgLabFault -Lab $lab -Fault OutputDropsReplies
        Get-NewHandshake $lab $t0 | Should -BeFalse -Because 'the replies never leave the server'
        Assert-TcpFails $lab 'there is no session'
        $rules = Invoke-WgLabCommand -Lab $lab -Node server -Command nft, list, table, inet, wgf_out
        $rules | Should -Match 'udp sport 51820 counter packets [1-9]\d* bytes \d+ drop' -Because 'responses hit the output drop'
        $top = Assert-DiagnosedAndRepaired $lab OutputDropsReplies FirewallBlocksReplies
        $top.Evidence -join ' ' | Should -Match 'udp sport 51820'
        Remove-WgLabFault -Lab $lab -Fault OutputDropsReplies
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
        Assert-TcpWorks $lab 'the fault is gone'
    }

    It 'DockerForwardDrop: the server answers, nothing beyond it does, FORWARD policy DROP counts the packets' {
        Add-WgLabFault -Lab $lab -Fault DockerForwardDrop
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress | Should -BeTrue
        Assert-TcpFails $lab 'FORWARD drops the tunnel traffic'
        $v = Invoke-WgLabCommand -Lab $lab -Node server -Command iptables, '-w', '5', '-L', 'FORWARD', '-v', '-n', '-x'
        $v | Should -Match 'Chain FORWARD \(policy DROP (\d+) packets' 
        [int]([regex]::Match($v, 'policy DROP (\d+) packets').Groups[1].Value) | Should -BeGreaterThan 0
        (Invoke-WgLabCommand -Lab $lab -Node server -Command iptables-save) | Should -Match ':DOCKER-USER'
        $top = Assert-DiagnosedAndRepaired $lab DockerForwardDrop ForwardPathBlocked
        $top.Evidence -join ' ' | Should -Match 'DOCKER-USER'
        (Invoke-WgLabCommand -Lab $lab -Node server -Command iptables-save) | Should -Match '-A DOCKER-USER -i wgs'
        Remove-WgLabFault -Lab $lab -Fault DockerForwardDrop
        Assert-TcpWorks $lab 'the fault is gone'
    }

    It 'DockerForwardDropLegacy: the same in iptables-legacy' -Skip:$NoLegacy {
        Add-WgLabFault -Lab $lab -Fault DockerForwardDropLegacy
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress | Should -BeTrue
        Assert-TcpFails $lab 'legacy FORWARD drops the tunnel traffic'
        (Invoke-WgLabCommand -Lab $lab -Node server -Command iptables-legacy-save) | Should -Match ':FORWARD DROP'
        $top = Assert-DiagnosedAndRepaired $lab DockerForwardDropLegacy ForwardPathBlocked
        $top.Summary | Should -Match 'iptables-legacy'
        (Invoke-WgLabCommand -Lab $lab -Node server -Command iptables-legacy-save) | Should -Match '-A DOCKER-USER -i wgs'
        Remove-WgLabFault -Lab $lab -Fault DockerForwardDropLegacy
        Assert-TcpWorks $lab 'the fault is gone'
    }

    It 'UfwRoutedDrop: ping through the server passes, TCP does not' -Skip:$NoUfw {
        Add-WgLabFault -Lab $lab -Fault UfwRoutedDrop
        (Invoke-WgLabCommand -Lab $lab -Node server -Command ufw, status, verbose) | Should -Match 'deny \(routed\)'
        Test-WgLabPing -Lab $lab -To $lab.InternetHost -Count 2 | Should -BeTrue -Because 'ufw accepts forwarded echo requests'
        Assert-TcpFails $lab 'the routed policy drops TCP'
        $top = Assert-DiagnosedAndRepaired $lab UfwRoutedDrop ForwardPathBlocked
        $top.Evidence -join ' ' | Should -Match 'ufw accepts forwarded ICMP'
        (Invoke-WgLabCommand -Lab $lab -Node server -Command ufw, status) | Should -Match 'ALLOW FWD'
        Remove-WgLabFault -Lab $lab -Fault UfwRoutedDrop
        Assert-TcpWorks $lab 'the fault is gone'
        (Invoke-WgLabCommand -Lab $lab -Node server -Command iptables-save) | Should -Not -Match 'ufw-'
    }

    It 'TunnelInputBlocked: forwarded TCP works, the server''s own tunnel address does not answer' {
        Add-WgLabFault -Lab $lab -Fault TunnelInputBlocked
        Assert-TcpWorks $lab 'forwarding is not affected'
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress -TimeoutSeconds 1 | Should -BeFalse
        $top = Assert-DiagnosedAndRepaired $lab TunnelInputBlocked TunnelInputBlocked -NoRepair
        $top.Evidence -join ' ' | Should -Match 'policy drop of chain input \(inet wgf_in\)'
        Remove-WgLabFault -Lab $lab -Fault TunnelInputBlocked
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress | Should -BeTrue
    }

    It 'GatewayForwardingOff: both sides name endpoints, forwarding is off, the network beyond is unreachable' {
        Add-WgLabFault -Lab $lab -Fault GatewayForwardingOff
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
        (Invoke-WgLabCommand -Lab $lab -Node server -Command wg, show, $lab.Server.Interface, endpoints) | Should -Match '198\.51\.100\.2:51821'
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress | Should -BeTrue
        Assert-TcpFails $lab 'the gateway does not forward'
        (Invoke-WgLabCommand -Lab $lab -Node server -Command sysctl, '-n', net.ipv4.ip_forward).Trim() | Should -Be '0'
        $top = Assert-DiagnosedAndRepaired $lab GatewayForwardingOff ForwardingDisabled
        Remove-WgLabFault -Lab $lab -Fault GatewayForwardingOff
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
        Assert-TcpWorks $lab 'the fault is gone'
    }

    It 'ReversePathFilter: initiations are dropped by rp_filter=1 and counted, loose mode lets them through' {
        $t0 = [DateTime]::UtcNow
        Add-WgLabFault -Lab $lab -Fault ReversePathFilter
        $before = Invoke-WgLabCommand -Lab $lab -Node server -Command nstat, '-az', TcpExtIPReversePathFilter
        Get-NewHandshake $lab $t0 | Should -BeFalse
        Assert-TcpFails $lab 'the initiations never reach wireguard-go'
        $after = Invoke-WgLabCommand -Lab $lab -Node server -Command nstat, '-az', TcpExtIPReversePathFilter
        $n = { param($t) [long]([regex]::Match($t, 'TcpExtIPReversePathFilter\s+(\d+)').Groups[1].Value) }
        (& $n $after) | Should -BeGreaterThan (& $n $before) -Because 'the kernel counts every packet rp_filter drops'
        $rg = Invoke-WgLabCommand -Lab $lab -Node server -Command ip, route, get, 198.51.100.2, from, 203.0.113.2, iif, ens3 -PassThru
        $rg.ExitCode | Should -Not -Be 0 -Because 'the route back leaves by another link'
        # the module: ReversePathFilter (never KeyMismatch), repaired with rp_filter=2 on the uplink, and TCP flows
        $top = Assert-DiagnosedAndRepaired $lab ReversePathFilter ReversePathFilter
        $top.Evidence -join ' ' | Should -Match 'rp_filter = 1'
        (Invoke-WgLabCommand -Lab $lab -Node server -Command sysctl, '-n', net.ipv4.conf.ens3.rp_filter).Trim() | Should -Be '2'
        Remove-WgLabFault -Lab $lab -Fault ReversePathFilter
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
        Assert-TcpWorks $lab 'the fault is gone'
    }

    It 'ReversePathFilterNft: the fib rule drops the initiations and counts them' {
        $t0 = [DateTime]::UtcNow
        Add-WgLabFault -Lab $lab -Fault ReversePathFilterNft
        Get-NewHandshake $lab $t0 | Should -BeFalse
        Assert-TcpFails $lab 'the initiations never reach wireguard-go'
        Invoke-WgLabCommand -Lab $lab -Node server -Command nft, list, table, inet, wgf_rpf | Should -Match 'oif missing counter packets [1-9]'
        $top = Assert-DiagnosedAndRepaired $lab ReversePathFilterNft ReversePathFilter -NoRepair
        $top.Evidence -join ' ' | Should -Match 'fib saddr \. iif oif missing'
        Remove-WgLabFault -Lab $lab -Fault ReversePathFilterNft
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15 | Should -BeTrue
        Assert-TcpWorks $lab 'the fault is gone'
    }

    It 'HookRulesMissing: the PostUp masquerade is in the config and not in the live ruleset' {
        Add-WgLabFault -Lab $lab -Fault HookRulesMissing
        Invoke-WgLabCommand -Lab $lab -Node server -Command cat, $lab.Server.ConfigPath | Should -Match '(?m)^PostUp = iptables -t nat -A POSTROUTING'
        (Invoke-WgLabCommand -Lab $lab -Node server -Command iptables-save, '-t', 'nat') | Should -Not -Match 'MASQUERADE'
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress | Should -BeTrue
        Assert-TcpFails $lab 'nothing is masqueraded'
        $top = Assert-DiagnosedAndRepaired $lab HookRulesMissing HookRulesMissing
        $top.Evidence -join ' ' | Should -Match 'Missing: iptables -t nat -A POSTROUTING'
        Remove-WgLabFault -Lab $lab -Fault HookRulesMissing
        Assert-TcpWorks $lab 'the fault is gone'
    }

    # Last: its repair masquerades out of the real uplink and stays, which would hide the symptom of a
    # later fault that removes the lab's own NAT (HookRulesMissing).
    It 'NatWrongInterface: the masquerade names eth0, the uplink is ens3, its counter stays 0' {
        Add-WgLabFault -Lab $lab -Fault NatWrongInterface
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress | Should -BeTrue
        Assert-TcpFails $lab 'nothing is masqueraded'
        Invoke-WgLabCommand -Lab $lab -Node server -Command nft, list, table, ip, wgtlab_nat | Should -Match 'oifname "eth0" counter packets 0 bytes 0 masquerade'
        Invoke-WgLabCommand -Lab $lab -Node server -Command ip, route, show, default | Should -Match 'dev ens3'
        $top = Assert-DiagnosedAndRepaired $lab NatWrongInterface NatMissing
        $top.Summary | Should -Match 'names eth0, which is not the uplink ens3'
        Remove-WgLabFault -Lab $lab -Fault NatWrongInterface
        Assert-TcpWorks $lab 'the fault is gone'
    }
}
