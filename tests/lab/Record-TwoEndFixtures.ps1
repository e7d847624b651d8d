#Requires -Version 7.2
<#
.SYNOPSIS
    Records the facts of both ends of the lab tunnel, as the remote entry points return them, for the two-end
    faults (UpstreamDrop, ReturnPathDrop, NatNoKeepalive): tests/WgTroubleshoot.Tests/Corpus/twoend/<Case>/.
.DESCRIPTION
    For each case: a lab (New-WgLab), the fault (tests/lab/Faults/Remote.ps1, on the router), its symptom checked
    first, then on each end, in its namespace, the module's public entry points that a remote diagnosis runs
    on the other host: [WgTroubleshoot.Remoting.RemoteEndpoint]::CollectFactsJson (one nonce for both ends, so
    the preshared-key hashes compare) and the captures of both listen ports in one window, in the order
    Invoke-WgDiagnosis -PeerSession uses: the end that does not probe starts first (StartCapture, and
    FinishCaptureJson when the other is done), then the end with an endpoint captures with its probe
    (CaptureJson, 8 s: -CaptureSeconds 8, so that a peer retrying its handshake every 5 s sends at least one
    initiation, and gets its answer, inside the window). The JSON text each returned is written as it is: <end>-facts.json, <end>-capture.json.
    Every file is checked for the lab's private and preshared keys (base64 and hex) before it is kept.
    The replay tests (tests/WgTroubleshoot.Tests/Remoting/TwoEndReplayTests.cs) judge them with PeerJudge.
    Needs root and the lab's packages (tcpdump, conntrack); uses the staged module ($env:WGT_MODULE, else out/).
.PARAMETER Case
    Record only these cases.
#>
[CmdletBinding()]
param([string[]] $Case)
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
Import-Module (Join-Path $PSScriptRoot 'WgLab.psm1') -Force
if (-not $env:WGT_MODULE) { $env:WGT_MODULE = (Get-ChildItem (Join-Path $root 'out/WgTroubleshoot/*/WgTroubleshoot.psd1') | Select-Object -First 1).FullName }
if (-not (Test-WgLabPrerequisite)) { throw "The lab cannot run here: $(Test-WgLabPrerequisite -Reason)" }
$outRoot = Join-Path $root 'tests/WgTroubleshoot.Tests/Corpus/twoend'

$cases = @(
    @{ Name = 'UpstreamDrop'; Fault = 'UpstreamDrop' }
    @{ Name = 'ReturnPathDrop'; Fault = 'ReturnPathDrop' }
    @{ Name = 'NatNoKeepalive'; Fault = 'NatNoKeepalive'; Idle = $true }
)
if ($Case) { $Case = @($Case | ForEach-Object { $_ -split ',' } | Where-Object { $_ }); $cases = @($cases | Where-Object { $_.Name -in $Case }) }

function Get-EndFacts($Lab, [string] $Node, [string] $Nonce) {
    $side = if ($Node -eq 'client') { $Lab.Client } else { $Lab.Server }
    $r = Invoke-WgLabPwsh -Lab $Lab -Node $Node -ArgumentList $side.Interface, $Nonce -TimeoutSeconds 60 -ScriptBlock {
        param($i, $n) [WgTroubleshoot.Remoting.RemoteEndpoint]::CollectFactsJson($i, $n)
    }
    [string]@($r)[0]
}

