# End-to-end host repairs in a real WireGuard lab (network namespaces): MTU blackhole, forwarding and NAT.
# Everything runs inside the lab's namespaces; the root namespace's sysctls, firewall and /etc/sysctl.d are
# never touched (the server's /etc/sysctl.d is its own: /etc/netns/<ns>/sysctl.d, bound by ip netns exec).
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabReady = [bool](Test-WgLabPrerequisite)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    if (-not $env:WGT_MODULE) { throw 'WGT_MODULE is not set: run the tests through build.ps1 Test.' }

    # Runs code in a lab namespace as root without CAP_NET_ADMIN (dropped from the bounding set, so the
    # exec'd pwsh never gets it back); returns the first error id and the exit code.
    function Invoke-Unprivileged($Lab, [string] $Node, [string] $Code) {
        $pwsh = if ($env:WGT_PWSH) { $env:WGT_PWSH } else { Join-Path $PSHOME 'pwsh' }
        $full = "`$ErrorActionPreference = 'Stop'; Import-Module '$env:WGT_MODULE'; try { $Code } catch { `$_.FullyQualifiedErrorId; exit 5 }"
        $r = Invoke-WgLabCommand -Lab $Lab -Node $Node -PassThru -TimeoutSeconds 60 -Command @(
            'setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin', $pwsh, '-NoProfile', '-NonInteractive', '-Command', $full)
        [pscustomobject]@{ ExitCode = $r.ExitCode; Output = "$($r.StdOut)$($r.StdErr)" }
    }
}

Describe 'MTU blackhole: Measure-WgPathMtu and Set-WgMtu' -Tag Lab -Skip:(-not $LabReady) {
    BeforeAll {
        $script:lab = New-WgLab -Fault MtuBlackhole
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 20
        $script:clientConf = "/etc/netns/$($lab.Namespaces.client)/wireguard/$($lab.Client.Interface).conf"
    }
    AfterAll { if ($lab) { Remove-WgLab -Lab $lab } }

    It 'small packets cross the tunnel, full-size ones do not' {
        Test-WgLabPing -Lab $lab -To 192.0.2.1 -Count 2 | Should -BeTrue
        Test-WgLabPing -Lab $lab -To 192.0.2.1 -Size (1420 - 28) -DontFragment -Count 2 | Should -Be $false
    }

    It 'measures PathMtu 1400 and recommends 1340 from the client' {
        $r = Invoke-WgLabPwsh -Lab $lab -Node client -TimeoutSeconds 180 -Script "Measure-WgPathMtu -Interface $($lab.Client.Interface)"
        $r.PSObject.TypeNames[0] | Should -Be 'Deserialized.WgTroubleshoot.PathMtuResult'
        $r.Destination | Should -Be '203.0.113.2'
        $r.PathMtu | Should -Be 1400
        $r.RecommendedMtu | Should -Be 1340
        $r.TunnelMtu | Should -Be 1420
        $r.Blackhole | Should -BeTrue
        $r.PppoeLikely | Should -Be $false
        $r.FullSizePassesInTunnel | Should -Be $false
        $r.TunnelTarget | Should -Be '192.0.2.1'
    }

    It 'a destination that answers nothing is an error, not a bogus MTU' {
        $r = Invoke-WgLabPwsh -Lab $lab -Node client -AsResult -TimeoutSeconds 120 { Measure-WgPathMtu -Destination 203.0.113.99 -Tries 1 -TimeoutSeconds 20 }
        @($r.Errors).Count | Should -BeGreaterThan 0
        $r.Errors[0].FullyQualifiedErrorId | Should -Match 'WgPathMtuUnknown'
        $r.Output[0].PathMtu | Should -BeNullOrEmpty
        "$($r.Output[0].Status)" | Should -BeIn 'Unknown', '2'  # an enum arrives as its value after CliXml
    }

    It 'Set-WgMtu -WhatIf changes nothing' {
        $before = [System.IO.File]::ReadAllBytes($clientConf)
        $null = Invoke-WgLabPwsh -Lab $lab -Node client -Script "Set-WgMtu -Interface $($lab.Client.Interface) -Mtu 1300 -WhatIf"
        (Invoke-WgLabCommand -Lab $lab -Node client -Command ip, -o, link, show, dev, $lab.Client.Interface) | Should -Match 'mtu 1420 '
        [System.IO.File]::ReadAllBytes($clientConf) | Should -Be $before
    }

    It 'refuses an MTU below 1280 on an interface with IPv6 addresses' {
        $r = Invoke-WgLabPwsh -Lab $lab -Node client -AsResult -Script "Set-WgMtu -Interface $($lab.Client.Interface) -Mtu 1000"
        "$($r.Failure.FullyQualifiedErrorId) $($r.Errors.FullyQualifiedErrorId)" | Should -Match 'WgInvalidMtu'
        (Invoke-WgLabCommand -Lab $lab -Node client -Command ip, -o, link, show, dev, $lab.Client.Interface) | Should -Match 'mtu 1420 '
    }

    It 'a run without CAP_NET_ADMIN is refused before any change' {
        $before = [System.IO.File]::ReadAllBytes($clientConf)
        $r = Invoke-Unprivileged $lab client "Set-WgMtu -Interface $($lab.Client.Interface) -Mtu 1300"
        $r.ExitCode | Should -Be 5
        $r.Output | Should -Match 'WgPermissionDenied'
        (Invoke-WgLabCommand -Lab $lab -Node client -Command ip, -o, link, show, dev, $lab.Client.Interface) | Should -Match 'mtu 1420 '
        [System.IO.File]::ReadAllBytes($clientConf) | Should -Be $before
    }

    It 'after Set-WgMtu -Auto on both sides full-size packets pass; a second run changes nothing' {
        $changes = Invoke-WgLabPwsh -Lab $lab -Node client -TimeoutSeconds 180 -Script "Set-WgMtu -Interface $($lab.Client.Interface) -Auto -PassThru"
        @($changes | Where-Object Changed).Count | Should -Be 2
        @($changes | Where-Object Changed).After | Should -Be @('1340', 'MTU = 1340')
        # The way back (server to client) is blackholed too: the server measures and sets its own MTU.
        $changes = Invoke-WgLabPwsh -Lab $lab -Node server -TimeoutSeconds 180 -Script "Set-WgMtu -Interface $($lab.Server.Interface) -Auto -PassThru"
        @($changes | Where-Object Changed).Count | Should -Be 2
        Test-WgLabPing -Lab $lab -To 192.0.2.1 -Size (1340 - 28) -DontFragment -Count 2 | Should -BeTrue
        (Get-Content $clientConf) -match '^MTU = 1340$' | Should -HaveCount 1
        $before = [System.IO.File]::ReadAllBytes($clientConf)
        $again = Invoke-WgLabPwsh -Lab $lab -Node client -TimeoutSeconds 180 -Script "Set-WgMtu -Interface $($lab.Client.Interface) -Auto -PassThru"
        $again | Should -Not -BeNullOrEmpty
        ($again | Where-Object Changed) | Should -BeNullOrEmpty
        [System.IO.File]::ReadAllBytes($clientConf) | Should -Be $before
    }
}

