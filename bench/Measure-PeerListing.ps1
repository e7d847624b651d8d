#requires -Version 7.0
<#
.SYNOPSIS
    The measuring half of the peer-listing benchmark; Invoke-Bench.ps1 runs it inside the benchmark's
    network namespace (ip netns exec NS pwsh -File Measure-PeerListing.ps1 ...).
.DESCRIPTION
    Times three ways of listing the peers of one interface, each after a warm-up, the runs interleaved
    (a, b, c, a, b, c, ...) so that drift of the machine hits all three alike:
      raw-dump     $raw = wg show IF dump                 (the baseline: the tool alone, output captured)
      Get-WgPeer   $x = Get-WgPeer -Interface IF           (the module)
      hand-written $y = Get-WgPeerByHand IF                (wg show IF parsed with switch -Regex)
    Writes the timings (ms) and the counts as JSON to -ResultPath.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Interface,
    [Parameter(Mandatory)] [string] $ResultPath,
    [int] $Runs = 7,
    [int] $WarmUp = 1
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module $ModulePath

# The hand-written way, as blog posts and gists do it: the human `wg show` text, one switch -Regex over
# its lines, one [pscustomobject] per peer written to the pipeline. Handshake and transfer stay the
# strings wg prints ("1 minute, 2 seconds ago", "1.20 KiB received, 3.40 KiB sent"), split into their
# two halves for transfer.
function Get-WgPeerByHand {
    param([string] $Interface)
    $peer = $null
    foreach ($line in (wg show $Interface)) {
        switch -Regex ($line) {
            '^peer:\s+(\S+)' {
                if ($peer) { [pscustomobject]$peer }
                $peer = [ordered]@{
                    Interface       = $Interface
                    PublicKey       = $Matches[1]
                    Endpoint        = $null
                    AllowedIPs      = @()
                    LatestHandshake = $null
                    Received        = $null
                    Sent            = $null
                    Keepalive       = $null
                }
                break
            }
            '^\s+endpoint:\s+(.+)$' { $peer.Endpoint = $Matches[1]; break }
            '^\s+allowed ips:\s+(.+)$' {
                $peer.AllowedIPs = if ($Matches[1] -eq '(none)') { @() } else { $Matches[1] -split ',\s*' }
                break
            }
            '^\s+latest handshake:\s+(.+)$' { $peer.LatestHandshake = $Matches[1]; break }
            '^\s+transfer:\s+(.+) received, (.+) sent$' { $peer.Received = $Matches[1]; $peer.Sent = $Matches[2]; break }
            '^\s+persistent keepalive:\s+(.+)$' { $peer.Keepalive = $Matches[1]; break }
        }
    }
    if ($peer) { [pscustomobject]$peer }
}

$cases = [ordered]@{
    'raw-dump'     = { $script:raw = wg show $Interface dump; if ($LASTEXITCODE -ne 0) { throw "wg show $Interface dump failed ($LASTEXITCODE)" }; @($script:raw).Count }
    'Get-WgPeer'   = { $script:x = Get-WgPeer -Interface $Interface; @($script:x).Count }
    'hand-written' = { $script:y = Get-WgPeerByHand $Interface; @($script:y).Count }
}

function Measure-Once([scriptblock] $Case) {
    $script:raw = $script:x = $script:y = $null
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $count = & $Case
    $sw.Stop()
    [pscustomobject]@{ Ms = $sw.Elapsed.TotalMilliseconds; Count = $count }
}

$times = @{}
$counts = @{}
foreach ($name in $cases.Keys) { $times[$name] = [Collections.Generic.List[double]]::new() }
for ($i = 0; $i -lt $WarmUp; $i++) {
    foreach ($name in $cases.Keys) { $null = Measure-Once $cases[$name] }
}
for ($i = 0; $i -lt $Runs; $i++) {
    foreach ($name in $cases.Keys) {
        $m = Measure-Once $cases[$name]
        $times[$name].Add($m.Ms)
        $counts[$name] = $m.Count
    }
}

# Shape checks: the module's objects against the hand-written ones (same keys, same allowed IPs).
$x = @(Get-WgPeer -Interface $Interface)
$y = @(Get-WgPeerByHand $Interface)
$byKey = @{}
foreach ($p in $y) { $byKey[$p.PublicKey] = $p }
$mismatch = 0
foreach ($p in $x) {
    $h = $byKey[$p.PublicKey]
    if (-not $h -or (($p.AllowedIPs -join ',') -ne ($h.AllowedIPs -join ',')) -or ($p.Endpoint -ne $h.Endpoint)) { $mismatch++ }
}

[pscustomobject]@{
    Runs       = $Runs
    WarmUp     = $WarmUp
    Times      = $times
    Counts     = $counts
    Mismatches = $mismatch
    PeerType   = if ($x.Count) { $x[0].GetType().FullName } else { $null }
} | ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $ResultPath -Encoding utf8
