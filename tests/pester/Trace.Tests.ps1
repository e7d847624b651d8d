# Trace-WgTraffic and Get-WgLog against real WireGuard (wireguard-go) in network namespaces, with the module
# running inside the namespaces. Needs root, tcpdump and the lab's tools; skipped otherwise.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabReason = if (-not (Test-WgLabPrerequisite)) { Test-WgLabPrerequisite -Reason }
                        elseif (-not (Get-Command tcpdump -CommandType Application -ErrorAction SilentlyContinue)) { 'missing: tcpdump' }
                        else { '' }
    $script:CanRun = -not $script:LabReason
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    Import-Module $env:WGT_MODULE -Force
    $script:Pwsh = if ($env:WGT_PWSH) { $env:WGT_PWSH } else { Join-Path $PSHOME 'pwsh' }

    function Start-Pinger($Lab, [int] $Seconds) {
        # Pings the server's tunnel address from the client in the background (bounded by -w), so that
        # there is tunnel traffic (and handshake attempts) during a capture.
        $psi = [System.Diagnostics.ProcessStartInfo]::new('ip')
        foreach ($a in 'netns', 'exec', $Lab.Namespaces.client, 'ping', '-n', '-q', '-i', '0.5', '-W', '1', '-w', "$Seconds", $Lab.Server.TunnelAddress) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        [System.Diagnostics.Process]::Start($psi)
    }
    function Stop-Pinger($Process) {
        if ($Process -and -not $Process.HasExited) { $Process.Kill(); $null = $Process.WaitForExit(3000) }
        if ($Process) { $Process.Dispose() }
    }
    function Invoke-InLab($Lab, [string] $Node, [scriptblock] $ScriptBlock, [hashtable] $Values = @{}) {
        # Runs the code in a child pwsh inside the node's namespace with the module imported. The values are
        # written into the script as $name = 'value' lines (Invoke-WgLabPwsh -ArgumentList arrives wrapped in
        # one array in the child).
        $lines = foreach ($k in $Values.Keys) { "`$$k = '$($Values[$k] -replace "'", "''")'" }
        Invoke-WgLabPwsh -Lab $Lab -Node $Node -Script ((@($lines) + $ScriptBlock.ToString()) -join "`n")
    }
    function Invoke-ServerTrace($Lab, [int] $Seconds) {
        Invoke-InLab $Lab server { Trace-WgTraffic -Interface $If -Seconds ([int]$Seconds) } @{ If = $Lab.Server.Interface; Seconds = $Seconds }
    }
    function Test-ProcessAlive([int] $ProcessId) {
        $status = "/proc/$ProcessId/status"
        (Test-Path $status) -and -not ((Get-Content -Raw $status -ErrorAction SilentlyContinue) -match 'State:\s+Z')
    }
}

