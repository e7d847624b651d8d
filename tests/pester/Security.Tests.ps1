# The module as an attacker or a careless admin would try it, each in a child pwsh so that the exit code is
# the real one (a stack overflow is 134): hostile policy files, a report path over the policy, a read-only
# file system under the lock file. The read-only case needs root and unshare (a private mount namespace).

BeforeDiscovery {
    $script:CanUnshare = $IsLinux -and ((id -u) -eq '0') -and [bool](Get-Command unshare -ErrorAction SilentlyContinue)
}

BeforeAll {
    if (-not $env:WGT_MODULE) {
        $staged = Get-ChildItem (Join-Path $PSScriptRoot '../../out/WgTroubleshoot/*/WgTroubleshoot.psd1') -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($staged) { $env:WGT_MODULE = $staged.FullName }
    }
    if (-not $env:WGT_MODULE) { throw 'WGT_MODULE is not set and no staged module was found: run dotnet pwsh ./build.ps1 Test' }
    $script:Pwsh = if ($env:WGT_PWSH) { $env:WGT_PWSH } else { Join-Path $PSHOME 'pwsh' }
    $script:Dir = Join-Path ([System.IO.Path]::GetTempPath()) ('wgz-sec-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory $Dir

    # Runs a script in a child pwsh with the module imported; returns exit code, output, error text and seconds.
    function Invoke-ModuleChild([string] $Script, [string[]] $Prefix = @(), [int] $TimeoutSeconds = 120) {
        $file = Join-Path $Dir ('child-' + [Guid]::NewGuid().ToString('N').Substring(0, 6) + '.ps1')
        Set-Content -LiteralPath $file -Value ("`$ErrorActionPreference = 'Continue'`nImport-Module '$($env:WGT_MODULE)'`n" + $Script)
        $psi = [System.Diagnostics.ProcessStartInfo]::new()
        $all = @($Prefix) + @($Pwsh, '-NoProfile', '-NonInteractive', '-File', $file)
        $psi.FileName = $all[0]
        foreach ($a in $all[1..($all.Count - 1)]) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        $p = [System.Diagnostics.Process]::Start($psi)
        $outTask = $p.StandardOutput.ReadToEndAsync(); $errTask = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit($TimeoutSeconds * 1000)) { $p.Kill($true); throw "child did not finish within $TimeoutSeconds s" }
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; StdOut = $outTask.Result; StdErr = $errTask.Result; Seconds = $sw.Elapsed.TotalSeconds }
    }
}

