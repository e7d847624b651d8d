#requires -Version 7.0
<#
.SYNOPSIS
    Benchmarks WgTroubleshoot against baselines measured in the same run, and prints the ratios.
.DESCRIPTION
    1. Path MTU (Linux, root, the lab's tools): two labs made with tests/lab/WgLab.psm1, one with the
       fault MtuBlackhole (the router's link towards the server has MTU 1400 and "fragmentation needed"
       is dropped) and one clean. In each lab's client namespace it times Measure-WgPathMtu -Interface
       (the parallel search, end to end), the sequential bisection (PathMtuMeasurer, Strategy Sequential:
       the baseline) and tracepath, on the same path. The true path MTU is the smallest link MTU on the
       lab's path, read from the links. Targets: exact, and <= 5 s blackholed, <= 2 s clean.
    2. Hub scale (Linux, root, wireguard-go, wg and ip installed): a throwaway network namespace
       (wgt-bench-XXXXXX) with one wireguard-go interface carrying -PeerCount peers (random public keys,
       one 2001:db8::/32 /128 each, endpoints in 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24). The link
       stays down for the listing (and is brought up for the hub-scale cases, so that the diagnosis looks
       at the peers) and the namespace has no routes: nothing is sent anywhere. Inside the namespace it times
       `wg show IF dump` (baseline), Get-WgPeer, and a hand-written `wg show IF` parser (target: Get-WgPeer
       / raw dump <= 1.5), then, each in a fresh pwsh of its own with its peak memory (VmHWM):
       the raw dump, Get-WgPeer, Test-WgConfig on the same configuration and Invoke-WgDiagnosis.
       Targets: Test-WgConfig within 3 s beyond Get-WgPeer, Invoke-WgDiagnosis within the sampling time
       plus 3 s beyond Get-WgPeer, each under 400 MiB peak.
    3. Import cost: a fresh pwsh that imports the module versus a fresh pwsh that does nothing, and between
       them, in the same rounds, the steps the import is made of (PowerShell's first Import-Module, a
       manifest, the format table a format file makes PowerShell build, the module without its formats),
       each against the bare pwsh and against the step before. Target: under 100 ms extra.
    Results are printed even when a target is missed, and a summary of every PASS/FAIL line at the end;
    the exit code is 0 unless the benchmark itself could not run. Everything it creates is removed in a
    finally block (also on Ctrl+C).
.EXAMPLE
    dotnet pwsh ./build.ps1 Bench
.EXAMPLE
    pwsh -NoProfile -File bench/Invoke-Bench.ps1 -ModulePath out/WgTroubleshoot/0.1.0/WgTroubleshoot.psd1 -Runs 15
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $PeerCount = 10000,
    [int] $Runs = 7,
    [int] $ImportRuns = 9,
    [int] $MtuRuns = 3,
    [int] $MtuBaselineRuns = 1,
    [int] $CaseTimeoutSeconds = 180,
    [int] $DiagnosisSampleSeconds = 3,
    [switch] $SkipPathMtu,
    [switch] $SkipPeerListing,
    [switch] $SkipHubScale,
    [switch] $SkipImport
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$Pwsh = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
$SocketDirectory = '/var/run/wireguard'

function Get-Median([double[]] $Values) {
    $s = @($Values | Sort-Object)
    $n = $s.Count
    if ($n -eq 0) { return [double]::NaN }
    if ($n % 2) { return [double]$s[[int][math]::Floor($n / 2)] }
    ([double]$s[$n / 2 - 1] + [double]$s[$n / 2]) / 2
}

# Runs a process to completion within $TimeoutSeconds (polling, so that Ctrl+C is honoured between polls);
# kills it and throws when the time is up. Returns exit code, output and error text.
function Invoke-Bounded {
    param([string] $FilePath, [string[]] $ArgumentList, [int] $TimeoutSeconds = 30, [switch] $Check)
    $psi = [Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $p = [Diagnostics.Process]::Start($psi)
    try {
        $out = $p.StandardOutput.ReadToEndAsync()
        $err = $p.StandardError.ReadToEndAsync()
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while (-not $p.WaitForExit(200)) {
            if ([DateTime]::UtcNow -gt $deadline) {
                throw "'$FilePath $($ArgumentList -join ' ')' did not finish within $TimeoutSeconds s."
            }
        }
        $p.WaitForExit()
        $r = [pscustomobject]@{ ExitCode = $p.ExitCode; StdOut = $out.Result; StdErr = $err.Result }
        if ($Check -and $r.ExitCode -ne 0) {
            throw "'$FilePath $($ArgumentList -join ' ')' exited with $($r.ExitCode): $($r.StdErr.Trim())"
        }
        $r
    }
    finally {
        if (-not $p.HasExited) { try { $p.Kill($true) } catch { }; $null = $p.WaitForExit(2000) }
        $p.Dispose()
    }
}

function Format-Ms([double] $Ms) { '{0,10:N1}' -f $Ms }

# Every verdict, for the summary at the end.
$Verdicts = [Collections.Generic.List[string]]::new()
function Write-Verdict([string] $Line) {
    Write-Host $Line
    $Verdicts.Add($Line.Trim())
}

# CPU time (user + system, ms) of this process's children that have been waited for (Linux /proc only;
# 10 ms resolution). Far less sensitive than wall time to other work on the machine.
$ClockTicks = if ($IsLinux) { try { [double](getconf CLK_TCK) } catch { 100.0 } } else { 0 }
function Get-ChildCpuMs {
    if (-not $ClockTicks -or -not (Test-Path /proc/self/stat)) { return [double]::NaN }
    $stat = [IO.File]::ReadAllText('/proc/self/stat')
    $f = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')   # fields from the 3rd on
    ([double]$f[13] + [double]$f[14]) * 1000 / $ClockTicks        # cutime, cstime (fields 16, 17)
}

# ---------------------------------------------------------------------------------------------------
# 0. Path MTU
# ---------------------------------------------------------------------------------------------------
# The true path MTU of a lab path: the smallest MTU of the links the client's packets to the server cross.
function Get-LabPathMtu($Lab) {
    $links = @(
        @($Lab.Namespaces.client, 'eth0'), @($Lab.Namespaces.router, 'rt-client'),
        @($Lab.Namespaces.router, 'rt-server'), @($Lab.Namespaces.server, 'ens3'))
    $mtus = foreach ($l in $links) {
        $t = (Invoke-Bounded ip @('-n', $l[0], '-o', 'link', 'show', 'dev', $l[1]) -Check).StdOut
        if ($t -match '\bmtu (\d+)') { [int]$Matches[1] } else { throw "No MTU for $($l[1]) in $($l[0])." }
    }
    ($mtus | Measure-Object -Minimum).Minimum
}

function Invoke-PathMtuBench {
    if (-not $IsLinux) { Write-Host 'Path MTU: skipped (needs Linux network namespaces).'; return }
    if ((id -u) -ne '0') { Write-Host 'Path MTU: skipped (needs root for the lab).'; return }
    $labModule = Join-Path $PSScriptRoot '../tests/lab/WgLab.psm1'
    if (-not (Test-Path -LiteralPath $labModule)) { Write-Host "Path MTU: skipped (no lab module at $labModule)."; return }
    Import-Module $labModule -Force
    $reason = Test-WgLabPrerequisite -Reason
    if ($reason) { Write-Host "Path MTU: skipped ($reason)."; return }
    $measure = Join-Path $PSScriptRoot 'Measure-PathMtu.ps1'
    $cases = [ordered]@{
        'blackholed' = @{ Fault = @('MtuBlackhole'); TargetMs = 5000 }
        'clean'      = @{ Fault = @(); TargetMs = 2000 }
    }
    foreach ($name in $cases.Keys) {
        $case = $cases[$name]
        $lab = $null
        $work = Join-Path ([IO.Path]::GetTempPath()) ('wgt-bench-mtu-{0:x8}' -f (Get-Random))
        try {
            $null = New-Item -ItemType Directory -Path $work
            $lab = if ($case.Fault.Count) { New-WgLab -Fault $case.Fault } else { New-WgLab }
            $null = Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 20
            $truth = Get-LabPathMtu $lab
            $result = Join-Path $work 'mtu.json'
            $r = Invoke-Bounded ip @('netns', 'exec', $lab.Namespaces.client, $Pwsh, '-NoProfile', '-NonInteractive', '-File', $measure,
                '-ModulePath', $ModulePath, '-Interface', $lab.Client.Interface, '-ResultPath', $result,
                '-Runs', $MtuRuns, '-BaselineRuns', $MtuBaselineRuns) -TimeoutSeconds 600
            if ($r.ExitCode -ne 0 -or -not (Test-Path -LiteralPath $result)) {
                throw "The measuring pwsh failed (exit code $($r.ExitCode)): $($r.StdErr.Trim()) $($r.StdOut.Trim())"
            }
            $d = Get-Content -Raw -LiteralPath $result | ConvertFrom-Json
            $par = Get-Median @($d.Parallel | ForEach-Object Ms)
            $seq = Get-Median @($d.Sequential | ForEach-Object Ms)
            $overhead = if ($d.Destination -match ':') { 80 } else { 60 }
            $exact = @($d.Parallel | Where-Object { $_.PathMtu -ne $truth -or $_.RecommendedMtu -ne ($truth - $overhead) -or $_.Status -ne 'Measured' }).Count -eq 0
            $seqExact = @($d.Sequential | Where-Object { $_.PathMtu -ne $truth }).Count -eq 0
            $p0 = @($d.Parallel)[0]
            Write-Host ''
            Write-Host ("Path MTU, {0} lab path (client to {1}, true path MTU {2}: the smallest link MTU on the path), median of {3} runs after 1 warm-up (ms):" -f $name, $d.Destination, $truth, @($d.Parallel).Count)
            Write-Host ("  {0,-22}{1}   Measure-WgPathMtu -Interface {2}: PathMtu {3}, RecommendedMtu {4}, Blackhole {5}, full size in tunnel {6}; {7} packets in {8} rounds" -f `
                    'parallel (cmdlet)', (Format-Ms $par), $lab.Client.Interface, $p0.PathMtu, $p0.RecommendedMtu, $p0.Blackhole, $p0.FullSizePassesInTunnel, $p0.Probes, $p0.Rounds)
            Write-Host ("  {0,-22}{1}   PathMtuMeasurer, Strategy Sequential (baseline): PathMtu {2}, {3} packets" -f 'sequential bisection', (Format-Ms $seq), @($d.Sequential)[0].PathMtu, @($d.Sequential)[0].Probes)
            $tp = $d.Tracepath
            $tpText = if ($null -eq $tp.Ms) { $tp.Output } else { "tracepath -n -m 3 $($d.Destination): pmtu $($tp.PathMtu)$(if ($tp.PathMtu -eq $truth) { ' (right)' } else { " (wrong: the path carries $truth)" })$(if (-not $tp.Reached) { ', destination not reached' })" }
            Write-Host ("  {0,-22}{1}   {2}" -f 'tracepath', $(if ($null -eq $tp.Ms) { '         -' } else { Format-Ms $tp.Ms }), $tpText)
            Write-Host ("    {0,-20} runs: {1}" -f 'parallel', ((@($d.Parallel) | ForEach-Object { '{0:N0}' -f $_.Ms }) -join ' '))
            Write-Host ("    {0,-20} runs: {1}" -f 'sequential', ((@($d.Sequential) | ForEach-Object { '{0:N0}' -f $_.Ms }) -join ' '))
            $ok = $exact -and $par -le $case.TargetMs
            Write-Verdict ("  path MTU {0,-11} {1,7:N0} ms, sequential / parallel {2,5:N1}x, tracepath / parallel {3,5:N1}x; exact {4} (sequential: {5})   target exact and <= {6:N0} s   {7}" -f `
                    $name, $par, ($seq / $par), $(if ($null -eq $tp.Ms) { [double]::NaN } else { $tp.Ms / $par }), $exact, $seqExact, ($case.TargetMs / 1000), $(if ($ok) { 'PASS' } else { 'FAIL' }))
        }
        catch {
            Write-Verdict "  path MTU $name : the benchmark could not run: $_ ($($_.InvocationInfo.PositionMessage -replace "\s+", " "))   FAIL"
        }
        finally {
            if ($lab) { Remove-WgLab -Lab $lab }
            if (Test-Path -LiteralPath $work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
        }
    }
}

# ---------------------------------------------------------------------------------------------------
# 1. Peer listing
# ---------------------------------------------------------------------------------------------------
function Invoke-PeerListingBench {
    if ($SkipPeerListing -and $SkipHubScale) { return }
    $missing = @('ip', 'wg', 'wireguard-go').Where({ -not (Get-Command $_ -CommandType Application -ErrorAction SilentlyContinue) })
    if (-not $IsLinux) { Write-Host 'Peer listing: skipped (needs Linux network namespaces).'; return }
    if ((id -u) -ne '0') { Write-Host 'Peer listing: skipped (needs root for ip netns).'; return }
    if ($missing) { Write-Host "Peer listing: skipped ($($missing -join ', ') not installed)."; return }

    $tag = -join ((1..6) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) })
    $ns = "wgt-bench-$tag"
    $if = "wgtb$tag"                       # 10 characters; unique, as the socket directory is shared
    $socket = Join-Path $SocketDirectory "$if.sock"
    $work = Join-Path ([IO.Path]::GetTempPath()) "wgt-bench-$tag"
    $daemon = $null
    $nsCreated = $false
    try {
        $null = New-Item -ItemType Directory -Path $work
        if ($IsLinux) { chmod 700 $work }
        $null = Invoke-Bounded ip @('netns', 'add', $ns) -Check
        $nsCreated = $true

        # wireguard-go in the foreground, so that its PID is ours to stop (ip netns exec execs it).
        $env:LOG_LEVEL = 'error'
        $daemon = Start-Process -FilePath (Get-Command ip -CommandType Application)[0].Source `
            -ArgumentList @('netns', 'exec', $ns, 'wireguard-go', '-f', $if) -PassThru `
            -RedirectStandardOutput (Join-Path $work 'wireguard-go.out') -RedirectStandardError (Join-Path $work 'wireguard-go.err')
        Remove-Item Env:LOG_LEVEL
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Test-Path -LiteralPath $socket)) {
            if ($daemon.HasExited) { throw "wireguard-go exited with $($daemon.ExitCode): $(Get-Content -Raw (Join-Path $work 'wireguard-go.err'))" }
            if ([DateTime]::UtcNow -gt $deadline) { throw "wireguard-go did not open $socket within 10 s." }
            Start-Sleep -Milliseconds 100
        }
        # ip netns exec execs its command, so this PID is wireguard-go's own.
        $comm = Get-Content -LiteralPath "/proc/$($daemon.Id)/comm" -ErrorAction SilentlyContinue
        if ($comm -ne 'wireguard-go') { throw "PID $($daemon.Id) is '$comm', not wireguard-go." }

        # The configuration: one setconf from a 0600 file. Keys are random 32-byte strings (any 32 bytes
        # are a valid Curve25519 public key for wg); the private key is random too and is clamped by wg.
        $rng = [Security.Cryptography.RandomNumberGenerator]::Create()
        $buf = [byte[]]::new(32)
        $sb = [Text.StringBuilder]::new(200 * $PeerCount)
        $rng.GetBytes($buf)
        $null = $sb.Append("[Interface]`nPrivateKey = ").Append([Convert]::ToBase64String($buf)).Append("`n")
        $ranges = '192.0.2', '198.51.100', '203.0.113'
        for ($i = 0; $i -lt $PeerCount; $i++) {
            $rng.GetBytes($buf)
            $v6 = '2001:db8:{0:x}:{1:x}::1/128' -f ($i -shr 16), ($i -band 0xffff)
            $ep = '{0}.{1}:{2}' -f $ranges[$i % 3], (1 + ($i % 254)), (51820 + ($i % 1000))
            $null = $sb.Append("`n[Peer]`nPublicKey = ").Append([Convert]::ToBase64String($buf)).
                Append("`nAllowedIPs = ").Append($v6).Append("`nEndpoint = ").Append($ep).Append("`n")
        }
        $rng.Dispose()
        $conf = Join-Path $work "$if.conf"
        $opts = [IO.FileStreamOptions]@{ Mode = 'CreateNew'; Access = 'Write' }
        if (-not $IsWindows) { $opts.UnixCreateMode = [IO.UnixFileMode]'UserRead, UserWrite' }
        $fs = [IO.FileStream]::new($conf, $opts)
        try {
            $bytes = [Text.Encoding]::ASCII.GetBytes($sb.ToString())
            $fs.Write($bytes, 0, $bytes.Length)
        }
        finally { $fs.Dispose() }
        $sb = $null

        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = Invoke-Bounded ip @('netns', 'exec', $ns, 'wg', 'setconf', $if, $conf) -TimeoutSeconds 120 -Check
        $n = ((Invoke-Bounded ip @('netns', 'exec', $ns, 'wg', 'show', $if, 'peers') -Check).StdOut -split "`n").Where({ $_ }).Count
        if ($n -ne $PeerCount) { throw "wg reports $n peers on $if after setconf; expected $PeerCount." }
        Write-Host ("Peer listing: namespace {0}, interface {1} (wireguard-go PID {2}), {3} peers configured in {4:N1} s." -f $ns, $if, $daemon.Id, $n, $sw.Elapsed.TotalSeconds)

        if (-not $SkipPeerListing) { Invoke-ListingCases $ns $if $work }
        if (-not $SkipHubScale) {
            # The diagnosis of a link that is down stops at InterfaceDown: bring it up. The namespace has
            # no route and no other interface, so nothing can leave it, and without traffic or keepalives
            # wireguard-go starts no handshake.
            $null = Invoke-Bounded ip @('-n', $ns, 'link', 'set', $if, 'up') -Check
            Invoke-HubScaleCases $ns $if $work $conf
        }
    }
    finally {
        # Teardown, bounded at every step: the daemon by its PID (TERM, then KILL), its socket, the
        # namespace (which takes the tun device with it), the work folder (and the configuration in it).
        if ($daemon) {
            if (-not $daemon.HasExited) {
                try { $null = Invoke-Bounded kill @('-TERM', "$($daemon.Id)") -TimeoutSeconds 5 } catch { }
                if (-not $daemon.WaitForExit(5000)) { try { $daemon.Kill() } catch { }; $null = $daemon.WaitForExit(2000) }
            }
        }
        if (Test-Path -LiteralPath $socket) { Remove-Item -LiteralPath $socket -Force -ErrorAction SilentlyContinue }
        if ($nsCreated) {
            try {
                $d = Invoke-Bounded ip @('netns', 'del', $ns) -TimeoutSeconds 15
                if ($d.ExitCode -ne 0) { Write-Warning "Could not delete namespace ${ns}: $($d.StdErr.Trim())" }
            }
            catch { Write-Warning "Could not delete namespace ${ns}: $_" }
        }
        if (Test-Path -LiteralPath $work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
    }
}