foreach ($c in $cases) {
    Write-Host "Recording $($c.Name)"
    $lab = New-WgLab
    $work = Join-Path ([System.IO.Path]::GetTempPath()) "wgt-$($lab.Id)-twoend"
    $job = $null; $probeJob = $null
    try {
        if (-not (Wait-WgLabHandshake -Lab $lab -TimeoutSeconds 15)) { throw 'The lab tunnel did not come up.' }
        Add-WgLabFault -Lab $lab -Fault $c.Fault
        # the symptom first
        if ($c.Idle) {
            if (-not (Test-WgLabPing -Lab $lab -From client -To $lab.Server.TunnelAddress -Count 2)) { throw "$($c.Name): the client could not start a session" }
            $deadline = [DateTime]::UtcNow.AddSeconds(75)
            do {
                Start-Sleep -Seconds 2
                $ct = Invoke-WgLabCommand -Lab $lab -Node router -Command 'conntrack', '-L', '-p', 'udp', '--orig-src', $lab.Client.Underlay -PassThru
            } while ($ct.StdOut -match 'udp' -and [DateTime]::UtcNow -lt $deadline)
            if ($ct.StdOut -match 'udp') { throw "$($c.Name): the NAT mapping was not forgotten in 75 s" }
            if (Test-WgLabPing -Lab $lab -From server -To $lab.Client.TunnelAddress -Count 2) { throw "$($c.Name): the server still reaches the idle client" }
        }
        elseif (Test-WgLabPing -Lab $lab -From client -To $lab.Server.TunnelAddress -Count 2) { throw "$($c.Name): the tunnel still works" }

        $nonce = -join ((1..32) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) })
        $facts = @{ client = Get-EndFacts $lab client $nonce; server = Get-EndFacts $lab server $nonce }
        # which end probes: the one with an endpoint for the other (the client here, or the server once it saw the client)
        $probeNode = if ($c.Idle) { 'server' } else { 'client' }
        $waitNode = if ($probeNode -eq 'client') { 'server' } else { 'client' }
        $probeSide = if ($probeNode -eq 'client') { $lab.Client } else { $lab.Server }
        $waitSide = if ($waitNode -eq 'client') { $lab.Client } else { $lab.Server }
        $probeTo = $waitSide.TunnelAddress
        $waitPort = [int](Invoke-WgLabCommand -Lab $lab -Node $waitNode -Command 'wg', 'show', $waitSide.Interface, 'listen-port').Trim()
        $probePort = [int](Invoke-WgLabCommand -Lab $lab -Node $probeNode -Command 'wg', 'show', $probeSide.Interface, 'listen-port').Trim()
        $null = New-Item -ItemType Directory -Force $work
        $up = Join-Path $work 'up'; $go = Join-Path $work 'go'; $ready = Join-Path $work 'ready'; $stop = Join-Path $work 'stop'
        $labModule = Join-Path $PSScriptRoot 'WgLab.psm1'
        # each end runs in a child pwsh of its own, started first and waiting for its turn (startup under load
        # takes seconds): the prober is up, then the other end starts its capture, then the prober captures
        $probeJob = Start-ThreadJob -ArgumentList $lab, $probeNode, $probeSide.Interface, $probePort, $probeTo, $up, $go, $labModule, $env:WGT_MODULE -ScriptBlock {
            param($lab, $node, $if, $port, $to, $up, $go, $labModule, $module)
            $env:WGT_MODULE = $module
            Import-Module $labModule -Force
            Invoke-WgLabPwsh -Lab $lab -Node $node -ArgumentList $if, $port, $to, $up, $go -TimeoutSeconds 150 -ScriptBlock {
                param($i, $p, $to, $up, $go)
                $null = [WgTroubleshoot.Remoting.RemoteEndpoint]
                [System.IO.File]::WriteAllText($up, 'up')
                $deadline = [DateTime]::UtcNow.AddSeconds(90)
                while (-not (Test-Path -LiteralPath $go) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
                [WgTroubleshoot.Remoting.RemoteEndpoint]::CaptureJson($i, $p, 8, $to)
            }
        }
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Test-Path -LiteralPath $up) -and $probeJob.State -in 'NotStarted', 'Running' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        if (-not (Test-Path -LiteralPath $up)) { throw "$($c.Name): the $probeNode did not start: $($probeJob | Receive-Job -ErrorAction Continue 2>&1)" }
        $job = Start-ThreadJob -ArgumentList $lab, $waitNode, $waitSide.Interface, $waitPort, $ready, $stop, $labModule, $env:WGT_MODULE -ScriptBlock {
            param($lab, $node, $if, $port, $ready, $stop, $labModule, $module)
            $env:WGT_MODULE = $module
            Import-Module $labModule -Force
            Invoke-WgLabPwsh -Lab $lab -Node $node -ArgumentList $if, $port, $ready, $stop -TimeoutSeconds 120 -ScriptBlock {
                param($i, $p, $ready, $stop)
                $id = [WgTroubleshoot.Remoting.RemoteEndpoint]::StartCapture($i, $p, 40, '')
                if ($id.StartsWith('{')) { return $id }
                [System.IO.File]::WriteAllText($ready, 'ready')
                $deadline = [DateTime]::UtcNow.AddSeconds(38)
                while (-not (Test-Path -LiteralPath $stop) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
                [WgTroubleshoot.Remoting.RemoteEndpoint]::FinishCaptureJson($id)
            }
        }
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Test-Path -LiteralPath $ready) -and $job.State -in 'NotStarted', 'Running' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        if (-not (Test-Path -LiteralPath $ready)) { throw "$($c.Name): the capture on the $waitNode did not start: $($job | Receive-Job -ErrorAction Continue 2>&1)" }
        [System.IO.File]::WriteAllText($go, 'go')
        $null = Wait-Job $probeJob -Timeout 60
        $probeCapture = [string]@(Receive-Job $probeJob)[0]
        Remove-Job $probeJob -Force; $probeJob = $null
        [System.IO.File]::WriteAllText($stop, 'stop')
        $null = Wait-Job $job -Timeout 40
        $waitCapture = [string]@(Receive-Job $job)[0]
        if (-not $probeCapture.StartsWith('{')) { throw "$($c.Name): no capture from the $probeNode" }
        if (-not $waitCapture.StartsWith('{')) { throw "$($c.Name): no capture from the $waitNode" }
        $captures = @{ $probeNode = $probeCapture; $waitNode = $waitCapture }

        $dir = Join-Path $outRoot $c.Name
        $null = New-Item -ItemType Directory -Force $dir
        $secrets = @(Get-WgLabSecret -Lab $lab)
        foreach ($node in 'client', 'server') {
            foreach ($kind in 'facts', 'capture') {
                $text = if ($kind -eq 'facts') { $facts[$node] } else { $captures[$node] }
                foreach ($s in $secrets) { if ($text.IndexOf($s, [StringComparison]::OrdinalIgnoreCase) -ge 0) { throw "$($c.Name) $node-$kind would contain a lab secret: not written." } }
                [System.IO.File]::WriteAllText((Join-Path $dir "$node-$kind.json"), $text + "`n")
            }
        }
        Write-Host "  wrote $dir (probe from the $probeNode to $probeTo)"
    }
    finally {
        foreach ($j in @($job, $probeJob) | Where-Object { $_ }) { Stop-Job $j -ErrorAction SilentlyContinue; Remove-Job $j -Force -ErrorAction SilentlyContinue }
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
        Remove-WgLab -Lab $lab
    }
}
