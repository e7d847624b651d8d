# Diagnosis in the lab: Test-WgHandshake verdicts and the dynamic-DNS endpoint check/repair, run in a
# child pwsh inside the lab's namespaces, on the side where each fault can be seen.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    function Invoke-Child([string] $Node, [scriptblock] $ScriptBlock, [object[]] $ArgumentList = @()) {
        Invoke-WgLabPwsh -Lab $lab -Node $Node -ScriptBlock $ScriptBlock -ArgumentList $ArgumentList -TimeoutSeconds 120
    }
}

Describe 'Test-WgHandshake in the lab' -Tag Lab -Skip:$LabUnavailable {
    BeforeEach {
        $lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
    }
    AfterEach {
        Remove-WgLab -Lab $lab
    }

    It 'finds a healthy tunnel healthy on both sides, with no false alarm' {
        foreach ($node in 'client', 'server') {
            $r = @(Invoke-Child $node { Get-WgInterface | Test-WgHandshake -SampleSeconds 2 })
            $r.Count | Should -Be 1
            $r[0].Status | Should -Be 'Healthy' -Because $r[0].Reason
            $r[0].OneWay | Should -Be $false
            $r[0].PSObject.TypeNames | Should -Contain 'Deserialized.WgTroubleshoot.HandshakeResult'
            Invoke-Child $node { Test-WgHandshake -SampleSeconds 1 -Quiet } | Should -BeTrue
        }
        # The documented pipeline finds nothing Stale on a healthy tunnel.
        @(Invoke-Child client { Get-WgInterface | Test-WgHandshake -SampleSeconds 1 | Where-Object Status -eq Stale }).Count | Should -Be 0
    }

    It 'says NeverEstablished on the client when the server firewall drops UDP, and -Quiet is false' {
        Add-WgLabFault -Lab $lab -Fault FirewallBlocksPort
        $r = @(Invoke-Child client { Get-WgPeer | Test-WgHandshake -SampleSeconds 3 })
        $r[0].Status | Should -Be 'NeverEstablished' -Because $r[0].Reason
        $r[0].Reason | Should -Match '203\.0\.113\.2:51820'
        # -Be $false, not -BeFalse: no output at all ($null) must fail too.
        Invoke-Child client { Test-WgHandshake -SampleSeconds 1 -Quiet } | Should -Be $false
    }

    It 'says NeverEstablished on the client when its endpoint port is wrong' {
        Add-WgLabFault -Lab $lab -Fault WrongEndpointPort
        $r = @(Invoke-Child client { Test-WgHandshake -SampleSeconds 2 })
        $r[0].Status | Should -Be 'NeverEstablished' -Because $r[0].Reason
        $r[0].Endpoint | Should -Match ':51821$'
    }

    It 'says Idle, not a fault, for a peer without keepalive or traffic' {
        Add-WgLabFault -Lab $lab -Fault IdlePeer
        $r = @(Invoke-Child client { Test-WgHandshake -SampleSeconds 2 })
        $r[0].Status | Should -Be 'Idle' -Because $r[0].Reason
        Invoke-Child client { Test-WgHandshake -SampleSeconds 1 -Quiet } | Should -BeTrue
    }

    It 'keeps Healthy while AllowedIPs are wrong on the server, and Compare-WgPeerConfig names AllowedIpsMismatch' {
        Add-WgLabFault -Lab $lab -Fault AllowedIpsMismatch
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        $r = @(Invoke-Child client { Test-WgHandshake -SampleSeconds 2 })
        $r[0].Status | Should -Be 'Healthy' -Because $r[0].Reason
        # Both ends' real files, as the admin has them.
        $c = @(Invoke-Child server { param($Mine, $Theirs) Compare-WgPeerConfig -Path $Mine, $Theirs } $lab.Server.ConfigPath, $lab.Client.HostConfigPath)
        $c.Cause | Should -Contain 'AllowedIpsMismatch'
        ($c | Where-Object Cause -eq 'AllowedIpsMismatch')[0].Fix | Should -Match '192\.0\.2\.2/32'
    }

    It 'has Compare-WgPeerConfig name KeyMismatch when the server has another key for the client' {
        Add-WgLabFault -Lab $lab -Fault KeyMismatch
        $c = @(Invoke-Child server { param($Mine, $Theirs) Compare-WgPeerConfig -Path $Mine, $Theirs } $lab.Server.ConfigPath, $lab.Client.HostConfigPath)
        $c.Cause | Should -Contain 'KeyMismatch'
        ($c | Where-Object Cause -eq 'KeyMismatch')[0].Message | Should -Match ([regex]::Escape($lab.Client.PublicKey))
    }
}

Describe 'Dynamic-DNS endpoints in the lab' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        $lab = New-WgLab -EndpointHostName
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
    }
    AfterAll {
        Remove-WgLab -Lab $lab
    }

    It 'says Current while the name and the live endpoint agree' {
        $r = @(Invoke-Child client { Test-WgEndpoint })
        $r.Count | Should -Be 1
        $r[0].Status | Should -Be 'Current' -Because $r[0].Reason
        $r[0].Host | Should -Be 'vpn.example.test'
        $r[0].LiveEndpoint | Should -Be '203.0.113.2:51820'
    }

    It 'says Drifted after the server moved, and Update-WgEndpoint restores the handshake' {
        Add-WgLabFault -Lab $lab -Fault StaleDnsEndpoint
        $r = @(Invoke-Child client { Test-WgEndpoint })
        $r[0].Status | Should -Be 'Drifted' -Because $r[0].Reason
        $r[0].ResolvedAddresses | Should -Contain '203.0.113.3'
        $r[0].RecommendedEndpoint | Should -Be '203.0.113.3:51820'

        # -WhatIf shows the exact command and changes nothing.
        $w = Invoke-WgLabPwsh -Lab $lab -Node client -AllStreams -AsResult -ScriptBlock { Update-WgEndpoint -WhatIf -Force; (Get-WgPeer).Endpoint }
        ($w.Output | Select-Object -Last 1) | Should -Be '203.0.113.2:51820'
        $w.StdOut + ($w.Output -join "`n") | Should -Match 'wg set \S+ peer \S+ endpoint 203\.0\.113\.3:51820'

        $changes = @(Invoke-Child client { Update-WgEndpoint -Confirm:$false -PassThru })
        $changes[0].Changed | Should -BeTrue
        $changes[0].UndoCommands[0] | Should -Match 'endpoint 203\.0\.113\.2:51820$'
        Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 20 | Should -BeTrue
        (Invoke-Child client { Test-WgEndpoint })[0].Status | Should -Be 'Current'
        # Safe to run again: nothing left to change.
        $again = @(Invoke-Child client { Update-WgEndpoint -Confirm:$false -PassThru })
        $again.Count | Should -BeGreaterThan 0 -Because 'the peer is looked at again and reported unchanged'
        $again[0].Changed | Should -Be $false
    }
}
