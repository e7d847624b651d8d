#Requires -Version 7.2
<#
.SYNOPSIS
    Records, in the lab, a responder rejecting initiations as replays (what a clock gone backwards on the
    initiator looks like to it): the server's wireguard-go log (LOG_LEVEL=verbose) and the server's snapshot,
    for the replay test: tests/WgTroubleshoot.Tests/Corpus/logs/HandshakeReplay/.
.DESCRIPTION
    A clock cannot be made to go backwards here; an initiation whose timestamp is older than one the responder
    accepted can: the client's initiation I1 is captured on its uplink while the router drops it, the router
    lets the retry I2 (newer) through and the server accepts it, then the client goes quiet (its peer removed) and only I1 arrives
    again, once a second: wireguard-go rejects each as "ConsumeMessageInitiation: handshake replay", exactly as
    it rejects the initiations of a peer whose clock went back. After the server's last handshake is older than
    180 s (a failing peer), the server's diagnosis is saved with -SnapshotPath, and its wireguard-go log is kept.
    Both are checked for the lab's private and preshared keys. Takes about four minutes. Needs root, tcpdump
    and socat; uses the staged module ($env:WGT_MODULE, else out/).
#>
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
Import-Module (Join-Path $PSScriptRoot 'WgLab.psm1') -Force
if (-not $env:WGT_MODULE) { $env:WGT_MODULE = (Get-ChildItem (Join-Path $root 'out/WgTroubleshoot/*/WgTroubleshoot.psd1') | Select-Object -First 1).FullName }
if (-not (Test-WgLabPrerequisite)) { throw "The lab cannot run here: $(Test-WgLabPrerequisite -Reason)" }
$outDir = Join-Path $root 'tests/WgTroubleshoot.Tests/Corpus/logs/HandshakeReplay'