function Invoke-ListingCases([string] $ns, [string] $if, [string] $work) {
        $result = Join-Path $work 'result.json'
        $measure = Join-Path $PSScriptRoot 'Measure-PeerListing.ps1'
        $r = Invoke-Bounded ip @('netns', 'exec', $ns, $Pwsh, '-NoProfile', '-NonInteractive', '-File', $measure,
            '-ModulePath', $ModulePath, '-Interface', $if, '-ResultPath', $result, '-Runs', $Runs) -TimeoutSeconds 900
        if ($r.ExitCode -ne 0 -or -not (Test-Path -LiteralPath $result)) {
            throw "The measuring pwsh failed (exit code $($r.ExitCode)): $($r.StdErr.Trim()) $($r.StdOut.Trim())"
        }
        $data = Get-Content -Raw -LiteralPath $result | ConvertFrom-Json
        $raw = Get-Median $data.Times.'raw-dump'
        $mod = Get-Median $data.Times.'Get-WgPeer'
        $hand = Get-Median $data.Times.'hand-written'
        $ratio = $mod / $raw
        $count = [int]$data.Counts.'Get-WgPeer'

        Write-Host ''
        Write-Host "Peer listing, $PeerCount peers, median of $($data.Runs) runs after $($data.WarmUp) warm-up (ms):"
        Write-Host ("  {0,-14}{1}   `$raw = wg show $if dump" -f 'raw dump', (Format-Ms $raw))
        Write-Host ("  {0,-14}{1}   `$x = Get-WgPeer -Interface $if" -f 'Get-WgPeer', (Format-Ms $mod))
        Write-Host ("  {0,-14}{1}   `$y = wg show $if, parsed with switch -Regex" -f 'hand-written', (Format-Ms $hand))
        foreach ($k in 'raw-dump', 'Get-WgPeer', 'hand-written') {
            Write-Host ("    {0,-14} runs: {1}" -f $k, (($data.Times.$k | ForEach-Object { '{0:N0}' -f $_ }) -join ' '))
        }
        $verdict = if ($ratio -le 1.5) { 'PASS' } else { 'FAIL' }
        Write-Verdict ("  Get-WgPeer / raw dump     {0,6:N2}x   target <= 1.50x   {1}" -f $ratio, $verdict)
        Write-Host ("  hand-written / Get-WgPeer {0,6:N2}x   (how much slower the usual script is)" -f ($hand / $mod))
        $countVerdict = if ($count -eq $PeerCount) { 'PASS' } else { 'FAIL' }
        Write-Verdict ("  Get-WgPeer returned {0} objects ({1}), hand-written {2}; {3} peers differ in keys, endpoints or allowed IPs.   {4}" -f $count, $data.PeerType, $data.Counts.'hand-written', $data.Mismatches, $countVerdict)
}