AfterAll {
    Remove-Item -LiteralPath $Dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'A hostile policy file' -Tag Security {
    BeforeAll {
        # every case runs in one child: a stack overflow would end it with 134 and fail every case
        $sb = [System.Text.StringBuilder]::new('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]' + "`n")
        $prev = 'a'
        foreach ($c in 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i') {
            $null = $sb.Append("${c}: &$c [").Append((@(1..9 | ForEach-Object { "*$prev" }) -join ',')).Append("]`n")
            $prev = $c
        }
        $texts = @{ bomb = $sb.ToString(); seq = '[' * (200 * 1024); map = '{a: ' * (50 * 1024) }
        $lines = foreach ($kind in 'bomb', 'seq', 'map') {
            $policy = Join-Path $Dir "$kind.yaml"
            [System.IO.File]::WriteAllText($policy, $texts[$kind])
            $report = Join-Path $Dir "$kind-report.yaml"
            "`$sw = [Diagnostics.Stopwatch]::StartNew(); `$e = @(Invoke-WgRemediation -Policy '$policy' -ReportPath '$report' -Confirm:`$false 2>&1 | Where-Object { `$_ -is [System.Management.Automation.ErrorRecord] }); 'CASE $kind ' + `$LASTEXITCODE + ' ' + [int]`$sw.Elapsed.TotalSeconds + ' ' + `$e[0].FullyQualifiedErrorId + ' ' + `$e[0].Exception.Message"
        }
        $script:BombSize = (Get-Item (Join-Path $Dir 'bomb.yaml')).Length
        $script:OwnPolicy = Join-Path $Dir 'own.yaml'
        $script:OwnText = "stateFile: $(Join-Path $Dir 'own-state.json')`ninterfaces:`n  wgz0:`n    allowedRepairs: []`n"
        [System.IO.File]::WriteAllText($OwnPolicy, $OwnText)
        $lines += "`$e = @(Invoke-WgRemediation -Policy '$OwnPolicy' -ReportPath '$OwnPolicy' -Confirm:`$false 2>&1 | Where-Object { `$_ -is [System.Management.Automation.ErrorRecord] }); 'CASE own ' + `$LASTEXITCODE + ' 0 ' + `$e[0].FullyQualifiedErrorId"
        $script:Child = Invoke-ModuleChild (($lines -join "`n") + "`nexit 0")
        $script:Cases = @{}
        foreach ($l in $Child.StdOut -split "`n") { if ($l -match '^CASE (\w+) (\S+) (\d+) (.*)$') { $Cases[$Matches[1]] = [pscustomobject]@{ Exit = $Matches[2]; Seconds = [int]$Matches[3]; Error = $Matches[4] } } }
    }

    It 'answers <Name> with exit code 1, WgPolicyInvalid with its position, and a report' -ForEach @(
        @{ Name = 'a 451-byte alias bomb'; Kind = 'bomb' }
        @{ Name = 'a 200 KB nesting of ['; Kind = 'seq' }
        @{ Name = 'a 200 KB nesting of {a:'; Kind = 'map' }
    ) {
        $Child.ExitCode | Should -Be 0 -Because "the child must not crash (134 is a stack overflow): $($Child.StdOut) $($Child.StdErr)"
        if ($Kind -eq 'bomb') { $BombSize | Should -BeLessOrEqual 460 }
        $c = $Cases[$Kind]
        $c | Should -Not -BeNullOrEmpty
        $c.Exit | Should -Be '1'
        $c.Error | Should -Match '^WgPolicyInvalid.* line \d+, column \d+'
        $c.Seconds | Should -BeLessThan 20
        $report = Join-Path $Dir "$Kind-report.yaml"
        Test-Path -LiteralPath $report | Should -BeTrue
        Get-Content -Raw -LiteralPath $report | Should -Match 'outcome: Error'
    }

    It 'refuses a -ReportPath that is the policy itself and leaves the policy as it was' {
        $Cases['own'].Exit | Should -Be '1'
        $Cases['own'].Error | Should -Match '^WgInvalidArgument'
        [System.IO.File]::ReadAllText($OwnPolicy) | Should -BeExactly $OwnText
    }
}

Describe 'A read-only file system under the lock file' -Tag Security -Skip:(-not $CanUnshare) {
    It 'is a read-only error at once, not "another writer" after a wait' {
        $ro = Join-Path $Dir 'ro'
        $null = New-Item -ItemType Directory $ro
        $conf = Join-Path $ro 'wgz0.conf'
        $policy = Join-Path $Dir 'ro-policy.yaml'
        [System.IO.File]::WriteAllText($policy, "stateFile: $(Join-Path $ro 'state.json')`ninterfaces:`n  wgz0:`n    allowedRepairs: [Mtu]`n")
        # In a private mount namespace: a tmpfs with a config, remounted read-only, then the module writes to it.
        $script = @"
`$t = [WgTroubleshoot.Commands.WgCmdlet].Assembly.GetType('WgTroubleshoot.Config.WgConfigFile')
`$write = `$t.GetMethod('Write', [System.Reflection.BindingFlags]'NonPublic, Static')
`$sw = [System.Diagnostics.Stopwatch]::StartNew()
try { `$null = `$write.Invoke(`$null, @('$conf', [byte[]][System.Text.Encoding]::UTF8.GetBytes("[Interface]``n"), `$null)); 'CONFIG no error' }
catch { 'CONFIG ' + `$_.Exception.InnerException.ErrorId + ' ' + [int]`$sw.Elapsed.TotalSeconds + ' ' + `$_.Exception.InnerException.Message }
Invoke-WgRemediation -Policy '$policy' -Confirm:`$false 2>&1 | ForEach-Object { if (`$_ -is [System.Management.Automation.ErrorRecord]) { 'STATE ' + `$_.FullyQualifiedErrorId + ' ' + `$_.Exception.Message } }
exit `$LASTEXITCODE
"@
        $inner = "mount -t tmpfs -o size=1m tmpfs '$ro' && printf '[Interface]\nListenPort = 1\n' > '$conf' && mount -o remount,ro '$ro' && exec `"`$0`" `"`$@`""
        $r = Invoke-ModuleChild $script -Prefix @('unshare', '-m', '--propagation', 'private', 'sh', '-c', $inner)
        $r.StdOut | Should -Match 'CONFIG WgConfigWriteFailed [0-3] .*read-only' -Because ($r.StdOut + $r.StdErr)
        $r.StdOut | Should -Not -Match 'another writer'
        $r.StdOut | Should -Match 'STATE WgFileWriteFailed.*read-only'
        $r.ExitCode | Should -Be 1
        Test-Path -LiteralPath $conf | Should -BeFalse -Because 'the tmpfs existed only in the child namespace'
    }
}