Describe 'Trace-WgTraffic in a real lab' -Tag 'Lab' -Skip:(-not $CanRun) {
    BeforeAll {
        $script:Lab = New-WgLab
    }
    AfterAll {
        Remove-WgLab -Lab $script:Lab
    }

    It 'sees a healthy tunnel as Healthy (server side, pings through the tunnel)' {
        Wait-WgLabHandshake -Lab $Lab -TimeoutSeconds 15 | Should -BeTrue
        $pinger = Start-Pinger $Lab 8
        try {
            $results = @(Invoke-ServerTrace $Lab 4)
        }
        finally { Stop-Pinger $pinger }
        $r = $results | Where-Object { $_.RemoteEndpoint -like '198.51.100.2:*' }
        $r | Should -HaveCount 1
        $r.PSObject.TypeNames[0] | Should -Be 'Deserialized.WgTroubleshoot.TrafficTrace'
        $r.Verdict.ToString() | Should -Be 'Healthy'
        $r.Interface | Should -Be $Lab.Server.Interface
        $r.ListenPort | Should -Be 51820
        $r.Peer | Should -Be $Lab.Client.PublicKey
        $r.DataIn | Should -BeGreaterThan 0
        $r.DataOut | Should -BeGreaterThan 0
    }

    It 'sees the client side of a healthy tunnel from its random listen port' {
        $pinger = Start-Pinger $Lab 6
        try {
            $results = @(Invoke-InLab $Lab client { Trace-WgTraffic $If -Seconds 3 } @{ If = $Lab.Client.Interface })
        }
        finally { Stop-Pinger $pinger }
        $r = $results | Where-Object { $_.RemoteEndpoint -eq '203.0.113.2:51820' }
        $r.Verdict.ToString() | Should -Be 'Healthy'
        $r.Peer | Should -Be $Lab.Server.PublicKey
        $r.ListenPort | Should -Not -Be 51820
    }

    Context 'UDP blocked by nftables on the server input' {
        BeforeAll { Add-WgLabFault -Lab $Lab -Fault FirewallBlocksPort }
        AfterAll { Remove-WgLabFault -Lab $Lab -Fault FirewallBlocksPort }
        It 'shows InitiationsUnanswered on the server, and says the capture point is before the firewall' {
            $pinger = Start-Pinger $Lab 10
            try { $results = @(Invoke-ServerTrace $Lab 7) }
            finally { Stop-Pinger $pinger }
            $r = $results | Where-Object { $_.RemoteEndpoint -like '198.51.100.2:*' }
            $r | Should -HaveCount 1
            $r.Verdict.ToString() | Should -Be 'InitiationsUnanswered'
            $r.InitiationsIn | Should -BeGreaterThan 0
            $r.ResponsesOut | Should -Be 0
            $r.Reason | Should -Match 'before the local firewall'
            $r.Reason | Should -Match 'the host firewall drops them: nftables: udp dport \d+ drop'
        }
    }

    Context 'wrong endpoint port on the client' {
        BeforeAll { Add-WgLabFault -Lab $Lab -Fault WrongEndpointPort }
        AfterAll { Remove-WgLabFault -Lab $Lab -Fault WrongEndpointPort }
        It 'shows NothingReceived on the server, as one result without endpoint' {
            $pinger = Start-Pinger $Lab 8
            try { $results = @(Invoke-ServerTrace $Lab 6) }
            finally { Stop-Pinger $pinger }
            $results | Should -HaveCount 1
            $results[0].RemoteEndpoint | Should -BeNullOrEmpty
            $results[0].Verdict.ToString() | Should -Be 'NothingReceived'
        }
    }

    Context 'key mismatch: the server knows the client by another key' {
        BeforeAll { Add-WgLabFault -Lab $Lab -Fault KeyMismatch }
        AfterAll { Remove-WgLabFault -Lab $Lab -Fault KeyMismatch }
        It 'shows InitiationsUnanswered on the server, with no peer for the endpoint' {
            $pinger = Start-Pinger $Lab 10
            try { $results = @(Invoke-ServerTrace $Lab 7) }
            finally { Stop-Pinger $pinger }
            $r = $results | Where-Object { $_.RemoteEndpoint -like '198.51.100.2:*' }
            $r | Should -HaveCount 1
            $r.Verdict.ToString() | Should -Be 'InitiationsUnanswered'
            $r.Peer | Should -BeNullOrEmpty
            $r.InitiationsIn | Should -BeGreaterThan 0
            $r.Reason | Should -Match 'firewall allows the port, so WireGuard does not accept the initiator'
        }
    }

    It 'returns within -Seconds plus a small margin and leaves no tcpdump behind' {
        $out = Invoke-InLab $Lab server -Values @{ If = $Lab.Server.Interface } -ScriptBlock {
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $all = Trace-WgTraffic -Interface $If -Seconds 3 -Verbose 4>&1
            $sw.Stop()
            $pidLine = $all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match 'tcpdump runs as PID (\d+)' }
            $tcpdumpPid = if ($pidLine) { [int]([regex]::Match($pidLine.Message, 'PID (\d+)').Groups[1].Value) } else { 0 }
            [pscustomobject]@{
                Seconds = $sw.Elapsed.TotalSeconds
                Pid     = $tcpdumpPid
                Alive   = $tcpdumpPid -gt 0 -and (Test-Path "/proc/$tcpdumpPid")
                Results = @($all | Where-Object { $_ -is [WgTroubleshoot.TrafficTrace] }).Count
            }
        }
        $out.Pid | Should -BeGreaterThan 0
        $out.Seconds | Should -BeGreaterOrEqual 3
        $out.Seconds | Should -BeLessThan 4.5
        $out.Alive | Should -BeFalse
        $out.Results | Should -BeGreaterThan 0
        Test-ProcessAlive $out.Pid | Should -BeFalse
    }

    It 'stops the capture when the pipeline is stopped (PowerShell.Stop) and leaves no tcpdump behind' {
        $out = Invoke-InLab $Lab server -Values @{ If = $Lab.Server.Interface; Module = $env:WGT_MODULE } -ScriptBlock {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module '$Module'; Trace-WgTraffic -Interface '$If' -Seconds 120 -Verbose")
                $async = $ps.BeginInvoke()
                $tcpdumpPid = 0
                $deadline = [DateTime]::UtcNow.AddSeconds(20)
                while (-not $tcpdumpPid -and [DateTime]::UtcNow -lt $deadline) {
                    $v = $ps.Streams.Verbose | Where-Object { $_.Message -match 'tcpdump runs as PID (\d+)' } | Select-Object -First 1
                    if ($v) { $tcpdumpPid = [int]([regex]::Match($v.Message, 'PID (\d+)').Groups[1].Value) }
                    else { Start-Sleep -Milliseconds 100 }
                }
                $aliveBefore = $tcpdumpPid -gt 0 -and (Test-Path "/proc/$tcpdumpPid")
                $sw = [System.Diagnostics.Stopwatch]::StartNew()
                $ps.Stop()
                $sw.Stop()
                [pscustomobject]@{
                    Pid = $tcpdumpPid; AliveBefore = $aliveBefore; AliveAfter = (Test-Path "/proc/$tcpdumpPid")
                    StopSeconds = $sw.Elapsed.TotalSeconds; State = "$($ps.InvocationStateInfo.State)"
                }
            }
            finally { $ps.Dispose() }
        }
        $out.Pid | Should -BeGreaterThan 0
        $out.AliveBefore | Should -BeTrue
        $out.State | Should -Be 'Stopped'
        $out.StopSeconds | Should -BeLessThan 5
        $out.AliveAfter | Should -BeFalse
    }

    It 'leaves no tcpdump behind when the PowerShell running it is killed outright' {
        $script = "Import-Module '$($env:WGT_MODULE)'; Trace-WgTraffic -Interface '$($Lab.Server.Interface)' -Seconds 120"
        $psi = [System.Diagnostics.ProcessStartInfo]::new('ip')
        foreach ($a in 'netns', 'exec', $Lab.Namespaces.server, $Pwsh, '-NoProfile', '-NonInteractive', '-Command', $script) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $child = [System.Diagnostics.Process]::Start($psi)
        try {
            $tcpdumpPid = 0
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not $tcpdumpPid -and [DateTime]::UtcNow -lt $deadline -and -not $child.HasExited) {
                $found = & pgrep -P $child.Id -x tcpdump
                if ($found) { $tcpdumpPid = [int]($found | Select-Object -First 1) } else { Start-Sleep -Milliseconds 100 }
            }
            $tcpdumpPid | Should -BeGreaterThan 0
            $child.Kill()   # SIGKILL: no StopProcessing, no Dispose
            $null = $child.WaitForExit(5000)
            $gone = [DateTime]::UtcNow.AddSeconds(3)
            while ((Test-ProcessAlive $tcpdumpPid) -and [DateTime]::UtcNow -lt $gone) { Start-Sleep -Milliseconds 50 }
            Test-ProcessAlive $tcpdumpPid | Should -BeFalse
        }
        finally {
            if (-not $child.HasExited) { $child.Kill(); $null = $child.WaitForExit(5000) }
            if ($tcpdumpPid -and (Test-ProcessAlive $tcpdumpPid)) { Stop-Process -Id $tcpdumpPid -Force -ErrorAction SilentlyContinue }
            $child.Dispose()
        }
    }

    It 'fails with PermissionDenied when not root' {
        # setpriv drops to nobody inside the namespace; the module must refuse before starting tcpdump.
        $tmp = Join-Path ([IO.Path]::GetTempPath()) ("wgt-trace-nonroot-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
        $null = New-Item -ItemType Directory -Path $tmp, "$tmp/home"
        try {
            # nobody cannot traverse root's home, where the test's pwsh and the staged module may live: run copies.
            Copy-Item (Split-Path $env:WGT_MODULE) "$tmp/module" -Recurse
            Copy-Item (Split-Path -Parent (Get-Item $Pwsh).FullName) "$tmp/pwsh" -Recurse
            & chmod -R a+rX $tmp
            & chown 65534:65534 "$tmp/home"
            $script = "Import-Module '$tmp/module/WgTroubleshoot.psd1'; try { Trace-WgTraffic -Interface '$($Lab.Server.Interface)' -Seconds 1 -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }"
            $out = & ip netns exec $Lab.Namespaces.server setpriv --reuid=65534 --regid=65534 --clear-groups --reset-env -- env "HOME=$tmp/home" "DOTNET_CLI_HOME=$tmp/home" DOTNET_CLI_TELEMETRY_OPTOUT=1 "$tmp/pwsh/$(Split-Path -Leaf $Pwsh)" -NoProfile -NonInteractive -Command $script 2>&1
            ($out -join "`n") | Should -Match 'WgPermissionDenied,WgTroubleshoot.Commands.TraceWgTrafficCommand'
        }
        finally { Remove-Item $tmp -Recurse -Force -ErrorAction SilentlyContinue }
    }
}