# Hub scale: every case in a fresh pwsh of its own inside the namespace, so that its peak memory (VmHWM)
# is its own. The raw dump is the baseline for time and memory (the same pwsh with the module imported).
function Invoke-HubScaleCases([string] $ns, [string] $if, [string] $work, [string] $conf) {
    $measure = Join-Path $PSScriptRoot 'Measure-HubScale.ps1'
    $cases = 'raw-dump', 'Get-WgPeer', 'Test-WgConfig', 'Invoke-WgDiagnosis'
    $data = [ordered]@{}
    foreach ($case in $cases) {
        $result = Join-Path $work "hub-$case.json"
        $sw = [Diagnostics.Stopwatch]::StartNew()
        try {
            $r = Invoke-Bounded ip @('netns', 'exec', $ns, $Pwsh, '-NoProfile', '-NonInteractive', '-File', $measure,
                '-ModulePath', $ModulePath, '-Case', $case, '-Interface', $if, '-ConfigPath', $conf, '-ResultPath', $result) -TimeoutSeconds $CaseTimeoutSeconds
            if ($r.ExitCode -ne 0 -or -not (Test-Path -LiteralPath $result)) {
                $data[$case] = [pscustomobject]@{ Failed = "exit code $($r.ExitCode): $(($r.StdErr.Trim() -split "`n")[0])" }
            }
            else { $data[$case] = Get-Content -Raw -LiteralPath $result | ConvertFrom-Json }
        }
        catch {
            $data[$case] = [pscustomobject]@{ Failed = "did not finish within $CaseTimeoutSeconds s (stopped)" }
        }
        $data[$case] | Add-Member -NotePropertyName WallMs -NotePropertyValue $sw.Elapsed.TotalMilliseconds -Force
    }
    function Get-Field($o, [string] $Name) { if ($o.PSObject.Properties[$Name]) { $o.$Name } else { $null } }
    Write-Host ''
    Write-Host "Hub scale, $PeerCount peers, one fresh pwsh per case (time after Import-Module; peak = the process's VmHWM):"
    Write-Host ("  {0,-20}{1,12}{2,12}{3,10}   {4}" -f 'case', 'ms', 'peak MiB', 'objects', 'what came back')
    foreach ($case in $cases) {
        $d = $data[$case]
        $failed = Get-Field $d 'Failed'
        if ($failed) { Write-Host ("  {0,-20}{1,12}{2,12}{3,10}   {4}" -f $case, '-', '-', '-', $failed); continue }
        $causes = (Get-Field $d 'Causes')
        $what = if ($causes) { ($causes.PSObject.Properties | ForEach-Object { "$($_.Name) x$($_.Value)" }) -join ', ' } else { '' }
        $errs = @(Get-Field $d 'Errors')
        if ($errs.Count -and $errs[0]) { $what = "$what; errors: $($errs -join ' | ')" }
        Write-Host ("  {0,-20}{1,12:N0}{2,12:N1}{3,10}   {4}" -f $case, $d.Ms, ($d.PeakKiB / 1024), $d.Count, $what)
    }
    $raw = $data['raw-dump']; $peer = $data['Get-WgPeer']
    if (Get-Field $raw 'Failed') { Write-Verdict '  Hub scale: the raw dump baseline failed; no ratios.   FAIL'; return }
    $peerMs = if (Get-Field $peer 'Failed') { $null } else { [double]$peer.Ms }
    $targets = [ordered]@{
        'Test-WgConfig'      = @{ Allowance = 3000; Text = 'Get-WgPeer + 3 s' }
        'Invoke-WgDiagnosis' = @{ Allowance = 3000 + 1000 * $DiagnosisSampleSeconds; Text = "Get-WgPeer + $DiagnosisSampleSeconds s sampling + 3 s" }
    }
    foreach ($case in $targets.Keys) {
        $d = $data[$case]
        $failed = Get-Field $d 'Failed'
        if ($failed -or $null -eq $peerMs) {
            Write-Verdict ("  {0,-19} {1,10}   target <= {2}, < 400 MiB   FAIL ({3})" -f $case, '-', $targets[$case].Text, $(if ($failed) { $failed } else { 'no Get-WgPeer time' }))
            continue
        }
        $limit = $peerMs + $targets[$case].Allowance
        $peakMiB = $d.PeakKiB / 1024
        $ok = ([double]$d.Ms -le $limit) -and ($peakMiB -lt 400)
        $causes = Get-Field $d 'Causes'
        if ($case -eq 'Invoke-WgDiagnosis' -and $causes -and $causes.PSObject.Properties['InterfaceDown']) {
            Write-Verdict ("  {0,-19} stopped at InterfaceDown: the benchmark's interface was not up, so the peers were not diagnosed   FAIL" -f $case)
            continue
        }
        Write-Verdict ("  {0,-19} {1,8:N0} ms = {2,7:N1}x raw dump, {3,6:N1} MiB peak ({4:N1} MiB for the raw dump)   target <= {5} = {6:N0} ms, < 400 MiB   {7}" -f `
                $case, [double]$d.Ms, ([double]$d.Ms / [math]::Max(1, [double]$raw.Ms)), $peakMiB, ($raw.PeakKiB / 1024), $targets[$case].Text, $limit, $(if ($ok) { 'PASS' } else { 'FAIL' }))
    }
    if ($null -ne $peerMs) {
        $peakMiB = $peer.PeakKiB / 1024
        Write-Verdict ("  {0,-19} {1,8:N0} ms = {2,7:N1}x raw dump, {3,6:N1} MiB peak   target < 400 MiB   {4}" -f 'Get-WgPeer', $peerMs, ($peerMs / [math]::Max(1, [double]$raw.Ms)), $peakMiB, $(if ($peakMiB -lt 400) { 'PASS' } else { 'FAIL' }))
    }
}


# ---------------------------------------------------------------------------------------------------
# 2. Import cost
# ---------------------------------------------------------------------------------------------------
function Invoke-ImportBench {
    # Every case is a fresh pwsh of its own, all cases back to back in each round (round -1 is a warm-up), so
    # that drift on a busy machine touches them alike. The cases add one thing at a time, from a bare start to
    # the module as shipped, so that the difference between neighbours is the cost of that one thing:
    #   bare pwsh                   -Command '$null'
    #   empty script module         PowerShell's first Import-Module, whatever the module (an empty .psm1)
    #   empty manifest              the same through a .psd1 (PowerShell's manifest processing)
    #   empty manifest + formats    the same with the module's format file in FormatsToProcess: PowerShell
    #                               builds the session's whole format table (its own views too), which a bare
    #                               pwsh that formats nothing never builds. No module with format views can
    #                               import for less than this.
    #   module, no formats          the module's manifest and dll without FormatsToProcess
    #   module                      Import-Module of the staged psd1, as users run it
    # Each process runs the same prologue and epilogue around its command, and reports the in-process CPU
    # time of the command and the bytes it allocated: the allocations do not depend on the load of the machine
    # at all, the in-process CPU time far less than the wall time. Outside, the wall time and (Linux) the CPU time of the whole process are taken.
    $work = Join-Path ([IO.Path]::GetTempPath()) ('wgt-bench-import-{0:x8}' -f (Get-Random))
    $null = New-Item -ItemType Directory -Path $work
    $moduleDir = Split-Path -Parent $ModulePath
    $formatFile = @(Get-ChildItem -LiteralPath $moduleDir -Filter '*.format.ps1xml')[0]
    function Quote([string] $s) { "'" + $s.Replace("'", "''") + "'" }
    try {
        $empty = Join-Path $work 'Empty.psm1'
        Set-Content -LiteralPath $empty -Value 'function Get-Nothing { }'
        $manifest = "@{ RootModule = 'Empty.psm1'; ModuleVersion = '0.1.0'; GUID = '2f6f1d5e-4f59-4b43-9a53-0f2d1c1e7a10'; FunctionsToExport = @('Get-Nothing'); CmdletsToExport = @(); AliasesToExport = @(); VariablesToExport = @() EXTRA}"
        $emptyPsd1 = Join-Path $work 'Empty.psd1'
        Set-Content -LiteralPath $emptyPsd1 -Value $manifest.Replace('EXTRA', '')
        $fmtDir = Join-Path $work 'fmt'
        $null = New-Item -ItemType Directory -Path $fmtDir
        Copy-Item -LiteralPath $empty, $formatFile.FullName -Destination $fmtDir
        $fmtPsd1 = Join-Path $fmtDir 'Empty.psd1'
        Set-Content -LiteralPath $fmtPsd1 -Value $manifest.Replace('EXTRA', "; FormatsToProcess = @('$($formatFile.Name)') ")
        # The smallest binary module with the same views: one cmdlet, compiled here against this PowerShell.
        $tinyDir = Join-Path $work 'tiny'
        $null = New-Item -ItemType Directory -Path $tinyDir
        Copy-Item -LiteralPath $formatFile.FullName -Destination $tinyDir
        Add-Type -OutputAssembly (Join-Path $tinyDir 'Tiny.dll') -TypeDefinition @'
namespace TinyBench { [System.Management.Automation.Cmdlet("Get", "TinyBench")] public sealed class GetTinyBenchCommand : System.Management.Automation.PSCmdlet { [System.Management.Automation.Parameter] public string Name { get; set; } protected override void ProcessRecord() { WriteObject(Name); } } }
'@
        $tinyPsd1 = Join-Path $tinyDir 'Tiny.psd1'
        Set-Content -LiteralPath $tinyPsd1 -Value "@{ RootModule = 'Tiny.dll'; ModuleVersion = '0.1.0'; GUID = '6b0e2a4c-8d1f-4e57-a3c9-5f7d2b1e9c30'; CmdletsToExport = @('Get-TinyBench'); FunctionsToExport = @(); AliasesToExport = @(); VariablesToExport = @(); FormatsToProcess = @('$($formatFile.Name)') }"
        $noFmtDir = Join-Path $work 'nofmt'
        Copy-Item -LiteralPath $moduleDir -Destination $noFmtDir -Recurse
        $noFmtPsd1 = Join-Path $noFmtDir (Split-Path -Leaf $ModulePath)
        $text = Get-Content -Raw -LiteralPath $noFmtPsd1
        $stripped = $text -replace '(?m)^\s*FormatsToProcess\s*=.*$', ''
        if ($stripped -eq $text) { throw "No FormatsToProcess line in $ModulePath to take out for the 'module, no formats' case." }
        Set-Content -LiteralPath $noFmtPsd1 -Value $stripped
        $cases = [ordered]@{
            'bare pwsh'                = '$null'
            'empty script module'      = "Import-Module $(Quote $empty)"
            'empty manifest'           = "Import-Module $(Quote $emptyPsd1)"
            'empty manifest + formats' = "Import-Module $(Quote $fmtPsd1)"
            'one-cmdlet dll + formats' = "Import-Module $(Quote $tinyPsd1)"
            'module, no formats'       = "Import-Module $(Quote $noFmtPsd1)"
            'module'                   = "Import-Module $(Quote $ModulePath)"
        }
        $pre = '$ErrorActionPreference = ''Stop''; $__p = [Diagnostics.Process]::GetCurrentProcess(); $__a = [GC]::GetTotalAllocatedBytes($false); $__c = $__p.TotalProcessorTime; $__s = [Diagnostics.Stopwatch]::StartNew(); '
        $post = '; $__s.Stop(); $__p.Refresh(); [Console]::Out.WriteLine(''WGT-IMPORT {0} {1} {2}'', $__s.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture), ($__p.TotalProcessorTime - $__c).TotalMilliseconds.ToString([cultureinfo]::InvariantCulture), [GC]::GetTotalAllocatedBytes($false) - $__a)'
        $metrics = 'wall', 'cpu', 'inCpu', 'alloc'
        $data = @{}
        foreach ($k in $cases.Keys) { $data[$k] = @{}; foreach ($m in $metrics) { $data[$k][$m] = [Collections.Generic.List[double]]::new() } }
        $loadBefore = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ' } else { 'n/a' }
        for ($i = -1; $i -lt $ImportRuns; $i++) {
            foreach ($k in $cases.Keys) {
                $c0 = Get-ChildCpuMs
                $sw = [Diagnostics.Stopwatch]::StartNew()
                $r = Invoke-Bounded $Pwsh @('-NoProfile', '-NonInteractive', '-Command', ($pre + $cases[$k] + $post)) -TimeoutSeconds 180
                $sw.Stop()
                $c1 = Get-ChildCpuMs
                $line = @($r.StdOut -split "`n" | Where-Object { $_ -like 'WGT-IMPORT *' })[0]
                if ($r.ExitCode -ne 0 -or $r.StdErr.Trim() -or -not $line) { throw "pwsh -Command `"$($cases[$k])`" failed ($($r.ExitCode)): $($r.StdErr.Trim())" }
                if ($i -lt 0) { continue }
                $f = $line.Trim().Split(' ')
                $data[$k].wall.Add($sw.Elapsed.TotalMilliseconds)
                $data[$k].cpu.Add($c1 - $c0)
                $data[$k].inCpu.Add([double]::Parse($f[2], [cultureinfo]::InvariantCulture))
                $data[$k].alloc.Add([double]$f[3])
            }
        }
        $loadAfter = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ' } else { 'n/a' }
    }
    finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
    # The median of the per-round differences of one metric between two cases (rounds pair the processes).
    function Get-Diff([string] $a, [string] $b, [string] $m) {
        Get-Median @(for ($j = 0; $j -lt $data[$a][$m].Count; $j++) { $data[$a][$m][$j] - $data[$b][$m][$j] })
    }
    $keys = @($cases.Keys)
    # What each case adds one thing to.
    $stepOf = @{
        'empty script module'      = 'bare pwsh'
        'empty manifest'           = 'empty script module'
        'empty manifest + formats' = 'empty manifest'
        'one-cmdlet dll + formats' = 'empty manifest + formats'
        'module, no formats'       = 'empty manifest'
        'module'                   = 'one-cmdlet dll + formats'
    }
    Write-Host ''
    Write-Host "Import cost, fresh pwsh -NoProfile -NonInteractive per case, $ImportRuns rounds after 1 warm-up; load average $loadBefore before, $loadAfter after."
    Write-Host '  Figures are medians of the per-round differences: "over bare pwsh" against the bare pwsh, "step" against the case named at the end (what that one thing adds).'
    Write-Host '  wall and CPU are the whole process (CPU: user + system, 10 ms resolution); in-CPU and alloc (bytes allocated, independent of load) are of the command inside the process.'
    Write-Host ("  {0,-26}{1,9}{2,9}{3,9}{4,10}  |{5,7}{6,7}{7,7}{8,10}" -f 'case', 'wall', 'CPU', 'in-CPU', 'alloc KB', 'wall', 'CPU', 'in-CPU', 'alloc KB')
    Write-Host ("  {0,-26}{1,37}  |{2,31}" -f '', '(over bare pwsh)', '(step)')
    foreach ($n in 0..($keys.Count - 1)) {
        $k = $keys[$n]
        if ($n -eq 0) {
            Write-Host ("  {0,-26}{1,9:N0}{2,9:N0}{3,9:N1}{4,10:N0}  |   (absolute)" -f $k, (Get-Median $data[$k].wall), (Get-Median $data[$k].cpu), (Get-Median $data[$k].inCpu), ((Get-Median $data[$k].alloc) / 1KB))
            continue
        }
        $p = $stepOf[$k]
        Write-Host ("  {0,-26}{1,9:N0}{2,9:N0}{3,9:N1}{4,10:N0}  |{5,7:N0}{6,7:N0}{7,7:N1}{8,10:N0}   over {9}" -f $k,
            (Get-Diff $k $keys[0] wall), (Get-Diff $k $keys[0] cpu), (Get-Diff $k $keys[0] inCpu), ((Get-Diff $k $keys[0] alloc) / 1KB),
            (Get-Diff $k $p wall), (Get-Diff $k $p cpu), (Get-Diff $k $p inCpu), ((Get-Diff $k $p alloc) / 1KB), $p)
    }
    foreach ($k in $keys) {
        Write-Host ("    {0,-26} wall runs: {1}" -f $k, (($data[$k].wall | ForEach-Object { '{0:N0}' -f $_ }) -join ' '))
    }
    $extra = Get-Diff 'module' 'bare pwsh' wall
    $extraCpu = Get-Diff 'module' 'bare pwsh' cpu
    $floor = Get-Diff 'one-cmdlet dll + formats' 'bare pwsh' wall
    $floorCpu = Get-Diff 'one-cmdlet dll + formats' 'bare pwsh' cpu
    $floorIn = Get-Diff 'one-cmdlet dll + formats' 'bare pwsh' inCpu
    $own = Get-Diff 'module' 'one-cmdlet dll + formats' wall
    $ownCpu = Get-Diff 'module' 'one-cmdlet dll + formats' cpu
    $ownIn = Get-Diff 'module' 'one-cmdlet dll + formats' inCpu
    # PASS needs both the wall time and the in-process CPU time under the target: on a busy machine a
    # wall-time difference can come out anywhere (even below zero), the CPU time of the import cannot.
    $extraIn = Get-Diff 'module' 'bare pwsh' inCpu
    Write-Verdict ("  extra for Import-Module   {0,6:N1} ms wall, {1:N1} ms CPU in-process ({2:N0} ms CPU of the process) over bare pwsh   target < 100 ms (wall and in-process CPU)   {3}" -f $extra, $extraIn, $extraCpu, $(if ($extra -lt 100 -and $extraIn -lt 100) { 'PASS' } else { 'FAIL' }))
    Write-Host ("  floor: the smallest binary module with the same format views costs {0:N1} ms wall, {1:N0} ms CPU ({2:N1} in-process) over bare pwsh;" -f $floor, $floorCpu, $floorIn)
    Write-Host ("  the module's own part above that floor: {0:N1} ms wall, {1:N0} ms CPU ({2:N1} in-process), {3:N0} KB more allocated" -f $own, $ownCpu, $ownIn, ((Get-Diff 'module' 'one-cmdlet dll + formats' alloc) / 1KB))
    Write-Host ("  Import-Module / bare      {0,6:N2}x" -f ((Get-Median $data['module'].wall) / (Get-Median $data['bare pwsh'].wall)))
}

Write-Host "WgTroubleshoot benchmarks: $ModulePath"
Write-Host "PowerShell $($PSVersionTable.PSVersion), $([Environment]::ProcessorCount) CPUs, $([Runtime.InteropServices.RuntimeInformation]::OSDescription)"
if (Test-Path /proc/loadavg) { Write-Host "Load average before: $((Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ') (a busy machine widens the spread of the runs)" }
if (-not $SkipPathMtu) { Invoke-PathMtuBench }
Invoke-PeerListingBench
if (-not $SkipImport) { Invoke-ImportBench }
Write-Host ''
Write-Host 'Summary:'
foreach ($v in $Verdicts) { Write-Host "  $v" }
