# Export-WgSupportBundle against real wireguard-go interfaces in the lab: the bundle is written inside the
# server's and the client's namespace, read back with ConvertFrom-Json, and searched for every secret of the lab.
# Tagged Lab: needs root, wireguard-go and the network tools; skipped cleanly elsewhere.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    if (-not $env:WGT_MODULE) {
        # run outside build.ps1: use the staged module
        $staged = Get-ChildItem (Join-Path $PSScriptRoot '../../out/WgTroubleshoot/*/WgTroubleshoot.psd1') -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($staged) { $env:WGT_MODULE = $staged.FullName }
    }
}

Describe 'Export-WgSupportBundle in the lab' -Tag Lab, Bundle -Skip:$LabUnavailable {
    BeforeAll {
        if (-not $env:WGT_MODULE) { throw 'WGT_MODULE is not set and no staged module was found: run dotnet pwsh ./build.ps1 Test' }
        $lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        $null = Test-WgLabPing -Lab $lab -To 192.0.2.1 -Count 2

        # Broken configs are the ones people send bundles of: give each side's file the lab's real keys in
        # every form a parser does not read as a key (commented out, after "PrivateKey:", in brackets, as hex,
        # without padding, URL-safe, in the comment that names the peer). The file stays valid for wg-quick.
        function script:ConvertTo-Forms([string] $Key) {
            $noPad = $Key.TrimEnd('=')
            [pscustomobject]@{
                Base64 = $Key; NoPad = $noPad; UrlSafe = $noPad.Replace('+', '-').Replace('/', '_')
                Hex = [Convert]::ToHexString([Convert]::FromBase64String($Key)).ToLowerInvariant()
            }
        }
        $script:HiddenForms = @()
        foreach ($side in $lab.Client, $lab.Server) {
            $k = ConvertTo-Forms $side.PrivateKey
            $p = ConvertTo-Forms $lab.PresharedKey
            $script:HiddenForms += $k.NoPad, $k.UrlSafe, $p.UrlSafe, $p.NoPad
            $text = [System.IO.File]::ReadAllText($side.HostConfigPath)
            $hidden = "# rotated: PrivateKey = $($k.Base64)`n#PrivateKey=$($k.NoPad)`n# PrivateKey: $($k.UrlSafe)`n# [PrivateKey = $($k.Hex)]`n"
            $text = $hidden + ($text -replace '(?m)^\[Peer\]', "# old psk $($p.UrlSafe) 0x$($p.Hex.ToUpperInvariant())`n[Peer]")
            [System.IO.File]::WriteAllText($side.HostConfigPath, $text)
        }

        # Writes a bundle into a private temporary directory of the child, returns its text, the file's mode,
        # what -PassThru gave, what a second run without -Force did, and what a run with -Force did.
        $script:ExportInChild = {
            param($If)
            $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('wgt-bundle-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
            $null = New-Item -ItemType Directory $dir
            try {
                $path = Join-Path $dir 'support.json'
                $file = Export-WgSupportBundle -Path $path -Interface $If -PassThru
                $text = [System.IO.File]::ReadAllText($path)
                $mode = [int][System.IO.File]::GetUnixFileMode($path)
                $again = try { Export-WgSupportBundle -Path $path -Interface $If -ErrorAction Stop; 'no error' }
                catch { "$($_.FullyQualifiedErrorId)|$($_.CategoryInfo.Category)" }
                $unchanged = [System.IO.File]::ReadAllText($path) -ceq $text
                $forced = @(Export-WgSupportBundle -Path $path -Interface $If -Force)
                [pscustomobject]@{
                    Text         = $text
                    Mode         = $mode
                    PassThruType = $file.GetType().FullName
                    PassThruPath = $file.FullName
                    Path         = $path
                    Again        = $again
                    Unchanged    = $unchanged
                    ForcedOutput = $forced.Count
                    ForcedMode   = [int][System.IO.File]::GetUnixFileMode($path)
                    ForcedText   = [System.IO.File]::ReadAllText($path)
                    FilesLeft    = @(Get-ChildItem -LiteralPath $dir -Force | ForEach-Object Name)
                }
            }
            finally { Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue }
        }
        $script:Results = @{}
        foreach ($node in 'server', 'client') {
            $side = if ($node -eq 'client') { $lab.Client } else { $lab.Server }
            $res = Invoke-WgLabPwsh -Lab $lab -Node $node -ScriptBlock $ExportInChild -ArgumentList $side.Interface -AsResult -TimeoutSeconds 300
            $script:Results[$node] = $res
        }
    }
    AfterAll {
        try { if ($lab) { Remove-WgLab -Lab $lab } }
        finally { $lab = $null }
    }

    It 'writes a bundle with every section on the <Node>' -ForEach @(@{ Node = 'server' }, @{ Node = 'client' }) {
        $side = if ($Node -eq 'client') { $lab.Client } else { $lab.Server }
        $peerKey = if ($Node -eq 'client') { $lab.Server.PublicKey } else { $lab.Client.PublicKey }
        $res = $Results[$Node]
        $res.Failure | Should -BeNullOrEmpty
        $res.Errors | Should -BeNullOrEmpty
        $r = $res.Output | Select-Object -Last 1
        $r | Should -Not -BeNullOrEmpty
        $b = $r.Text | ConvertFrom-Json

        $b.Format | Should -Be 'WgTroubleshoot.SupportBundle/1'
        $b.Module.Version | Should -Not -BeNullOrEmpty
        $b.PowerShell.Version | Should -Not -BeNullOrEmpty
        $b.System.Kernel | Should -Match 'Linux'
        @($b.Tools | Where-Object Tool -eq 'wg').Count | Should -Be 1
        ($b.Tools | Where-Object Tool -eq 'wg').Output | Should -Match 'wireguard-tools'

        @($b.Interfaces).Count | Should -Be 1
        $b.Interfaces[0].Name | Should -Be $side.Interface
        $b.Interfaces[0].PublicKey | Should -Be $side.PublicKey

        @($b.Peers).Count | Should -Be 1
        $b.Peers[0].PublicKey | Should -Be $peerKey
        $b.Peers[0].HasPresharedKey | Should -BeTrue

        @($b.Configs).Count | Should -Be 1
        $b.Configs[0].Path | Should -Be $side.ConfigPath
        $conf = $b.Configs[0].Text
        $conf | Should -Match '(?m)^# WgTroubleshoot test lab '
        $conf | Should -Match '(?m)^PrivateKey = \(redacted\)\r?$'
        $conf | Should -Match '(?m)^PresharedKey = \(redacted\)\r?$'
        $conf | Should -Match ('(?m)^PublicKey = ' + [regex]::Escape($peerKey) + '\r?$')

        $b.PSObject.Properties.Name | Should -Contain 'Firewall'
        $b.PSObject.Properties.Name | Should -Contain 'Forwarding'
        $b.Logs.PSObject.Properties.Name | Should -Contain 'Events'
        @($b.Diagnosis).Count | Should -BeGreaterThan 0
        @($b.Diagnosis | Where-Object { $_.Id -like 'WGD*' -and $_.Interface -eq $side.Interface }).Count | Should -BeGreaterThan 0
        # every hidden key was found, and Redactions counts exactly what the last pass replaced (all but the
        # PrivateKey and PresharedKey lines, which are redacted in place)
        $b.Redactions | Should -BeGreaterOrEqual 6
        $b.Redactions | Should -Be ([regex]::Matches($r.Text, [regex]::Escape('(redacted)')).Count - 2)
    }

    It 'keeps every private and preshared key out of the bundle on the <Node>' -ForEach @(@{ Node = 'server' }, @{ Node = 'client' }) {
        $res = $Results[$Node]
        $r = $res.Output | Select-Object -Last 1
        $haystack = $r.Text + "`n" + $r.ForcedText + "`n" + $res.CliXml + "`n" + $res.StdOut + "`n" + $res.StdErr
        $side = if ($Node -eq 'client') { $lab.Client } else { $lab.Server }
        $haystack.Contains($side.PublicKey) | Should -BeTrue -Because 'the bundle holds the public data (not vacuous)'
        $names = 'client private key', 'client private key (hex)', 'server private key', 'server private key (hex)', 'preshared key', 'preshared key (hex)'
        $secrets = @(Get-WgLabSecret -Lab $lab)
        $secrets.Count | Should -Be 6
        for ($k = 0; $k -lt $secrets.Count; $k++) {
            $haystack.IndexOf($secrets[$k], [StringComparison]::OrdinalIgnoreCase) | Should -Be -1 -Because "the $($names[$k]) must never be in a support bundle"
        }
        foreach ($f in $HiddenForms) {
            $haystack.IndexOf($f, [StringComparison]::OrdinalIgnoreCase) | Should -Be -1 -Because "no key may be in a bundle in any encoding ($f)"
        }
    }

    It 'writes the file with mode 0600, refuses to overwrite it without -Force and replaces it with -Force on the <Node>' -ForEach @(@{ Node = 'server' }, @{ Node = 'client' }) {
        $r = $Results[$Node].Output | Select-Object -Last 1
        $r.Mode | Should -Be 384   # 0600
        $r.PassThruType | Should -Be 'System.IO.FileInfo'
        $r.PassThruPath | Should -Be $r.Path
        $r.Again | Should -BeLike 'WgFileExists*|ResourceExists'
        $r.Unchanged | Should -BeTrue
        $r.ForcedOutput | Should -Be 0
        $r.ForcedMode | Should -Be 384
        { $r.ForcedText | ConvertFrom-Json } | Should -Not -Throw
        $r.FilesLeft | Should -Be @('support.json') -Because 'no temporary file is left behind'
    }
}
