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

    It 'TunnelInputBlocked: forwarded TCP works, the server''s own tunnel address does not answer; repaired only by policy' {
        Add-WgLabFault -Lab $lab -Fault TunnelInputBlocked
        Assert-TcpWorks $lab 'forwarding is not affected'
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress -TimeoutSeconds 1 | Should -BeFalse
        $toServer = Test-WgLabTcp -Lab $lab -Node server -To $lab.Server.TunnelAddress -TimeoutSeconds 6
        $toServer.Success | Should -BeFalse -Because 'TCP to the server itself through the tunnel is dropped'
        $top = Assert-DiagnosedAndRepaired $lab TunnelInputBlocked TunnelInputBlocked -NoRepair
        $top.Evidence -join ' ' | Should -Match 'policy drop of chain input \(inet wgf_in\)'
        $top.Remediation | Should -Match 'acceptTunnelInput: true'
        # the whole ruleset without counters (nft -s; iptables-save's chain counters [packets:bytes] and dated comment lines dropped)
        $ruleset = { ((Invoke-WgLabCommand -Lab $lab -Node server -Command nft, '-s', list, ruleset) + (Invoke-WgLabCommand -Lab $lab -Node server -Command iptables-save)) -split "`n" | Where-Object { $_ -notmatch '^#' } | ForEach-Object { $_ -replace '\[\d+:\d+\]$', '[-]' } | Join-String -Separator "`n" }
        $before = & $ruleset
        # (Repair-WgIssue refuses it: SafeRepairTests; only a policy decides what the peers may reach on this host)
        # unattended, without the key (Firewall repairs allowed): reported, nothing changed, byte for byte
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) "wgt-$($lab.Id)-wgr-policy"
        $null = New-Item -ItemType Directory -Force $dir
        try {
            $common = "stateFile: $dir/state.json`ninterfaces:`n  $($lab.Server.Interface):`n    allowedRepairs: [Firewall, Forwarding, Nat]`n    maxRepairsPerHour: 10`n"
            Set-Content -LiteralPath "$dir/nokey.yaml" -Value $common
            Set-Content -LiteralPath "$dir/key.yaml" -Value ($common + "    firewall:`n      acceptTunnelInput: true`n")
            $r1 = @(Invoke-WgLabPwsh -Lab $lab -Node server -TimeoutSeconds 240 -Script "Invoke-WgRemediation -Policy '$dir/nokey.yaml' -Confirm:`$false -WarningAction SilentlyContinue; `$LASTEXITCODE")
            $r1[-1] | Should -Be 3 -Because ($r1[0].Interfaces | Format-List * | Out-String)
            $r1[0].Interfaces[0].NeedsHuman -join ' ' | Should -Match 'TunnelInputBlocked: .*reported only: the policy does not say firewall: \{ acceptTunnelInput: true \}'
            @($r1[0].Interfaces[0].Repairs).Count | Should -Be 0
            (& $ruleset) | Should -Be $before -Because 'a run without the key changes nothing'
            # -WhatIf with the key: says what it would run, changes nothing
            $w = @(Invoke-WgLabPwsh -Lab $lab -Node server -TimeoutSeconds 240 -Script "Invoke-WgRemediation -Policy '$dir/key.yaml' -WhatIf; `$LASTEXITCODE")
            $w[0].Interfaces[0].NeedsHuman -join ' ' | Should -Match 'WhatIf: Repair-WgIssue: accept what arrives through'
            (& $ruleset) | Should -Be $before
            # with the key: repaired and verified; ping and TCP to the server's tunnel address work
            $r2 = @(Invoke-WgLabPwsh -Lab $lab -Node server -TimeoutSeconds 240 -Script "Invoke-WgRemediation -Policy '$dir/key.yaml' -Confirm:`$false -WarningAction SilentlyContinue; `$LASTEXITCODE")
            $r2[-1] | Should -Be 2 -Because (($r2[0].Interfaces | Format-List * | Out-String) + ($r2[0].Interfaces.Repairs | Format-List * | Out-String))
            $r2[0].Interfaces[0].Repairs[0].Verified | Should -BeTrue
            Invoke-WgLabCommand -Lab $lab -Node server -Command nft, list, table, inet, wgf_in | Should -Match "iifname `"$($lab.Server.Interface)`" accept"
            Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress | Should -BeTrue
            $t = Test-WgLabTcp -Lab $lab -Node server -To $lab.Server.TunnelAddress -TimeoutSeconds 10
            $t.Success | Should -BeTrue -Because "TCP to the server's tunnel address works after the repair ($($t.Error))"
            $t.BytesReceived | Should -Be 1048576
            Assert-TcpWorks $lab 'forwarded TCP still works'
        }
        finally { Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue }
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
        # persistent, as the forwarding repair is: the module's own sysctl.d file (the server's own /etc/sysctl.d)
        Invoke-WgLabCommand -Lab $lab -Node server -Command cat, /etc/sysctl.d/99-wgtroubleshoot.conf | Should -Match '(?m)^net\.ipv4\.conf\.ens3\.rp_filter = 2$'
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
        # what decides is named, and it is report only (the field table gives no safe change of another tool's rule)
        $top.Evidence -join ' ' | Should -Match 'Decided by: nftables: fib saddr \. iif oif missing .*report only'
        $top.Remediation | Should -Match '^Not repaired automatically \(report only\)'
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

    It 'NatWrongInterface: the PostUp masquerade names eth0, the uplink is ens3; the repair rewrites the rule and the line' {
        Add-WgLabFault -Lab $lab -Fault NatWrongInterface
        Test-WgLabPing -Lab $lab -To $lab.Server.TunnelAddress | Should -BeTrue
        Assert-TcpFails $lab 'nothing is masqueraded'
        (Invoke-WgLabCommand -Lab $lab -Node server -Command iptables-save, '-c', '-t', 'nat') | Should -Match '\[0:0\] -A POSTROUTING -s \S+ -o eth0 -j MASQUERADE'
        Invoke-WgLabCommand -Lab $lab -Node server -Command ip, route, show, default | Should -Match 'dev ens3'
        $cfgBefore = [System.IO.File]::ReadAllText($lab.Server.HostConfigPath)
        $cfgBefore | Should -Match '(?m)^PostUp = iptables -t nat -A POSTROUTING -s \S+ -o eth0 -j MASQUERADE$'
        $top = Assert-DiagnosedAndRepaired $lab NatWrongInterface NatMissing
        $top.Summary | Should -Match 'names eth0, which is not the uplink ens3'
        # one masquerade, naming the uplink: the wrong rule was rewritten, no second one added beside it
        $nat = @((Invoke-WgLabCommand -Lab $lab -Node server -Command iptables-save, '-t', 'nat') -split "`n" | Where-Object { $_ -match 'MASQUERADE' })
        $nat.Count | Should -Be 1 -Because ($nat -join "`n")
        $nat[0] | Should -Match '-o ens3 -j MASQUERADE'
        $nft = Invoke-WgLabCommand -Lab $lab -Node server -Command nft, list, ruleset
        $nft | Should -Not -Match 'wgtroubleshoot_' -Because 'no table of its own beside the rewritten rule'
        (Invoke-WgLabCommand -Lab $lab -Node server -Command nft, list, table, ip, wgtlab_nat) | Should -Not -Match 'masquerade'
        # the PostUp (and PostDown) line names the uplink; every other byte of the file is kept
        $cfgAfter = [System.IO.File]::ReadAllText($lab.Server.HostConfigPath)
        $cfgAfter | Should -Match '(?m)^PostUp = iptables -t nat -A POSTROUTING -s \S+ -o ens3 -j MASQUERADE$'
        $cfgAfter | Should -BeExactly ($cfgBefore.Replace('-o eth0', '-o ens3'))
        Test-Path -LiteralPath "$($lab.Server.HostConfigPath).bak" | Should -BeTrue
        Remove-WgLabFault -Lab $lab -Fault NatWrongInterface
        Assert-TcpWorks $lab 'the fault is gone'
    }
}