Describe 'Get-WgLog from a real wireguard-go log' -Tag 'Lab' -Skip:(-not $CanRun) {
    BeforeAll {
        # One namespace, one verbose wireguard-go whose only peer sits behind a veth with nobody on it (a black hole):
        # every handshake fails, and the daemon logs its retries.
        $script:Id = -join ((1..6) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) })
        $script:Ns = "wgt-tr-$Id"
        $script:If = "wgtr$Id"
        $script:LogFile = Join-Path ([System.IO.Path]::GetTempPath()) "wgt-tr-$Id.log"
        $script:DaemonPid = 0
        & ip netns add $Ns
        & ip -n $Ns link set lo up
        & ip -n $Ns link add d0 type veth peer name d1
        & ip -n $Ns addr add 198.51.100.10/24 dev d0
        & ip -n $Ns link set d0 up
        & ip -n $Ns link set d1 up
        $script:DaemonPid = [int](& sh -c "ip netns exec '$Ns' env LOG_LEVEL=verbose WG_PROCESS_FOREGROUND=1 wireguard-go '$If' >'$LogFile' 2>&1 </dev/null & echo `$!")
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Test-Path "/var/run/wireguard/$If.sock") -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $key = (& wg genkey)
        $peer = (& wg genkey) | & wg pubkey
        $key | & ip netns exec $Ns wg set $If private-key /dev/stdin peer $peer endpoint 198.51.100.20:51820 allowed-ips 192.0.2.99/32 persistent-keepalive 1
        & ip -n $Ns link set $If up
    }
    AfterAll {
        if ($DaemonPid -and (Test-Path "/proc/$DaemonPid") -and ((Get-Content -Raw "/proc/$DaemonPid/comm" -ErrorAction SilentlyContinue).Trim() -eq 'wireguard-go')) {
            Stop-Process -Id $DaemonPid -Force -ErrorAction SilentlyContinue
        }
        & ip netns del $Ns 2>$null
        Remove-Item "/var/run/wireguard/$If.sock" -Force -ErrorAction SilentlyContinue
        Remove-Item $LogFile -Force -ErrorAction SilentlyContinue
    }

    It 'yields HandshakeRetry events for the failing handshake' {
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        do {
            Start-Sleep -Milliseconds 500
            $retries = @(Get-WgLog -Path $LogFile -EventType HandshakeRetry)
        } while ($retries.Count -eq 0 -and [DateTime]::UtcNow -lt $deadline)
        $retries.Count | Should -BeGreaterThan 0
        $retries[0].Interface | Should -Be $If
        $retries[0].Peer | Should -Match '…'
        $retries[0].Time | Should -BeGreaterThan ([DateTime]::Now.AddMinutes(-2))
        $retries[0].Path | Should -Be $LogFile
        $all = @(Get-WgLog -Path $LogFile -Interface $If)
        $all.EventType | Should -Contain 'HandshakeSent'
        $all.EventType | Should -Contain 'InterfaceUp'
        @(Get-WgLog -Path $LogFile -Interface 'nomatch*').Count | Should -Be 0
        @(Get-WgLog -Path $LogFile -Since ([DateTime]::Now.AddMinutes(5))).Count | Should -Be 0
    }

    It 'reports a missing file as a non-terminating ObjectNotFound error' {
        $r = Get-WgLog -Path (Join-Path $TestDrive 'missing.log') -ErrorVariable ev -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $ev[0].FullyQualifiedErrorId | Should -Match '^WgLogNotFound'
        $ev[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}
