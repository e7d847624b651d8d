# The key-leak scan over every exported cmdlet, against lab configurations that carry secrets in every form a
# careless admin leaves them in: commented-out old keys, a preshared key in the comment that names a peer,
# keys inside PostUp/PreDown/PostDown hook text, keys in hex, unpadded and URL-safe base64; and malformed
# configurations whose "PrivateKey: <k>", "PrivateKey <k>" or "[PrivateKey = <k>]" line is a parse error.
# Everything each cmdlet returns or writes is searched: all streams (with -Verbose -Debug), CliXml, Format-List
# and Format-Table text, error records (message, TargetObject, InvocationInfo, exception chain), and the files
# the module writes (remediation reports, the state file, support bundles, exported snapshots). Every secret
# is searched as base64, unpadded, URL-safe and hex (both cases), and as any 24-character piece of those.
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

    function script:New-SecretKey {
        $b = [byte[]]::new(32)
        [System.Security.Cryptography.RandomNumberGenerator]::Fill($b)
        [Convert]::ToBase64String($b)
    }

    # Every form a 32-byte key can be written in.
    function script:ConvertTo-KeyForm([string] $Key) {
        $noPad = $Key.TrimEnd('=')
        $hex = [Convert]::ToHexString([Convert]::FromBase64String($Key))
        [pscustomobject]@{
            Base64 = $Key; NoPad = $noPad; UrlSafe = $noPad.Replace('+', '-').Replace('/', '_')
            UrlSafePadded = $Key.Replace('+', '-').Replace('/', '_')
            HexLower = $hex.ToLowerInvariant(); HexUpper = $hex.ToUpperInvariant()
        }
    }

    # The strings a leak of the secret would show: each form whole, and every 24-character piece of each form
    # (a truncated key in a message is a leak too), all searched without regard to case.
    # One pass over the text for every needle of every secret: the names of the secrets found, each with the
    # text around its first occurrence.
    function script:Find-Leak([string] $Text, $Secrets) {
        # the text in lower case once, then ordinal searches (the needles are lower-cased too: base64 pieces
        # of 24 characters are just as unique without case)
        $lower = $Text.ToLowerInvariant()
        foreach ($name in $Secrets.Keys) {
            foreach ($n in Get-LeakNeedle $Secrets[$name]) {
                $at = $lower.IndexOf($n.Text.ToLowerInvariant(), [StringComparison]::Ordinal)
                if ($at -lt 0) { continue }
                $from = [Math]::Max(0, $at - 160)
                "$name ($($n.Form) '$($n.Text)'): ..." + ($Text.Substring($from, [Math]::Min(320 + $n.Text.Length, $Text.Length - $from)) -replace '\s+', ' ') + '...'
                break
            }
        }
    }

    function script:Get-LeakNeedle([string] $Key) {
        $f = ConvertTo-KeyForm $Key
        foreach ($s in $f.Base64, $f.NoPad, $f.UrlSafe, $f.UrlSafePadded) {
            [pscustomobject]@{ Text = $s; Form = 'whole' }
        }
        foreach ($s in $f.HexLower, $f.HexUpper) { [pscustomobject]@{ Text = $s; Form = 'hex' } }
        foreach ($s in $f.NoPad, $f.UrlSafe) {
            for ($i = 0; $i + 24 -le $s.Length; $i++) { [pscustomobject]@{ Text = $s.Substring($i, 24); Form = 'piece' } }
        }
        for ($i = 0; $i + 24 -le $f.HexLower.Length; $i += 2) { [pscustomobject]@{ Text = $f.HexLower.Substring($i, 24); Form = 'hex piece' } }
    }
}