$env:LOG_LEVEL = 'verbose'   # the lab's wireguard-go daemons log every handshake message they handle
$lab = New-WgLab
$work = Join-Path ([System.IO.Path]::GetTempPath()) "wgt-$($lab.Id)-replay"
$job = $null
try {
    $null = New-Item -ItemType Directory -Force $work
    if (-not (Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15)) { throw 'The lab tunnel did not come up.' }
    $c = $lab.Client; $s = $lab.Server
    $log = "/run/wgt-lab/$($lab.Id)/$($s.Interface).log"
    if (-not (Test-Path -LiteralPath $log)) { throw "no wireguard-go log at $log" }

    # 1. I1: captured on the client's uplink, dropped by the router
    Invoke-WgLabCommand -Lab $lab -Node router -Command 'nft', 'add', 'table', 'inet', 'wgtfault_hold' | Out-Null
    Invoke-WgLabCommand -Lab $lab -Node router -Command 'nft', 'add', 'chain', 'inet', 'wgtfault_hold', 'forward', '{ type filter hook forward priority -10; policy accept; }' | Out-Null
    Invoke-WgLabCommand -Lab $lab -Node router -Command 'nft', 'add', 'rule', 'inet', 'wgtfault_hold', 'forward', 'udp', 'dport', "$($s.ListenPort)", 'drop' | Out-Null
    $pcap = Join-Path $work 'i1.pcap'
    $tcpdump = Start-Process -FilePath 'ip' -ArgumentList 'netns', 'exec', $c.Namespace, 'timeout', '30', 'tcpdump', '-n', '-i', 'eth0', '-c', '1', '-U', '-w', $pcap, "udp dst port $($s.ListenPort) and udp[8] = 1" -PassThru -RedirectStandardError (Join-Path $work 'tcpdump.err')
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while (-not (Test-Path -LiteralPath $pcap) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
    Start-Sleep -Milliseconds 500
    Reset-WgLabSession -Lab $lab
    if (-not $tcpdump.WaitForExit(30000)) { $tcpdump.Kill(); throw 'no initiation was captured' }
    $bytes = [System.IO.File]::ReadAllBytes($pcap)
    if ($bytes.Length -lt 24 + 16 + 14 + 20 + 8 + 148) { throw 'the capture holds no initiation' }
    $inclLen = [BitConverter]::ToInt32($bytes, 24 + 8)
    $frame = 24 + 16
    $ihl = ($bytes[$frame + 14] -band 0x0f) * 4
    $payload = [byte[]]$bytes[($frame + 14 + $ihl + 8)..($frame + $inclLen - 1)]
    if ($payload.Length -ne 148 -or $payload[0] -ne 1) { throw "not a handshake initiation ($($payload.Length) bytes)" }
    $i1 = Join-Path $work 'i1.bin'
    [System.IO.File]::WriteAllBytes($i1, $payload)

    # 2. I2 (the retry, newer) is accepted: the server's last timestamp is now newer than I1's
    Invoke-WgLabCommand -Lab $lab -Node router -Command 'nft', 'delete', 'table', 'inet', 'wgtfault_hold' | Out-Null
    if (-not (Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 20 -Passive)) { throw 'the retry was not accepted' }

    # 3. the client goes quiet; only I1 arrives, once a second
    # (the client's peer is removed: wireguard-go would otherwise rekey after 120 s, link down or not)
    Invoke-WgLabCommand -Lab $lab -Node client -Command 'wg', 'set', $c.Interface, 'peer', $s.PublicKey, 'remove' | Out-Null
    $stop = Join-Path $work 'stop'
    $job = Start-ThreadJob -ArgumentList $c.Namespace, $i1, "$($s.Underlay):$($s.ListenPort)", $stop -ScriptBlock {
        param($ns, $file, $to, $stop)
        $deadline = [DateTime]::UtcNow.AddSeconds(330)
        while (-not (Test-Path -LiteralPath $stop) -and [DateTime]::UtcNow -lt $deadline) {
            & ip netns exec $ns socat -u "FILE:$file" "UDP4-SENDTO:$to" 2>$null
            Start-Sleep -Seconds 1
        }
    }
    # the symptom: the server logs replays, and no handshake completes
    $deadline = [DateTime]::UtcNow.AddSeconds(15)
    while (-not ((Get-Content -Raw -LiteralPath $log) -match 'handshake replay') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
    if (-not ((Get-Content -Raw -LiteralPath $log) -match 'handshake replay')) { throw 'wireguard-go logged no handshake replay' }
    $hs = (Get-WgLabHandshake -Lab $lab -Node server)[0].LatestHandshake
    Write-Host "Replays logged; waiting until the server's last handshake ($($hs.ToString('o'))) is older than 180 s"
    $deadline = [DateTime]::UtcNow.AddSeconds(240)
    while (([DateTime]::UtcNow - $hs).TotalSeconds -lt 185 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Seconds 5 }
    if ((Get-WgLabHandshake -Lab $lab -Node server)[0].LatestHandshake -ne $hs) { throw 'a handshake completed meanwhile' }

    # 4. the server's diagnosis, as it runs here (no journal in the lab: the log is not found by it)
    $snap = Join-Path $work 'server.json'
    $r = Invoke-WgLabPwsh -Lab $lab -Node server -Script "Invoke-WgDiagnosis -Interface '$($s.Interface)' -SnapshotPath '$snap'" -AsResult -TimeoutSeconds 240
    if ($r.Failure) { throw "Invoke-WgDiagnosis failed: $($r.Failure)" }
    Write-Host ("  top Cause here (without the log): {0}" -f @($r.Output)[0].Cause)
    [System.IO.File]::WriteAllText($stop, 'stop')
    $null = Wait-Job $job -Timeout 15

    $texts = @{ 'server-snapshot.json' = [System.IO.File]::ReadAllText($snap); 'server-wireguard-go.log' = [System.IO.File]::ReadAllText($log) }
    $null = New-Item -ItemType Directory -Force $outDir
    foreach ($k in $texts.Keys) {
        foreach ($secret in Get-WgLabSecret -Lab $lab) {
            if ($texts[$k].IndexOf($secret, [StringComparison]::OrdinalIgnoreCase) -ge 0) { throw "$k would contain a lab secret: not written." }
        }
        [System.IO.File]::WriteAllText((Join-Path $outDir $k), $texts[$k])
    }
    Write-Host "  wrote $outDir"
}
finally {
    if ($job) { Stop-Job $job -ErrorAction SilentlyContinue; Remove-Job $job -Force -ErrorAction SilentlyContinue }
    Remove-WgLab -Lab $lab
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