Describe 'Forwarding and NAT off on the server: Get-WgForwarding and Enable-WgForwarding' -Tag Lab -Skip:(-not $LabReady) {
    BeforeAll {
        $script:lab = New-WgLab -Fault ForwardingDisabled, NatMissing
        # The server's own /etc/sysctl.d (ip netns exec binds /etc/netns/<ns>/sysctl.d over /etc/sysctl.d).
        $script:sysctlDir = "/etc/netns/$($lab.Namespaces.server)/sysctl.d"
        $null = New-Item -ItemType Directory -Force $sysctlDir
        $script:serverConf = "/etc/netns/$($lab.Namespaces.server)/wireguard/$($lab.Server.Interface).conf"
        $script:rootSysctl = @(Get-ChildItem /etc/sysctl.d -Force | ForEach-Object { "$($_.Name) $($_.Length) $($_.LastWriteTimeUtc.Ticks)" })
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 20
        function Get-ServerForward { (Invoke-WgLabCommand -Lab $lab -Node server -Command sysctl, -n, net.ipv4.ip_forward).Trim() }
        function Get-ServerNft { Invoke-WgLabCommand -Lab $lab -Node server -Command nft, list, ruleset }
    }
    AfterAll { if ($lab) { Remove-WgLab -Lab $lab } }

    It 'the client reaches the server''s tunnel address but not the internet host' {
        Test-WgLabPing -Lab $lab -To 192.0.2.1 -Count 2 | Should -BeTrue
        Test-WgLabPing -Lab $lab -To 192.0.2.130 | Should -Be $false
    }

    It 'Get-WgForwarding says why' {
        $s = Invoke-WgLabPwsh -Lab $lab -Node server { Get-WgForwarding }
        $s.PSObject.TypeNames[0] | Should -Be 'Deserialized.WgTroubleshoot.ForwardingStatus'
        $s.Interface | Should -Be $lab.Server.Interface
        $s.IPv4Forwarding | Should -Be $false
        $s.Uplink | Should -Be 'ens3'
        $s.Masquerade | Should -Be $false
        $s.TunnelSubnets | Should -Contain '192.0.2.0/26'
        $s.Verdict | Should -Be 'ForwardingDisabled'
        ($s.Problems -join "`n") | Should -Match 'NatMissing'
    }

    It 'Enable-WgForwarding -Nat -WhatIf changes nothing' {
        $conf = [System.IO.File]::ReadAllBytes($serverConf)
        $nft = Get-ServerNft
        $null = Invoke-WgLabPwsh -Lab $lab -Node server { Enable-WgForwarding -Nat -IPv6 -WhatIf }
        Get-ServerForward | Should -Be '0'
        Get-ServerNft | Should -Be $nft
        [System.IO.File]::ReadAllBytes($serverConf) | Should -Be $conf
        Get-ChildItem $sysctlDir | Should -BeNullOrEmpty
    }

    It 'a run without CAP_NET_ADMIN is refused before any change' {
        $conf = [System.IO.File]::ReadAllBytes($serverConf)
        $r = Invoke-Unprivileged $lab server 'Enable-WgForwarding -Nat'
        $r.ExitCode | Should -Be 5
        $r.Output | Should -Match 'WgPermissionDenied'
        Get-ServerForward | Should -Be '0'
        Get-ChildItem $sysctlDir | Should -BeNullOrEmpty
        [System.IO.File]::ReadAllBytes($serverConf) | Should -Be $conf
    }

    It 'Enable-WgForwarding -Nat repairs it with ens3, persistently, and a second run changes nothing' {
        $changes = Invoke-WgLabPwsh -Lab $lab -Node server { Enable-WgForwarding -Nat -PassThru }
        @($changes)[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.WgTroubleshoot.ChangeRecord'
        @($changes | Where-Object Changed).Count | Should -Be 4
        ($changes | Where-Object Target -EQ 'net.ipv4.ip_forward').UndoCommands | Should -Be 'sysctl -w net.ipv4.ip_forward=0'

        Test-WgLabPing -Lab $lab -To 192.0.2.130 -Count 2 | Should -BeTrue
        Get-ServerForward | Should -Be '1'
        Get-Content (Join-Path $sysctlDir '99-wgtroubleshoot.conf') | Should -Contain 'net.ipv4.ip_forward = 1'
        (Get-ServerNft) | Should -Match 'ip saddr 192\.0\.2\.0/26 oifname "ens3" masquerade'
        $post = @(Get-Content $serverConf | Where-Object { $_ -match '^PostUp = ' })
        $post | Should -HaveCount 1
        $post[0] | Should -Match 'oifname "ens3" masquerade'
        (Get-Content $serverConf) -match '^PostDown = ' | Should -HaveCount 1

        $confBytes = [System.IO.File]::ReadAllBytes($serverConf)
        $nft = Get-ServerNft
        $again = Invoke-WgLabPwsh -Lab $lab -Node server { Enable-WgForwarding -Nat -PassThru }
        @($again).Count | Should -Be 4
        ($again | Where-Object Changed) | Should -BeNullOrEmpty
        [System.IO.File]::ReadAllBytes($serverConf) | Should -Be $confBytes
        Get-ServerNft | Should -Be $nft

        (Invoke-WgLabPwsh -Lab $lab -Node server { Get-WgForwarding }).Verdict | Should -Be 'Ok'
    }

    It 'never touched the root namespace''s /etc/sysctl.d' {
        @(Get-ChildItem /etc/sysctl.d -Force | ForEach-Object { "$($_.Name) $($_.Length) $($_.LastWriteTimeUtc.Ticks)" }) | Should -Be $rootSysctl
        Test-Path /etc/sysctl.d/99-wgtroubleshoot.conf | Should -BeFalse
    }

    It 'Disable-WgForwarding -Nat -WhatIf changes nothing; Disable-WgForwarding -Nat undoes it' {
        $null = Invoke-WgLabPwsh -Lab $lab -Node server { Disable-WgForwarding -Nat -WhatIf }
        Get-ServerForward | Should -Be '1'
        $null = Invoke-WgLabPwsh -Lab $lab -Node server { Disable-WgForwarding -Nat -Confirm:$false }
        Get-ServerForward | Should -Be '0'
        (Get-ServerNft) | Should -Not -Match 'wgtroubleshoot_'
        (Get-Content $serverConf) -match '^Post(Up|Down) = ' | Should -BeNullOrEmpty
        Get-Content (Join-Path $sysctlDir '99-wgtroubleshoot.conf') | Should -Contain 'net.ipv4.ip_forward = 0'
    }
}
