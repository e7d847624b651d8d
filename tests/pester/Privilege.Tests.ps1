# Run as a real unprivileged user (nobody, no groups) inside a lab namespace where the WireGuard interfaces
# exist: every cmdlet that needs root answers WgPermissionDenied (category PermissionDenied) and names what it
# could not read or change, instead of "not found" or a quiet empty result; nothing is changed.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite) -or -not (Get-Command setpriv -ErrorAction SilentlyContinue)
}

Describe 'Cmdlets that need root, run as nobody' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
        $script:lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        # nobody cannot traverse root's home, where the test's pwsh may live: a private copy of pwsh and the module.
        $script:tmp = Join-Path ([IO.Path]::GetTempPath()) ('wgr-priv-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $null = New-Item -ItemType Directory -Path $tmp, "$tmp/home"
        $pwshDir = Split-Path -Parent (Get-Item $env:WGT_PWSH).FullName
        Copy-Item $pwshDir "$tmp/pwsh" -Recurse
        Copy-Item (Split-Path $env:WGT_MODULE) "$tmp/module" -Recurse
        $policy = "$tmp/policy.yaml"
        Set-Content -LiteralPath $policy -Value "interfaces:`n  $($lab.Server.Interface):`n    allowedRepairs: [Firewall, Mtu, Link]`n"
        & chmod -R a+rX $tmp
        & chown 65534:65534 "$tmp/home"
        $script:before = Invoke-WgLabCommand -Lab $lab -Node server -Command 'sh', '-c', "ip -o link show dev $($lab.Server.Interface); nft list ruleset; sysctl net.ipv4.ip_forward"
        $if = $lab.Server.Interface
        $code = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$tmp/module/WgTroubleshoot.psd1'
`$forged = [pscustomobject]@{ Cause = 'InterfaceDown'; Interface = '$if'; CanRepair = `$true; Severity = 'Error'; RepairData = @('Interface=$if') }
`$cases = [ordered]@{
    'Set-WgMtu'            = { Set-WgMtu -Interface '$if' -Mtu 1400 -Confirm:`$false }
    'Add-WgFirewallRule'   = { Add-WgFirewallRule -Interface '$if' -Confirm:`$false }
    'Enable-WgForwarding'  = { Enable-WgForwarding -Interface '$if' -Nat -Confirm:`$false }
    'Disable-WgForwarding' = { Disable-WgForwarding -Interface '$if' -Confirm:`$false }
    'Update-WgEndpoint'    = { Update-WgEndpoint -Interface '$if' -Confirm:`$false }
    'Repair-WgIssue'       = { `$forged | Repair-WgIssue -Confirm:`$false }
    'Invoke-WgRemediation' = { Invoke-WgRemediation -Policy '$policy' -Confirm:`$false }
    'Get-WgInterface'      = { Get-WgInterface -Interface '$if' }
    'Get-WgPeer'           = { Get-WgPeer -Interface '$if' }
    'Get-WgFirewallStatus' = { Get-WgFirewallStatus -Interface '$if' }
    'Invoke-WgDiagnosis'   = { Invoke-WgDiagnosis -Interface '$if' }
}
foreach (`$k in `$cases.Keys) {
    try { `$null = & `$cases[`$k]; "`$k|NO-ERROR|" }
    catch { "`$k|`$(`$_.FullyQualifiedErrorId)|`$(`$_.CategoryInfo.Category)|`$(`$_.Exception.Message -replace '\s+', ' ')" }
}
"@
        $r = Invoke-WgLabCommand -Lab $lab -Node server -PassThru -TimeoutSeconds 240 -Command @(
            'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--',
            'env', "HOME=$tmp/home", "DOTNET_CLI_HOME=$tmp/home", 'DOTNET_CLI_TELEMETRY_OPTOUT=1', 'POWERSHELL_TELEMETRY_OPTOUT=1',
            "$tmp/pwsh/pwsh", '-NoProfile', '-NonInteractive', '-Command', $code)
        $script:raw = $r.StdOut + $r.StdErr
        $script:results = @{}
        foreach ($line in ($r.StdOut -split "`n")) {
            $p = $line.Trim() -split '\|', 4
            if ($p.Count -ge 3 -and $p[0] -like '*-Wg*') { $results[$p[0]] = [pscustomobject]@{ Id = $p[1]; Category = $p[2]; Message = $p[3] } }
        }
    }
    AfterAll {
        if ($lab) { Remove-WgLab -Lab $lab }
        if ($tmp) { Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue }
    }

    It '<Command> answers WgPermissionDenied and names what it could not read or change' -ForEach @(
        @{ Command = 'Set-WgMtu' }, @{ Command = 'Add-WgFirewallRule' }, @{ Command = 'Enable-WgForwarding' },
        @{ Command = 'Disable-WgForwarding' }, @{ Command = 'Update-WgEndpoint' }, @{ Command = 'Repair-WgIssue' },
        @{ Command = 'Invoke-WgRemediation' }, @{ Command = 'Get-WgInterface' }, @{ Command = 'Get-WgPeer' },
        @{ Command = 'Get-WgFirewallStatus' }, @{ Command = 'Invoke-WgDiagnosis' }
    ) {
        $results.Keys | Should -Contain $Command -Because $raw
        $x = $results[$Command]
        $x.Id | Should -BeLike 'WgPermissionDenied*' -Because $raw
        $x.Category | Should -Be 'PermissionDenied'
        $x.Message | Should -Match 'root'
    }

    It 'Set-WgMtu names the interface whose WireGuard state it could not read (not "no interface named")' {
        $results['Set-WgMtu'].Message | Should -Match ([regex]::Escape($lab.Server.Interface))
        $results['Set-WgMtu'].Message | Should -Not -Match 'No WireGuard interface named'
    }

    It 'changed nothing' {
        Invoke-WgLabCommand -Lab $lab -Node server -Command 'sh', '-c', "ip -o link show dev $($lab.Server.Interface); nft list ruleset; sysctl net.ipv4.ip_forward" | Should -Be $before
    }
}