Describe 'No secret in anything any cmdlet returns or writes' -Tag Lab, Secrets -Skip:$LabUnavailable {
    BeforeAll {
        if (-not $env:WGT_MODULE) { throw 'WGT_MODULE is not set and no staged module was found: run dotnet pwsh ./build.ps1 Test' }
        $lab = New-WgLab
        $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15
        $null = Test-WgLabPing -Lab $lab -To 192.0.2.1 -Count 2

        # Each side's file gets, beside its live keys: its own private key and the preshared key again in
        # comments (as the module reads them: not keys), old private keys commented out, keys in hook text,
        # and the comment above [Peer] (the peer's name) mentioning the preshared key. The file stays one
        # that wg-quick and the module's parser accept. Each side also gets three malformed configurations.
        $script:Secrets = @{}
        $script:Malformed = @{}
        $script:Broken = @{}
        foreach ($side in $lab.Client, $lab.Server) {
            $node = $side.Node
            $live = ConvertTo-KeyForm $side.PrivateKey
            $psk = ConvertTo-KeyForm $lab.PresharedKey
            $old1 = New-SecretKey; $old2 = ConvertTo-KeyForm (New-SecretKey); $oldPsk = ConvertTo-KeyForm (New-SecretKey)
            $hook1 = New-SecretKey; $hook2 = ConvertTo-KeyForm (New-SecretKey); $hook3 = ConvertTo-KeyForm (New-SecretKey)
            $bad = 1..4 | ForEach-Object { ConvertTo-KeyForm (New-SecretKey) }
            $script:Secrets[$node] = [ordered]@{
                'client private key' = $lab.Client.PrivateKey; 'server private key' = $lab.Server.PrivateKey; 'preshared key' = $lab.PresharedKey
                'old private key (commented, base64)' = $old1; 'old private key (commented, unpadded)' = $old2.Base64
                'old preshared key (peer comment, URL-safe)' = $oldPsk.Base64
                'PostUp private-key key' = $hook1; 'PostUp hex key' = $hook2.Base64; 'PostDown URL-safe key' = $hook3.Base64
                'malformed PrivateKey: line' = $bad[0].Base64; 'malformed PrivateKey line without =' = $bad[1].Base64
                'malformed [PrivateKey = ] line' = $bad[2].Base64; 'malformed PresharedKey: line (hex)' = $bad[3].Base64
            }
            $text = [System.IO.File]::ReadAllText($side.HostConfigPath)
            $top = "# rotated: PrivateKey = $old1`n#PrivateKey=$($old2.NoPad)`n# PrivateKey: $($live.UrlSafe)`n# [PrivateKey = $($live.HexLower)]`n"
            $hooks = "PostUp = wg set %i private-key <(echo $hook1)`nPostUp = logger -t wg 'key $($hook2.HexUpper)'`nPreDown = true # $($psk.NoPad)`nPostDown = echo $($hook3.UrlSafe) > /dev/null`n"
            $text = $text -replace '(?m)^(PrivateKey\s*=.*\r?\n)', "`$1$hooks"
            # the comment directly above [Peer] is the peer's name: it now mentions preshared keys
            $text = $text -replace '(?m)^# (.*)\r?\n\[Peer\]', "# `$1 (psk $($psk.UrlSafe), was 0x$($oldPsk.HexUpper))`n[Peer]"
            $text = $top + $text
            [System.IO.File]::WriteAllText($side.HostConfigPath, $text)
            [System.IO.File]::SetUnixFileMode($side.HostConfigPath, [System.IO.UnixFileMode]'UserRead, UserWrite')

            # Malformed files beside it (parse errors on the key lines), and the live config itself made
            # malformed for the second pass: its PrivateKey line written "PrivateKey: <k>".
            $dir = Split-Path $side.HostConfigPath
            $base = 'wgz' + $lab.Id + $node.Substring(0, 1)
            $script:Malformed[$node] = @(
                @{ Name = "${base}1"; Text = $text -replace '(?m)^PrivateKey\s*=.*$', "PrivateKey: $($bad[0].Base64)" }
                @{ Name = "${base}2"; Text = $text -replace '(?m)^PrivateKey\s*=.*$', "PrivateKey $($bad[1].UrlSafe)" }
                @{ Name = "${base}3"; Text = $text -replace '(?m)^PrivateKey\s*=.*$', "[PrivateKey = $($bad[2].Base64)]`nPresharedKey: $($bad[3].HexLower)" }
            ) | ForEach-Object {
                $p = Join-Path $dir "$($_.Name).conf"
                [System.IO.File]::WriteAllText($p, $_.Text)
                [System.IO.File]::SetUnixFileMode($p, [System.IO.UnixFileMode]'UserRead, UserWrite')
                "/etc/wireguard/$($_.Name).conf"
            }
            $script:Broken[$node] = $text -replace '(?m)^PrivateKey\s*=\s*(\S+)\s*$', 'PrivateKey: $1'
        }
    }
    AfterAll {
        try { if ($lab) { Remove-WgLab -Lab $lab } }
        finally { $lab = $null }
    }

    It 'keeps every private and preshared key out of all streams, formats and files of every exported cmdlet on the <Node>' -ForEach @(@{ Node = 'client' }, @{ Node = 'server' }) {
        $side = if ($Node -eq 'client') { $lab.Client } else { $lab.Server }
        $other = if ($Node -eq 'client') { $lab.Server } else { $lab.Client }
        $peerKey = $other.PublicKey
        $script = {
            param($If, $ConfPath, $PeerKey, $OtherConfPath, [string[]] $MalformedPaths, [string] $BrokenText)
            $work = Join-Path ([System.IO.Path]::GetTempPath()) ('wgz-scan-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
            $null = New-Item -ItemType Directory $work
            $values = [ordered]@{
                Interface = $If; InterfaceName = $If; Name = $If
                Path = $ConfPath; LiteralPath = $ConfPath; ConfigPath = $ConfPath
                PublicKey = $PeerKey; Peer = $PeerKey
                Mtu = 1420
            }
            # Inputs of the diagnosis and remediation cmdlets: real findings and a real policy for this interface.
            $values.InputObject = @(Invoke-WgDiagnosis -Interface $If)
            $policy = Join-Path $work 'policy.yaml'
            $stateFile = Join-Path $work 'state.json'
            Set-Content -LiteralPath $policy -Value "stateFile: $stateFile`ninterfaces:`n  ${If}:`n    mtu: 1380`n    allowedRepairs: [Firewall, Mtu, Forwarding, Nat, Endpoint]`n    maxRepairsPerHour: 10`n"
            $values.Policy = $policy
            $identity = 'Interface', 'InterfaceName', 'Name', 'Path', 'LiteralPath', 'ConfigPath'
            $readOnlyVerbs = 'Get', 'Test', 'Find', 'Measure', 'Resolve', 'Show', 'Search', 'Select', 'Compare', 'Trace', 'Watch', 'Read'
            $ran = [System.Collections.Generic.List[string]]::new()
            $skipped = [System.Collections.Generic.List[string]]::new()
            $records = [System.Collections.Generic.List[object]]::new()
            $timings = [System.Collections.Generic.List[string]]::new()
            $errorList = [System.Collections.Generic.List[string]]::new()
            $run = {
                param([string] $Label, [scriptblock] $Call)
                $ran.Add($Label)
                $records.Add([pscustomobject]@{ Kind = 'Mark'; Label = $Label })
                $sw = [System.Diagnostics.Stopwatch]::StartNew()
                try { foreach ($r in (& $Call *>&1)) { $records.Add($r); if ($r -is [System.Management.Automation.ErrorRecord]) { $errorList.Add("$Label -> $($r.FullyQualifiedErrorId): $($r.Exception.Message)") } } }
                catch { $records.Add($_); $errorList.Add("$Label -> (terminating) $($_.FullyQualifiedErrorId): $($_.Exception.Message)") }
                $timings.Add(('{0,6} ms  {1}' -f $sw.ElapsedMilliseconds, $Label))
            }
            $generic = {
                foreach ($c in (Get-Module WgTroubleshoot).ExportedCmdlets.Values) {
                    $changes = $c.Verb -notin $readOnlyVerbs -and $c.Name -ne 'Invoke-WgDiagnosis'
                    $canWhatIf = $c.Parameters.ContainsKey('WhatIf')
                    if ($changes -and -not $canWhatIf) { $skipped.Add("$($c.Name): changes state and has no -WhatIf"); continue }
                    $forms = [System.Collections.Generic.List[hashtable]]::new()
                    foreach ($set in $c.ParameterSets) {
                        $splat = @{}
                        $ok = $true
                        foreach ($p in $set.Parameters) {
                            if (-not $p.IsMandatory) { continue }
                            if ($values.Contains($p.Name)) { $splat[$p.Name] = $values[$p.Name] } else { $ok = $false; break }
                        }
                        if (-not $ok) { continue }
                        if (-not ($splat.Keys | Where-Object { $_ -in $identity })) {
                            $id = $identity | Where-Object { $n = $_; $set.Parameters.Name -contains $n } | Select-Object -First 1
                            if ($id) { $splat[$id] = $values[$id] }
                        }
                        $key = ($splat.Keys | Sort-Object | ForEach-Object { "-$_ $($splat[$_])" }) -join ' '
                        if (-not ($forms | Where-Object { (($_.Keys | Sort-Object | ForEach-Object { "-$_ $($splat[$_])" }) -join ' ') -eq $key })) { $forms.Add($splat) }
                    }
                    if ($forms.Count -eq 0) { $skipped.Add("$($c.Name): no read-only form this test knows how to fill"); continue }
                    foreach ($f in $forms) {
                        $splat = $f.Clone()
                        $splat['Verbose'] = $true
                        $splat['Debug'] = $true
                        if ($changes) { $splat['WhatIf'] = $true }
                        # the waiting cmdlets wait briefly: what they output is the same, the run stays short
                        if ($c.Parameters.ContainsKey('Seconds')) { $splat['Seconds'] = 2 }
                        if ($c.Parameters.ContainsKey('SampleSeconds')) { $splat['SampleSeconds'] = 1 }
                        $label = "$($c.Name) " + (($splat.Keys | Sort-Object | ForEach-Object { "-$_" }) -join ' ')
                        & $run $label { & $c.Name @splat }.GetNewClosure()
                    }
                }
            }
            $vd = @{ Verbose = $true; Debug = $true }
            # (Export-WgSupportBundle -Debug inquires on its first verbose line, which a non-interactive host refuses:
            # its runs below take the debug stream through $DebugPreference instead.)
            # Pass 1: the secret-laden but valid configuration, every cmdlet, and the files the module writes.
            . $generic
            & $run 'Get-WgInterface | Get-WgPeer' { Get-WgInterface -Name $If @vd | Get-WgPeer @vd }.GetNewClosure()
            & $run 'Get-WgInterface (all)' { Get-WgInterface @vd }.GetNewClosure()
            & $run 'Compare-WgPeerConfig (both ends)' { Compare-WgPeerConfig -Path $ConfPath, $OtherConfPath @vd }.GetNewClosure()
            & $run 'Invoke-WgDiagnosis -SnapshotPath' { Invoke-WgDiagnosis -Interface $If -SnapshotPath (Join-Path $work 'snapshot.json') @vd }.GetNewClosure()
            & $run 'Invoke-WgDiagnosis -Snapshot' { Invoke-WgDiagnosis -Snapshot (Join-Path $work 'snapshot.json') @vd }.GetNewClosure()
            & $run 'Export-WgSupportBundle -Path' { $DebugPreference = 'Continue'; Export-WgSupportBundle -Path (Join-Path $work 'bundle.json') -Interface $If -PassThru -Confirm:$false -Verbose }.GetNewClosure()
            & $run 'Invoke-WgRemediation -ReportPath (repairs the MTU)' { Invoke-WgRemediation -Policy $policy -ReportPath (Join-Path $work 'report.json') -Confirm:$false @vd }.GetNewClosure()
            # Malformed files: the key lines are parse errors.
            foreach ($m in $MalformedPaths) {
                $mName = [System.IO.Path]::GetFileNameWithoutExtension($m)
                & $run "Test-WgConfig -Path $mName" { Test-WgConfig -Path $m @vd }.GetNewClosure()
                & $run "Test-WgConfig -Interface $mName" { Test-WgConfig -Interface $mName @vd }.GetNewClosure()
                & $run "Get-WgConfig -Path $mName" { Get-WgConfig -Path $m @vd }.GetNewClosure()
                & $run "Get-WgConfig -Interface $mName" { Get-WgConfig -Interface $mName @vd }.GetNewClosure()
                & $run "Compare-WgPeerConfig $mName" { Compare-WgPeerConfig -Path $m, $OtherConfPath @vd }.GetNewClosure()
            }
            # a configuration without a live interface
            & $run "Invoke-WgDiagnosis -Interface (malformed, not live)" { Invoke-WgDiagnosis -Interface ([System.IO.Path]::GetFileNameWithoutExtension($MalformedPaths[0])) @vd }.GetNewClosure()
            # Pass 2: the live interface's own configuration malformed ("PrivateKey: <k>").
            $original = [System.IO.File]::ReadAllBytes($ConfPath)
            try {
                [System.IO.File]::WriteAllText($ConfPath, $BrokenText)
                & $run 'broken: Test-WgConfig' { Test-WgConfig -Interface $If @vd }.GetNewClosure()
                & $run 'broken: Get-WgConfig' { Get-WgConfig -Interface $If @vd }.GetNewClosure()
                & $run 'broken: Invoke-WgDiagnosis' { Invoke-WgDiagnosis -Interface $If -SnapshotPath (Join-Path $work 'snapshot-broken.json') @vd }.GetNewClosure()
                & $run 'broken: Export-WgSupportBundle' { $DebugPreference = 'Continue'; Export-WgSupportBundle -Path (Join-Path $work 'bundle-broken.json') -Interface $If -Confirm:$false -Verbose }.GetNewClosure()
                & $run 'broken: Invoke-WgRemediation' { Invoke-WgRemediation -Policy $policy -ReportPath (Join-Path $work 'report-broken.yaml') -Confirm:$false @vd }.GetNewClosure()
                & $run 'broken: Compare-WgPeerConfig' { Compare-WgPeerConfig -Path $ConfPath, $OtherConfPath @vd }.GetNewClosure()
            }
            finally { [System.IO.File]::WriteAllBytes($ConfPath, $original) }

            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $text = [System.Text.StringBuilder]::new()
            $null = $text.AppendLine(($records | Format-List * -Force | Out-String -Width 400))
            $null = $text.AppendLine(($records | Format-Table | Out-String -Width 400))
            $null = $text.AppendLine(($records | Format-Table * -Force | Out-String -Width 2000))
            foreach ($r in $records) {
                $null = $text.AppendLine("$r")
                $er = if ($r -is [System.Management.Automation.ErrorRecord]) { $r } elseif ($r.PSObject.Properties['ErrorRecord']) { $r.ErrorRecord }
                if ($er) {
                    $null = $text.AppendLine($er.Exception.ToString())
                    $null = $text.AppendLine("$($er.ErrorDetails) $($er.CategoryInfo) $($er.FullyQualifiedErrorId) $($er.ScriptStackTrace)")
                    $null = $text.AppendLine(($er.TargetObject | Format-List * -Force | Out-String -Width 400))
                    $null = $text.AppendLine([System.Management.Automation.PSSerializer]::Serialize($er.TargetObject, 4))
                    $null = $text.AppendLine(($er.InvocationInfo | Format-List * -Force | Out-String -Width 400))
                }
            }
            # The files the module wrote: everything in the work folder but the policy, and everything in the
            # configuration folder but the configurations and their backups (the secrets' own home).
            $files = [ordered]@{}
            foreach ($f in Get-ChildItem -LiteralPath $work -File -Force) { if ($f.Name -ne 'policy.yaml') { $files[$f.FullName] = [System.IO.File]::ReadAllText($f.FullName) } }
            foreach ($f in Get-ChildItem -LiteralPath (Split-Path $ConfPath) -File -Force) {
                if ($f.Name -notmatch '\.conf(\.bak)?$') { $files[$f.FullName] = [System.IO.File]::ReadAllText($f.FullName) }
            }
            Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
            $timings.Add(('{0,6} ms  (formatting and reading the files)' -f $sw.ElapsedMilliseconds))
            $records
            [pscustomobject]@{ Kind = 'Summary'; Ran = $ran.ToArray(); Skipped = $skipped.ToArray(); Text = $text.ToString(); Files = $files; Timings = $timings.ToArray(); Errors = $errorList.ToArray() }
        }
        $started = Get-Date
        $res = Invoke-WgLabPwsh -Lab $lab -Node $Node -ScriptBlock $script -ArgumentList $side.Interface, $side.ConfigPath, $peerKey, $other.HostConfigPath, $script:Malformed[$Node], $script:Broken[$Node] -AllStreams -AsResult -TimeoutSeconds 400
        Write-Host "    scan on the $Node took $([int]((Get-Date) - $started).TotalSeconds) s"
        $res.Failure | Should -BeNullOrEmpty
        $summary = $res.Output | Where-Object { $_.PSObject.Properties['Kind'] -and $_.Kind -eq 'Summary' } | Select-Object -Last 1
        $summary | Should -Not -BeNullOrEmpty
        $summary.Skipped | Should -BeNullOrEmpty -Because 'every exported cmdlet must have a read-only form in this test'
        $ranText = $summary.Ran -join "`n"
        $ranText | Should -Match '(?m)^Get-WgInterface '
        $ranText | Should -Match '(?m)^Get-WgPeer '
        $ranText | Should -Match '(?m)^broken: Invoke-WgRemediation'
        if ($env:WGZ_SCAN_TIMINGS) { $summary.Timings + $summary.Errors | ForEach-Object { Write-Host "      $_" } }
        $fileText = ($summary.Files.Values) -join "`n"
        $haystack = $res.CliXml + "`n" + $res.StdOut + "`n" + $res.StdErr + "`n" + $summary.Text + "`n" + $fileText
        $secrets = $script:Secrets[$Node]
        $searchTime = [System.Diagnostics.Stopwatch]::StartNew()
        $leaks = [System.Collections.Generic.List[string]]::new()
        foreach ($l in @(Find-Leak $haystack $secrets)) { $leaks.Add($l) }
        Write-Host "    searched $([int]($haystack.Length / 1KB)) KiB for $($secrets.Count) secrets in $($searchTime.ElapsedMilliseconds) ms"
        if ($leaks.Count) {
            # where each leak came from: the cmdlet run (the mark before the record) and the record's type
            $label = '(before any run)'
            foreach ($o in $res.Output) {
                if ($o.PSObject.Properties['Kind'] -and $o.Kind -eq 'Mark') { $label = $o.Label; continue }
                if ($o.PSObject.Properties['Kind'] -and $o.Kind -eq 'Summary') { continue }
                $t = [System.Management.Automation.PSSerializer]::Serialize($o, 6)
                foreach ($l in @(Find-Leak $t $secrets)) { $leaks.Add("  in the output of [$label] ($($o.PSObject.TypeNames[0])): $l") }
            }
            foreach ($f in $summary.Files.Keys) {
                foreach ($l in @(Find-Leak $summary.Files[$f] $secrets)) { $leaks.Add("  in the file $f : $l") }
            }
            if ($env:WGZ_SCAN_TIMINGS) { $leaks | ForEach-Object { Write-Host "      LEAK $_" } }
        }
        $leaks | Should -BeNullOrEmpty -Because "no secret may be output (ran: $($summary.Ran -join '; '))"
        # not vacuous: the files were written, and the cmdlets did produce the interface's public data
        $names = @($summary.Files.Keys | ForEach-Object { Split-Path $_ -Leaf })
        foreach ($n in 'snapshot.json', 'bundle.json', 'report.json', 'state.json', 'snapshot-broken.json', 'bundle-broken.json', 'report-broken.yaml') {
            $names | Should -Contain $n -Because "the module should have written $n (wrote: $($names -join ', '))"
        }
        $haystack.Contains($side.PublicKey) | Should -BeTrue
        $summary.Text.Contains($peerKey) | Should -BeTrue
        $summary.Files[($summary.Files.Keys | Where-Object { $_ -like '*bundle.json' })].Contains($side.PublicKey) | Should -BeTrue
        # the parse errors were met (the malformed paths were read, not skipped)
        $haystack | Should -Match 'WgConfigParseError'

    }
}
