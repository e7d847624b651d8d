# The host snapshot in the lab: a support bundle exported on a lab node replays, on another machine (this
# process, outside every lab namespace, reading nothing of the host), to the findings the node gave; and a
# firewall that cannot be read (nft missing, nft that cannot run) is a Warning naming the checks that could
# not run, never "no fault found", while ForwardingDisabled (read from /proc) is still reported.
# Tagged Lab: needs root, wireguard-go and the network tools; skipped cleanly elsewhere.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    if (-not $env:WGT_MODULE) {
        $staged = Get-ChildItem (Join-Path $PSScriptRoot '../../out/WgTroubleshoot/*/WgTroubleshoot.psd1') -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($staged) { $env:WGT_MODULE = $staged.FullName }
    }
    Import-Module $env:WGT_MODULE -Force
    function Get-Shape($Findings) { @($Findings | ForEach-Object { '{0}|{1}|{2}|{3}|{4}' -f $_.Id, $_.Severity, $_.Cause, $_.Peer, $_.Summary }) }
}

Describe 'A support bundle replays elsewhere to the same findings' -Tag Lab, Snapshot -Skip:$LabUnavailable {
    BeforeAll {
        $lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        Add-WgLabFault -Lab $lab -Fault FirewallBlocksPort
        $script:Local = Join-Path ([System.IO.Path]::GetTempPath()) ('wgd-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
        $null = New-Item -ItemType Directory $Local
        $res = Invoke-WgLabPwsh -Lab $lab -Node server -AsResult -TimeoutSeconds 300 -ArgumentList $lab.Server.Interface -ScriptBlock {
            param($If)
            $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('wgd-bundle-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
            $null = New-Item -ItemType Directory $dir
            try {
                Export-WgSupportBundle -Path (Join-Path $dir 'b.json') -Interface $If
                $live = @(Invoke-WgDiagnosis -Interface $If -SnapshotPath (Join-Path $dir 's.json'))
                [pscustomobject]@{
                    Bundle = [System.IO.File]::ReadAllText((Join-Path $dir 'b.json'))
                    Snapshot = [System.IO.File]::ReadAllText((Join-Path $dir 's.json'))
                    SnapshotMode = [int][System.IO.File]::GetUnixFileMode((Join-Path $dir 's.json'))
                    Live = $live
                }
            }
            finally { Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue }
        }
        if ($res.Failure) { throw "child failed: $($res.Failure)" }
        $script:R = $res.Output[0]
        $script:Secrets = @(Get-WgLabSecret -Lab $lab)
        # copied elsewhere: the lab is gone before the replay
        Set-Content -LiteralPath (Join-Path $Local 'bundle.json') -Value $R.Bundle -NoNewline
        Set-Content -LiteralPath (Join-Path $Local 'snapshot.json') -Value $R.Snapshot -NoNewline
        Remove-WgLab -Lab $lab
        $lab = $null
    }
    AfterAll {
        if ($lab) { Remove-WgLab -Lab $lab }
        if ($Local) { Remove-Item -LiteralPath $Local -Recurse -Force -ErrorAction SilentlyContinue }
    }

    It 'the bundle carries the snapshot and its diagnosis, without any lab secret' {
        $b = $R.Bundle | ConvertFrom-Json
        $b.Snapshot.Format | Should -Be 'WgTroubleshoot.HostSnapshot'
        $b.Snapshot.SchemaVersion | Should -Be 1
        @($b.Snapshot.Interfaces).Count | Should -Be 1
        @($b.Diagnosis)[0].Cause | Should -Be 'FirewallBlocksPort'
        foreach ($s in $Secrets) {
            $R.Bundle.IndexOf($s, [StringComparison]::OrdinalIgnoreCase) | Should -Be -1
            $R.Snapshot.IndexOf($s, [StringComparison]::OrdinalIgnoreCase) | Should -Be -1
        }
        $R.SnapshotMode | Should -Be 384 -Because 'the saved snapshot is created 0600'
    }

    It 'Invoke-WgDiagnosis -Snapshot on the bundle, here, gives the findings the node gave' {
        $b = $R.Bundle | ConvertFrom-Json
        $replayed = @(Invoke-WgDiagnosis -Snapshot (Join-Path $Local 'bundle.json'))
        $replayed[0].Cause | Should -Be 'FirewallBlocksPort'
        Get-Shape $replayed | Should -Be (Get-Shape $b.Diagnosis)
    }

    It 'Invoke-WgDiagnosis -Snapshot on the saved snapshot gives the live run''s findings' {
        $replayed = @(Invoke-WgDiagnosis -Snapshot (Join-Path $Local 'snapshot.json'))
        Get-Shape $replayed | Should -Be (Get-Shape $R.Live)
        $replayed[0].Evidence | Should -Be $R.Live[0].Evidence
    }

    It 'refuses a file that is not a snapshot with WgSnapshotInvalid' {
        $bad = Join-Path $Local 'bad.json'
        Set-Content -LiteralPath $bad -Value '{"Format": "something else"}'
        { Invoke-WgDiagnosis -Snapshot $bad -ErrorAction Stop } | Should -Throw -ErrorId 'WgSnapshotInvalid*'
    }
}

Describe 'A firewall that cannot be read is said, not taken for "no fault"' -Tag Lab, Snapshot -Skip:$LabUnavailable {
    BeforeAll {
        $lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        Add-WgLabFault -Lab $lab -Fault ForwardingDisabled
        $script:Fake = Join-Path ([System.IO.Path]::GetTempPath()) ('wgd-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
        $null = New-Item -ItemType Directory $Fake
        Set-Content -LiteralPath (Join-Path $Fake 'nft-126') -Value "#!/bin/sh`necho 'nft: cannot execute' >&2`nexit 126`n"
        [System.IO.File]::SetUnixFileMode((Join-Path $Fake 'nft-126'), [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
        Set-Content -LiteralPath (Join-Path $Fake 'nft-noexec') -Value "#!/bin/sh`nexit 0`n"
        [System.IO.File]::SetUnixFileMode((Join-Path $Fake 'nft-noexec'), [System.IO.UnixFileMode]'UserRead, UserWrite')
        function Invoke-Server([string] $Nft) {
            $r = Invoke-WgLabPwsh -Lab $lab -Node server -AsResult -TimeoutSeconds 240 -Environment @{ WGT_NFT_PATH = $Nft } -ArgumentList $lab.Server.Interface -ScriptBlock {
                param($If) Invoke-WgDiagnosis -Interface $If
            }
            if ($r.Failure) { throw "child failed: $($r.Failure)" }
            @($r.Output)
        }
    }
    AfterAll {
        if ($lab) { Remove-WgLab -Lab $lab }
        if ($Fake) { Remove-Item -LiteralPath $Fake -Recurse -Force -ErrorAction SilentlyContinue }
    }

    It 'the symptom shows: the tunnel works, the internet host does not' {
        Test-WgLabPing -Lab $lab -To 192.0.2.1 -Count 1 | Should -BeTrue
        Test-WgLabPing -Lab $lab -To 192.0.2.130 -Count 1 -TimeoutSeconds 2 | Should -BeFalse
    }

    It 'nft <Case>: a Warning names the checks that could not run, and ForwardingDisabled is still found' -ForEach @(
        @{ Case = 'missing'; Nft = '/nonexistent/nft'; Says = 'not installed' }
        @{ Case = 'exiting 126'; Nft = 'nft-126'; Says = '126|cannot execute' }
        @{ Case = 'not executable'; Nft = 'nft-noexec'; Says = 'could not be started|denied' }
    ) {
        $path = if ($Nft.StartsWith('/')) { $Nft } else { Join-Path $Fake $Nft }
        $f = Invoke-Server $path
        $notRun = @($f | Where-Object Cause -eq 'CheckNotRun')
        $notRun.Count | Should -Be 1 -Because ($f | Format-List | Out-String)
        $notRun[0].Severity | Should -BeIn 'Warning', 'Error'
        $notRun[0].Summary | Should -Match 'FirewallInput'
        $notRun[0].Summary | Should -Match 'NatForwardPath'
        $notRun[0].Summary | Should -Match $Says
        @($f | Where-Object Cause -eq 'ForwardingDisabled').Count | Should -Be 1 -Because ($f | Format-List | Out-String)
        @($f | Where-Object Cause -eq 'Healthy') | Should -BeNullOrEmpty
    }

    It 'with nft readable the same host has no CheckNotRun' {
        $f = Invoke-Server ''
        @($f | Where-Object Cause -eq 'CheckNotRun') | Should -BeNullOrEmpty -Because ($f | Format-List | Out-String)
        $f[0].Cause | Should -Be 'ForwardingDisabled'
    }
}
