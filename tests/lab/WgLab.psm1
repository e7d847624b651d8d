#requires -Version 7.2
<#
.SYNOPSIS
    A real WireGuard lab in Linux network namespaces, for the WgTroubleshoot tests.
.DESCRIPTION
    Four namespaces per lab, named <prefix>-client, -router, -server and -inet, with prefix "wgt-<id>"
    (six hex digits, fresh per lab):

        client (eth0 198.51.100.2/25, wgc<id> 192.0.2.2/26, 2001:db8:100::2/64)
          |
        router (rt-client 198.51.100.1/25, rt-server 203.0.113.1/25, rt-inet 192.0.2.129/25)
          |                                   |
        server (ens3 203.0.113.2/25,        inet (eth0 192.0.2.130/25)
                wgs<id> 192.0.2.1/26, UDP 51820, forwarding and NAT out of ens3)

    The client reaches the "internet host" 192.0.2.130 only through the tunnel and the server's NAT: the
    router has no route to 192.0.2.0/26 and drops forwarding between the client and the internet side.
    WireGuard runs as wireguard-go (userspace) started by this module, one daemon per side, killed by
    its own PID on removal. Only documentation address ranges are used, and nothing is ever sent
    outside the lab's namespaces.

    Each side's wg-quick style configuration is written to /etc/netns/<ns>/wireguard/<if>.conf (mode
    0600), which `ip netns exec <ns>` shows as /etc/wireguard/<if>.conf, and applied to the live
    interface from that same file (stripped of the wg-quick keys). The client's /etc/netns/<ns>/hosts
    names the server vpn.example.test.

    Requires root, wireguard-go, wg, ip, nft, iptables and ping.
#>

Set-StrictMode -Version 3.0

$script:LabStateDir = '/run/wgt-lab'
$script:UapiDir = '/var/run/wireguard'
$script:Nodes = @('client', 'router', 'server', 'inet')
$script:IdPattern = '[0-9a-f]{6}'
# SharedKeyPair's second wireguard-go (Faults/Peer.ps1): its name carries no lab id, the namespace it runs in does
$script:TwinPattern = '^wgk[0-9a-f]{6}$'
$script:EndpointHost = 'vpn.example.test'
$script:ChildRunner = Join-Path $PSScriptRoot 'Invoke-WgLabChild.ps1'

#region process helpers

function Invoke-LabProcess {
    # Runs one native program with a time limit; returns ExitCode, StdOut, StdErr. Never leaves it running.
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @(),
        [int] $TimeoutSeconds = 20,
        [string] $StandardInput,
        [hashtable] $Environment
    )
    $psi = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add([string]$a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardInput = $true
    if ($Environment) { foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] } }
    $commandLine = (@($FilePath) + $ArgumentList) -join ' '
    Write-Verbose "lab> $commandLine"
    $p = [System.Diagnostics.Process]::Start($psi)
    try {
        $outTask = $p.StandardOutput.ReadToEndAsync()
        $errTask = $p.StandardError.ReadToEndAsync()
        try {
            if ($PSBoundParameters.ContainsKey('StandardInput') -and $null -ne $StandardInput) { $p.StandardInput.Write($StandardInput) }
            $p.StandardInput.Close()
        }
        catch [System.IO.IOException] { }  # the program exited without reading its input
        if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
            try { $p.Kill($true) } catch { }
            $null = $p.WaitForExit(5000)
            throw [System.TimeoutException]::new("'$commandLine' did not finish within $TimeoutSeconds s and was killed.")
        }
        $p.WaitForExit()
        $null = [System.Threading.Tasks.Task]::WaitAll(@($outTask, $errTask), 5000)
        [pscustomobject]@{
            CommandLine = $commandLine
            ExitCode    = $p.ExitCode
            StdOut      = if ($outTask.IsCompleted) { $outTask.Result } else { '' }
            StdErr      = if ($errTask.IsCompleted) { $errTask.Result } else { '' }
        }
    }
    finally { $p.Dispose() }
}

function Invoke-LabNative {
    # Runs a native program (optionally inside a namespace) and returns stdout; throws with stderr on failure.
    param(
        [string] $Namespace,
        [Parameter(Mandatory)] [string[]] $Command,
        [int] $TimeoutSeconds = 20,
        [string] $StandardInput,
        [switch] $AllowFailure
    )
    $file = $Command[0]; $rest = @($Command | Select-Object -Skip 1)
    if ($Namespace) { $rest = @('netns', 'exec', $Namespace, $file) + $rest; $file = 'ip' }
    $p = @{ FilePath = $file; ArgumentList = $rest; TimeoutSeconds = $TimeoutSeconds }
    if ($PSBoundParameters.ContainsKey('StandardInput')) { $p.StandardInput = $StandardInput }
    $r = Invoke-LabProcess @p
    if ($AllowFailure) { return $r }
    if ($r.ExitCode -ne 0) {
        $where = if ($Namespace) { " in $Namespace" } else { '' }
        throw "'$($Command -join ' ')'$where failed (exit $($r.ExitCode)): $($r.StdErr.Trim())"
    }
    $r.StdOut
}

function Get-LabProcessInfo([int] $ProcessId) {
    # State and start time from /proc/<pid>/stat; $null when the process is gone.
    $stat = "/proc/$ProcessId/stat"
    try { $text = [System.IO.File]::ReadAllText($stat) } catch { return $null }
    $fields = $text.Substring($text.LastIndexOf(')') + 2).Split(' ')
    $comm = try { [System.IO.File]::ReadAllText("/proc/$ProcessId/comm").Trim() } catch { '' }
    $cmdline = try { [System.IO.File]::ReadAllText("/proc/$ProcessId/cmdline").Replace([char]0, ' ').Trim() } catch { '' }
    [pscustomobject]@{ Pid = $ProcessId; State = $fields[0]; StartTime = [long]$fields[19]; Comm = $comm; CommandLine = $cmdline }
}

function Test-LabProcessAlive([int] $ProcessId, [long] $StartTime = 0) {
    $i = Get-LabProcessInfo $ProcessId
    if (-not $i -or $i.State -in 'Z', 'X') { return $false }
    if ($StartTime -and $i.StartTime -ne $StartTime) { return $false }
    $true
}

function Stop-LabProcess([int] $ProcessId, [string] $ExpectedComm) {
    # SIGTERM, then SIGKILL after 3 s; only the given PID, and only if it is still the expected program.
    $i = Get-LabProcessInfo $ProcessId
    if (-not $i -or $i.State -in 'Z', 'X') { return }
    if ($ExpectedComm -and $i.Comm -ne $ExpectedComm) { return }
    $null = Invoke-LabProcess -FilePath 'kill' -ArgumentList @('-TERM', "$ProcessId") -TimeoutSeconds 5
    $deadline = [DateTime]::UtcNow.AddSeconds(3)
    while ((Test-LabProcessAlive $ProcessId) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
    if (Test-LabProcessAlive $ProcessId) {
        $null = Invoke-LabProcess -FilePath 'kill' -ArgumentList @('-KILL', "$ProcessId") -TimeoutSeconds 5
        $deadline = [DateTime]::UtcNow.AddSeconds(3)
        while ((Test-LabProcessAlive $ProcessId) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
    }
}

function Write-LabSecretFile([string] $Path, [string] $Text) {
    # Created 0600 before any content is written.
    $dir = Split-Path $Path -Parent
    if (-not (Test-Path $dir)) {
        $null = New-Item -ItemType Directory -Path $dir -Force
        [System.IO.File]::SetUnixFileMode($dir, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
    }
    $tmp = "$Path.tmp$PID"
    $opts = [System.IO.FileStreamOptions]::new()
    $opts.Mode = [System.IO.FileMode]::Create
    $opts.Access = [System.IO.FileAccess]::Write
    $opts.UnixCreateMode = [System.IO.UnixFileMode]'UserRead, UserWrite'
    $fs = [System.IO.FileStream]::new($tmp, $opts)
    try {
        $bytes = [System.Text.UTF8Encoding]::new($false).GetBytes($Text)
        $fs.Write($bytes, 0, $bytes.Length)
    }
    finally { $fs.Dispose() }
    [System.IO.File]::SetUnixFileMode($tmp, [System.IO.UnixFileMode]'UserRead, UserWrite')
    [System.IO.File]::Move($tmp, $Path, $true)
}

#endregion

#region keys and configuration text

function New-LabKeyPair {
    $priv = (Invoke-LabNative -Command 'wg', 'genkey').Trim()
    $pub = (Invoke-LabNative -Command 'wg', 'pubkey' -StandardInput "$priv`n").Trim()
    [pscustomobject]@{ PrivateKey = $priv; PublicKey = $pub }
}

function ConvertTo-LabHex([string] $Base64) {
    ([System.Convert]::ToHexString([System.Convert]::FromBase64String($Base64))).ToLowerInvariant()
}

function ConvertTo-LabConfigText($Side) {
    # wg-quick style text from the side's model: comments and wg-quick keys included.
    $i = $Side.Config
    $sb = [System.Text.StringBuilder]::new()
    $null = $sb.AppendLine("# WgTroubleshoot test lab $($Side.LabId): $($Side.Node) side ($($Side.Interface))")
    $null = $sb.AppendLine('[Interface]')
    $null = $sb.AppendLine("Address = $($i.Address -join ', ')")
    if ($i.ListenPort) { $null = $sb.AppendLine("ListenPort = $($i.ListenPort)") }
    if ($i.Mtu) { $null = $sb.AppendLine("MTU = $($i.Mtu)") }
    $null = $sb.AppendLine("PrivateKey = $($i.PrivateKey)")
    # wg-quick hooks, when a fault gives the side some (never run by the lab: it applies configs with wg setconf)
    foreach ($hook in 'PreUp', 'PostUp', 'PreDown', 'PostDown') {
        if ($i.PSObject.Properties[$hook]) { foreach ($h in @($i.$hook)) { if ($h) { $null = $sb.AppendLine("$hook = $h") } } }
    }
    foreach ($p in $i.Peers) {
        $null = $sb.AppendLine()
        $null = $sb.AppendLine("# $($p.Name)")
        $null = $sb.AppendLine('[Peer]')
        $null = $sb.AppendLine("PublicKey = $($p.PublicKey)")
        if ($p.PresharedKey) { $null = $sb.AppendLine("PresharedKey = $($p.PresharedKey)") }
        if ($p.Endpoint) { $null = $sb.AppendLine("Endpoint = $($p.Endpoint)") }
        $null = $sb.AppendLine("AllowedIPs = $($p.AllowedIPs -join ', ')")
        if ($p.PersistentKeepalive) { $null = $sb.AppendLine("PersistentKeepalive = $($p.PersistentKeepalive)") }
    }
    $sb.ToString()
}

function ConvertTo-WgLabSetconf {
    <#
    .SYNOPSIS
        Strips a wg-quick configuration down to what `wg setconf` accepts (as `wg-quick strip` does).
    .DESCRIPTION
        Keeps section headers and the keys PrivateKey, ListenPort, FwMark, PublicKey, PresharedKey,
        AllowedIPs, Endpoint and PersistentKeepalive; drops comments, blank lines and the wg-quick keys
        (Address, DNS, MTU, Table, hooks, SaveConfig).
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory, ValueFromPipeline)] [AllowEmptyString()] [string] $Text)
    $wgKeys = 'privatekey', 'listenport', 'fwmark', 'publickey', 'presharedkey', 'allowedips', 'endpoint', 'persistentkeepalive'
    $out = [System.Text.StringBuilder]::new()
    foreach ($raw in $Text -split "`r?`n") {
        $line = $raw
        $hash = $line.IndexOf('#')
        if ($hash -ge 0) { $line = $line.Substring(0, $hash) }
        $line = $line.Trim()
        if (-not $line) { continue }
        if ($line -match '^\[(interface|peer)\]$') { $null = $out.AppendLine($line); continue }
        $eq = $line.IndexOf('=')
        if ($eq -lt 1) { continue }
        $key = $line.Substring(0, $eq).Trim().ToLowerInvariant()
        if ($key -in $wgKeys) { $null = $out.AppendLine($line) }
    }
    $out.ToString()
}

#endregion

#region lab state and teardown

function Get-LabIdsPresent {
    # Every lab id that has any resource left on this machine.
    $ids = [System.Collections.Generic.HashSet[string]]::new()
    $nsOut = (Invoke-LabProcess -FilePath 'ip' -ArgumentList 'netns', 'list' -TimeoutSeconds 10).StdOut
    foreach ($l in $nsOut -split "`n") {
        if ($l -match "^wgt-($script:IdPattern)-(client|router|server|inet)\b") { $null = $ids.Add($Matches[1]) }
    }
    if (Test-Path /etc/netns) {
        foreach ($d in Get-ChildItem /etc/netns -Directory -ErrorAction SilentlyContinue) {
            if ($d.Name -match "^wgt-($script:IdPattern)-(client|router|server|inet)$") { $null = $ids.Add($Matches[1]) }
        }
    }
    if (Test-Path $script:UapiDir) {
        foreach ($f in Get-ChildItem $script:UapiDir -ErrorAction SilentlyContinue) {
            if ($f.Name -match "^wg[cs]($script:IdPattern)\.sock$") { $null = $ids.Add($Matches[1]) }
        }
    }
    if (Test-Path $script:LabStateDir) {
        foreach ($f in Get-ChildItem $script:LabStateDir -ErrorAction SilentlyContinue) {
            if ($f.Name -match "^($script:IdPattern)(\.json)?$") { $null = $ids.Add($Matches[1]) }
        }
    }
    foreach ($p in Get-LabDaemon) { $null = $ids.Add($p.Id) }
    @($ids)
}

function Get-LabWireGuardGo {
    # Every running wireguard-go on the machine, found through /proc (cmdline "wireguard-go -f <interface>").
    foreach ($d in [System.IO.Directory]::GetDirectories('/proc')) {
        $name = [System.IO.Path]::GetFileName($d)
        if ($name -notmatch '^\d+$') { continue }
        $i = Get-LabProcessInfo ([int]$name)
        if ($i -and $i.Comm -eq 'wireguard-go' -and $i.State -notin 'Z', 'X' -and $i.CommandLine -match '^wireguard-go -f ([A-Za-z0-9_.=+-]{1,15})$') {
            [pscustomobject]@{ Pid = $i.Pid; Interface = $Matches[1] }
        }
    }
}

function Get-LabDaemon([string] $Id) {
    # wireguard-go processes of the lab(s) (interface wg[cs]<id>).
    $pattern = if ($Id) { "^wg[cs]($Id)$" } else { "^wg[cs]($script:IdPattern)$" }
    foreach ($w in Get-LabWireGuardGo) {
        if ($w.Interface -match $pattern) { [pscustomobject]@{ Pid = $w.Pid; Id = $Matches[1] } }
    }
}

function Remove-LabSocket([string] $Interface) {
    # wireguard-go's UAPI socket of an interface (a killed daemon may leave it); returns a problem or nothing.
    $sock = Join-Path $script:UapiDir "$Interface.sock"
    if (Test-Path -LiteralPath $sock) {
        try { Remove-Item -LiteralPath $sock -Force -ErrorAction Stop } catch { "$sock`: $_" }
    }
}

function Stop-LabWireGuardGo($Daemon) {
    # One wireguard-go by its PID, then its socket; returns the problems.
    try { Stop-LabProcess -ProcessId $Daemon.Pid -ExpectedComm 'wireguard-go' } catch { "kill $($Daemon.Pid)`: $_" }
    if (-not (Test-LabProcessAlive $Daemon.Pid)) { Remove-LabSocket $Daemon.Interface }
}

function Get-LabNamespaceProcess([string] $Namespace) {
    # PIDs of the processes in a named namespace (`ip netns pids`); none when it does not exist.
    $r = Invoke-LabProcess -FilePath 'ip' -ArgumentList 'netns', 'pids', $Namespace -TimeoutSeconds 10
    if ($r.ExitCode -ne 0) { return }
    foreach ($t in $r.StdOut -split '\s+') { if ($t -match '^\d+$') { [int]$t } }
}

function Remove-OrphanLabTwin {
    # A twin whose lab namespace was deleted around it (an older teardown, or a fault that could not be removed)
    # runs on in a namespace without a name: killed, its socket removed. A twin's socket that no wireguard-go
    # serves is removed too. Twins in a named namespace are judged by that lab's id (Remove-LabById), never here.
    $problems = [System.Collections.Generic.List[string]]::new()
    $own = @((Get-Item /proc/self/ns/net -ErrorAction SilentlyContinue).LinkTarget, (Get-Item /proc/1/ns/net -ErrorAction SilentlyContinue).LinkTarget) | Where-Object { $_ }
    $running = @(Get-LabWireGuardGo)
    foreach ($w in $running | Where-Object Interface -Match $script:TwinPattern) {
        $ns = (Get-Item "/proc/$($w.Pid)/ns/net" -ErrorAction SilentlyContinue).LinkTarget
        if (-not $ns -or $own -contains $ns) { continue }
        $named = Invoke-LabProcess -FilePath 'ip' -ArgumentList 'netns', 'identify', "$($w.Pid)" -TimeoutSeconds 10
        if ($named.ExitCode -ne 0 -or $named.StdOut.Trim()) { continue }
        Write-Verbose "Removing the orphaned wireguard-go $($w.Interface) (PID $($w.Pid))"
        foreach ($p in Stop-LabWireGuardGo $w) { $problems.Add($p) }
    }
    if (Test-Path $script:UapiDir) {
        $serving = @(Get-LabWireGuardGo | ForEach-Object Interface)
        foreach ($f in Get-ChildItem $script:UapiDir -Filter '*.sock' -ErrorAction SilentlyContinue) {
            $name = [System.IO.Path]::GetFileNameWithoutExtension($f.Name)
            if ($name -match $script:TwinPattern -and $serving -notcontains $name) {
                foreach ($p in Remove-LabSocket $name) { $problems.Add($p) }
            }
        }
    }
    foreach ($p in $problems) { Write-Warning "Lab twin cleanup: $p" }
}

function Remove-LabById {
    param([Parameter(Mandatory)] [string] $Id, [int[]] $KnownPids = @())
    $problems = [System.Collections.Generic.List[string]]::new()
    $prefix = "wgt-$Id"
    # 1. daemons, by their own PIDs (the recorded ones and any found in /proc for this id)
    $pids = @($KnownPids) + @(Get-LabDaemon -Id $Id | ForEach-Object Pid) | Sort-Object -Unique
    foreach ($p in $pids) {
        try { Stop-LabProcess -ProcessId $p -ExpectedComm 'wireguard-go' } catch { $problems.Add("kill $p`: $_") }
    }
    # 1b. any other wireguard-go in this lab's namespaces (SharedKeyPair's twin, left by an interrupted run), and its socket
    $present = (Invoke-LabProcess -FilePath 'ip' -ArgumentList 'netns', 'list' -TimeoutSeconds 10).StdOut
    $inLab = @(foreach ($n in $script:Nodes) {
        if ($present -match "(?m)^$([regex]::Escape("$prefix-$n"))\b") { Get-LabNamespaceProcess "$prefix-$n" }
    })
    if ($inLab.Count) {
        foreach ($w in Get-LabWireGuardGo | Where-Object { $inLab -contains $_.Pid }) {
            foreach ($p in Stop-LabWireGuardGo $w) { $problems.Add($p) }
        }
    }
    # 2. namespaces (this also destroys the veths and the tun devices)
    foreach ($n in $script:Nodes) {
        $ns = "$prefix-$n"
        if ($present -match "(?m)^$([regex]::Escape($ns))\b") {
            $r = Invoke-LabProcess -FilePath 'ip' -ArgumentList 'netns', 'del', $ns -TimeoutSeconds 10
            if ($r.ExitCode -ne 0) { $problems.Add("ip netns del $ns`: $($r.StdErr.Trim())") }
        }
        $etc = "/etc/netns/$ns"
        if (Test-Path -LiteralPath $etc) {
            try { Remove-Item -LiteralPath $etc -Recurse -Force -ErrorAction Stop } catch { $problems.Add("$etc`: $_") }
        }
    }
    # 3. UAPI sockets (a killed daemon may leave them)
    foreach ($s in "wgc$Id", "wgs$Id") {
        foreach ($p in Remove-LabSocket $s) { $problems.Add($p) }
    }
    # 4. state
    foreach ($f in (Join-Path $script:LabStateDir "$Id.json"), (Join-Path $script:LabStateDir $Id)) {
        if (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f -Recurse -Force -ErrorAction SilentlyContinue }
    }
    # /etc/netns itself is left when other namespaces use it; removed when empty
    if ((Test-Path /etc/netns) -and -not (Get-ChildItem /etc/netns -Force -ErrorAction SilentlyContinue)) {
        try { [System.IO.Directory]::Delete('/etc/netns', $false) } catch { }  # another lab may have just made one
    }
    foreach ($p in $problems) { Write-Warning "Lab $prefix teardown: $p" }
}

function Remove-StaleLab {
    # Leftovers of labs whose owner process is gone (an interrupted run): removed before a new lab starts.
    foreach ($id in Get-LabIdsPresent) {
        $stateFile = Join-Path $script:LabStateDir "$id.json"
        $stale = $true
        if (Test-Path $stateFile) {
            try {
                $s = Get-Content -Raw $stateFile | ConvertFrom-Json
                if (Test-LabProcessAlive $s.OwnerPid $s.OwnerStartTime) { $stale = $false }
            }
            catch { }
        }
        if ($stale) {
            Write-Verbose "Removing leftovers of lab wgt-$id"
            Remove-LabById -Id $id
        }
    }
    Remove-OrphanLabTwin
}

function Save-LabState($Lab) {
    $state = [ordered]@{
        Id             = $Lab.Id
        OwnerPid       = $PID
        OwnerStartTime = (Get-LabProcessInfo $PID).StartTime
        Pids           = @($Lab.Client.Pid, $Lab.Server.Pid) | Where-Object { $_ }
    }
    $null = New-Item -ItemType Directory -Force $script:LabStateDir
    $state | ConvertTo-Json | Set-Content -LiteralPath (Join-Path $script:LabStateDir "$($Lab.Id).json")
}

#endregion

#region building blocks on a running lab

function Get-LabSide($Lab, [string] $Node) {
    switch ($Node) {
        'client' { $Lab.Client }
        'server' { $Lab.Server }
        default { throw "Node '$Node' has no WireGuard interface (use client or server)." }
    }
}

function Write-LabSideConfig($Side) {
    Write-LabSecretFile -Path $Side.HostConfigPath -Text (ConvertTo-LabConfigText $Side)
}

function Write-LabHosts($Lab, [string] $Address) {
    $text = "127.0.0.1`tlocalhost`n::1`tlocalhost ip6-localhost ip6-loopback`n$Address`t$($Lab.EndpointHost)`n"
    $path = "/etc/netns/$($Lab.Namespaces.client)/hosts"
    $null = New-Item -ItemType Directory -Force (Split-Path $path)
    [System.IO.File]::WriteAllText("$path.tmp", $text)
    [System.IO.File]::Move("$path.tmp", $path, $true)
    $Lab.Client.HostsAddress = $Address
}

function Sync-LabSide {
    # Applies the side's configuration file to the live interface with `wg setconf` (peers replaced,
    # so every session is dropped and the latest handshake is 0 again). -Endpoint overrides the endpoint
    # that the file names (used to keep a stale address live).
    param($Lab, [string] $Node, [string] $Endpoint)
    $side = Get-LabSide $Lab $Node
    $text = [System.IO.File]::ReadAllText($side.HostConfigPath) | ConvertTo-WgLabSetconf
    if ($Endpoint) { $text = $text -replace '(?m)^(\s*Endpoint\s*=\s*).*$', "`${1}$Endpoint" }
    $null = Invoke-LabNative -Namespace $side.Namespace -Command 'wg', 'setconf', $side.Interface, '/dev/stdin' -StandardInput $text
}

function Set-LabWgLinkUp($Lab, [string] $Node) {
    # Link up, then the routes wg-quick would add for the AllowedIPs not covered by the addresses.
    $side = Get-LabSide $Lab $Node
    $ns = $side.Namespace; $if = $side.Interface
    $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'link', 'set', $if, 'up'
    foreach ($r in $side.ExtraRoutes) {
        $fam = if ($r -match ':') { '-6' } else { '-4' }
        $null = Invoke-LabNative -Command 'ip', '-n', $ns, $fam, 'route', 'replace', $r, 'dev', $if
    }
}

function Reset-LabSession {
    # Drops the sessions on both sides, so the next handshake is a fresh one (deterministic symptoms).
    param($Lab, [string] $ClientEndpoint)
    Sync-LabSide -Lab $Lab -Node server
    if ($ClientEndpoint) { Sync-LabSide -Lab $Lab -Node client -Endpoint $ClientEndpoint }
    else { Sync-LabSide -Lab $Lab -Node client }
}

function Invoke-LabNft($Lab, [string] $Node, [string] $Script) {
    $null = Invoke-LabNative -Namespace $Lab.Namespaces[$Node] -Command 'nft', '-f', '-' -StandardInput $Script
}

function Get-LabIptablesFlavour {
    $v = (Invoke-LabNative -Command 'iptables', '--version').Trim()
    if ($v -match 'nf_tables') { 'nft' } elseif ($v -match 'legacy') { 'legacy' } else { 'unknown' }
}

#endregion

#region faults

$script:FaultCatalog = [ordered]@{
    FirewallBlocksPort         = @{
        Side    = 'server'
        Symptom = 'No handshake: the server''s nftables input chain drops UDP 51820. Client: initiations sent, no response. Server: nothing arrives at wireguard-go; nft ruleset shows the drop.'
    }
    FirewallBlocksPortIptables = @{
        Side    = 'server'
        Symptom = 'As FirewallBlocksPort, with an iptables INPUT DROP rule (the flavour iptables is here: nft or legacy).'
    }
    TcpOnlyFirewallRule        = @{
        Side    = 'server'
        Symptom = 'No handshake: server input policy drop with only tcp dport 51820 accepted (the UDP port was never opened).'
    }
    WrongEndpointPort          = @{
        Side    = 'client'
        Symptom = 'No handshake: the client''s endpoint port is 51821 (live and config); the server never hears the client.'
    }
    KeyMismatch                = @{
        Side    = 'server'
        Symptom = 'No handshake: the server''s peer for the client has another public key (live and config). Initiations arrive at the server, no response leaves.'
    }
    AllowedIpsMismatch         = @{
        Side    = 'server'
        Symptom = 'Handshake works, traffic from the client is dropped: the server''s peer AllowedIPs is 192.0.2.3/32 (live and config). Client rx stays flat, tunnel pings fail.'
    }
    MtuBlackhole               = @{
        Side    = 'router'
        Symptom = 'Path MTU 1400 towards the server and "fragmentation needed" dropped by the router: small packets and the handshake pass, full-size tunnel packets (1420) and 1472-byte DF underlay pings vanish silently. Seen from the client by DF probes.'
    }
    ForwardingDisabled         = @{
        Side    = 'server'
        Symptom = 'Handshake and 192.0.2.1 work, the internet host 192.0.2.130 does not: server net.ipv4.ip_forward=0.'
    }
    NatMissing                 = @{
        Side    = 'server'
        Symptom = 'Handshake and 192.0.2.1 work, 192.0.2.130 does not: the server''s masquerade rule is gone (its table and chain remain, empty).'
    }
    StaleDnsEndpoint           = @{
        Side    = 'client'
        Symptom = 'The server moved to 203.0.113.3; vpn.example.test (client hosts file, used in the client config) says so, but the client''s live endpoint is still 203.0.113.2: handshake never completes until the name is re-resolved.'
    }
    IdlePeer                   = @{
        Side    = 'client'
        Symptom = 'No keepalive on the client''s peer (live and config) and no traffic: no handshake, zero counters, which is WireGuard being silent by design (Idle), not a fault.'
    }
    InterfaceDown              = @{
        Side    = 'client'
        Symptom = 'The WireGuard link is down on one side (default client; Add-WgLabFault -Node server for the other): LinkState Down there, no handshake.'
    }
}

# Faults defined in tests/lab/Faults/*.ps1: each file calls Register-LabFault with its name, side, symptom
# and two script blocks, { param($Lab, $Node) ... } to inject and { param($Lab) ... } to remove.
$script:FaultHandlers = @{}
function Register-LabFault {
    param(
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [string] $Side,
        [Parameter(Mandatory)] [string] $Symptom,
        [Parameter(Mandatory)] [scriptblock] $Add,
        [Parameter(Mandatory)] [scriptblock] $Remove
    )
    if ($script:FaultCatalog.Contains($Name)) { throw "Lab fault $Name is defined twice" }
    $script:FaultCatalog[$Name] = @{ Side = $Side; Symptom = $Symptom }
    $script:FaultHandlers[$Name] = @{ Add = $Add; Remove = $Remove }
}
foreach ($faultFile in Get-ChildItem (Join-Path $PSScriptRoot 'Faults') -Filter *.ps1 -ErrorAction SilentlyContinue | Sort-Object Name) {
    . $faultFile.FullName
}

function Add-LabFaultCore($Lab, [string] $Fault, [string] $Node) {
    $c = $Lab.Client; $s = $Lab.Server
    if ($script:FaultHandlers.ContainsKey($Fault)) { & $script:FaultHandlers[$Fault].Add $Lab $Node; return }
    switch ($Fault) {
        'FirewallBlocksPort' {
            Invoke-LabNft $Lab server "table inet wgtfault_port {`n chain input {`n  type filter hook input priority 0; policy accept;`n  udp dport $($s.ListenPort) drop`n }`n}`n"
            Reset-LabSession $Lab
        }
        'FirewallBlocksPortIptables' {
            $Lab.IptablesFlavour = Get-LabIptablesFlavour
            $null = Invoke-LabNative -Namespace $s.Namespace -Command 'iptables', '-w', '5', '-A', 'INPUT', '-p', 'udp', '--dport', "$($s.ListenPort)", '-j', 'DROP'
            Reset-LabSession $Lab
        }
        'TcpOnlyFirewallRule' {
            Invoke-LabNft $Lab server "table inet wgtfault_tcponly {`n chain input {`n  type filter hook input priority 0; policy drop;`n  iif `"lo`" accept`n  tcp dport $($s.ListenPort) accept`n }`n}`n"
            Reset-LabSession $Lab
        }
        'WrongEndpointPort' {
            $p = $c.Config.Peers[0]
            $p.Endpoint = $p.Endpoint -replace ':\d+$', ':51821'
            Write-LabSideConfig $c
            Reset-LabSession $Lab
        }
        'KeyMismatch' {
            $other = New-LabKeyPair
            $s.Config.Peers[0].PublicKey = $other.PublicKey
            Write-LabSideConfig $s
            Reset-LabSession $Lab
        }
        'AllowedIpsMismatch' {
            $s.Config.Peers[0].AllowedIPs = @('192.0.2.3/32', '2001:db8:100::3/128')
            Write-LabSideConfig $s
            Reset-LabSession $Lab
        }
        'MtuBlackhole' {
            $r = $Lab.Namespaces.router
            $null = Invoke-LabNative -Command 'ip', '-n', $r, 'link', 'set', 'rt-server', 'mtu', '1400'
            Invoke-LabNft $Lab router "table inet wgtfault_mtu {`n chain output {`n  type filter hook output priority 0; policy accept;`n  icmp type destination-unreachable icmp code frag-needed drop`n  icmpv6 type packet-too-big drop`n }`n chain forward {`n  type filter hook forward priority 0; policy accept;`n  icmp type destination-unreachable icmp code frag-needed drop`n  icmpv6 type packet-too-big drop`n }`n}`n"
        }
        'ForwardingDisabled' {
            $null = Invoke-LabNative -Namespace $s.Namespace -Command 'sysctl', '-qw', 'net.ipv4.ip_forward=0'
        }
        'NatMissing' {
            Invoke-LabNft $Lab server "flush chain ip wgtlab_nat postrouting`n"
        }
        'StaleDnsEndpoint' {
            $old = "$($s.Underlay):$($s.ListenPort)"
            $p = $c.Config.Peers[0]
            $Lab.FaultState['StaleDnsEndpoint'] = @{ Endpoint = $p.Endpoint }
            $p.Endpoint = "$($Lab.EndpointHost):$($s.ListenPort)"
            Write-LabSideConfig $c
            $ns = $s.Namespace
            $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'del', "$($s.Underlay)/25", 'dev', 'ens3'
            $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'add', "$($s.MovedUnderlay)/25", 'dev', 'ens3'
            $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'route', 'replace', 'default', 'via', $Lab.Router.ServerSide
            Write-LabHosts $Lab $s.MovedUnderlay
            Reset-LabSession $Lab -ClientEndpoint $old
        }
        'IdlePeer' {
            $c.Config.Peers[0].PersistentKeepalive = 0
            Write-LabSideConfig $c
            Reset-LabSession $Lab
        }
        'InterfaceDown' {
            $side = Get-LabSide $Lab $Node
            $Lab.FaultState['InterfaceDown'] = @{ Node = $Node }
            $null = Invoke-LabNative -Command 'ip', '-n', $side.Namespace, 'link', 'set', $side.Interface, 'down'
        }
    }
}

function Remove-LabFaultCore($Lab, [string] $Fault) {
    $c = $Lab.Client; $s = $Lab.Server
    if ($script:FaultHandlers.ContainsKey($Fault)) {
        & $script:FaultHandlers[$Fault].Remove $Lab
        $null = $Lab.FaultState.Remove($Fault)
        return
    }
    switch ($Fault) {
        'FirewallBlocksPort' {
            Invoke-LabNft $Lab server "delete table inet wgtfault_port`n"
            Reset-LabSession $Lab
        }
        'FirewallBlocksPortIptables' {
            $null = Invoke-LabNative -Namespace $s.Namespace -Command 'iptables', '-w', '5', '-D', 'INPUT', '-p', 'udp', '--dport', "$($s.ListenPort)", '-j', 'DROP'
            Reset-LabSession $Lab
        }
        'TcpOnlyFirewallRule' {
            Invoke-LabNft $Lab server "delete table inet wgtfault_tcponly`n"
            Reset-LabSession $Lab
        }
        'WrongEndpointPort' {
            $p = $c.Config.Peers[0]
            $p.Endpoint = $p.Endpoint -replace ':\d+$', ":$($s.ListenPort)"
            Write-LabSideConfig $c
            Reset-LabSession $Lab
        }
        'KeyMismatch' {
            $s.Config.Peers[0].PublicKey = $c.PublicKey
            Write-LabSideConfig $s
            Reset-LabSession $Lab
        }
        'AllowedIpsMismatch' {
            $s.Config.Peers[0].AllowedIPs = @($s.PeerAllowedIPs)
            Write-LabSideConfig $s
            Reset-LabSession $Lab
        }
        'MtuBlackhole' {
            Invoke-LabNft $Lab router "delete table inet wgtfault_mtu`n"
            $null = Invoke-LabNative -Command 'ip', '-n', $Lab.Namespaces.router, 'link', 'set', 'rt-server', 'mtu', '1500'
        }
        'ForwardingDisabled' {
            $null = Invoke-LabNative -Namespace $s.Namespace -Command 'sysctl', '-qw', 'net.ipv4.ip_forward=1'
        }
        'NatMissing' {
            Invoke-LabNft $Lab server "add rule ip wgtlab_nat postrouting ip saddr $($Lab.TunnelSubnet) oifname `"ens3`" masquerade`n"
        }
        'StaleDnsEndpoint' {
            $ns = $s.Namespace
            $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'del', "$($s.MovedUnderlay)/25", 'dev', 'ens3'
            $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'addr', 'add', "$($s.Underlay)/25", 'dev', 'ens3'
            $null = Invoke-LabNative -Command 'ip', '-n', $ns, 'route', 'replace', 'default', 'via', $Lab.Router.ServerSide
            Write-LabHosts $Lab $s.Underlay
            $c.Config.Peers[0].Endpoint = $Lab.FaultState['StaleDnsEndpoint'].Endpoint
            Write-LabSideConfig $c
            Reset-LabSession $Lab
        }
        'IdlePeer' {
            $c.Config.Peers[0].PersistentKeepalive = $c.Keepalive
            Write-LabSideConfig $c
            Reset-LabSession $Lab
        }
        'InterfaceDown' {
            Set-LabWgLinkUp $Lab $Lab.FaultState['InterfaceDown'].Node
        }
    }
    $null = $Lab.FaultState.Remove($Fault)
}

#endregion

#region public functions

function Get-WgLabFault {
    <#
    .SYNOPSIS
        Lists the faults the lab can inject: name, the side where it shows, and the symptom.
    #>
    [CmdletBinding()]
    param([string] $Name = '*')
    foreach ($k in $script:FaultCatalog.Keys) {
        if ($k -like $Name) {
            [pscustomobject]@{ PSTypeName = 'WgLab.Fault'; Name = $k; Side = $script:FaultCatalog[$k].Side; Symptom = $script:FaultCatalog[$k].Symptom }
        }
    }
}

function Test-WgLabPrerequisite {
    <#
    .SYNOPSIS
        True when a lab can run here (root, Linux, wireguard-go, wg, ip, nft, ping); -Reason says what is missing.
    #>
    [CmdletBinding()]
    [OutputType([bool], [string])]
    param([switch] $Reason)
    $missing = @()
    if (-not $IsLinux) { $missing += 'Linux' }
    elseif ((& id -u) -ne '0') { $missing += 'root' }
    foreach ($t in 'wireguard-go', 'wg', 'ip', 'nft', 'ping', 'sysctl') {
        if (-not (Get-Command $t -CommandType Application -ErrorAction SilentlyContinue)) { $missing += $t }
    }
    if ($IsLinux -and -not (Test-Path /dev/net/tun)) { $missing += '/dev/net/tun' }
    if ($Reason) { if ($missing) { "missing: $($missing -join ', ')" } else { '' } }
    else { -not $missing }
}

function New-WgLab {
    <#
    .SYNOPSIS
        Builds a fresh WireGuard lab (client, router, server, internet host) and returns its description.
    .DESCRIPTION
        Removes leftovers of earlier labs whose owner process is gone, then builds the namespaces,
        generates keys, writes the configuration files, starts one wireguard-go per side and applies the
        configuration. It does not wait for a handshake (see Wait-WgLabHandshake). On any failure
        everything built so far is removed.
    .PARAMETER Fault
        Faults to inject once the lab is up (see Get-WgLabFault).
    .PARAMETER NoKeepalive
        No PersistentKeepalive on the client's peer: nothing is sent until there is traffic.
    .PARAMETER Mtu
        An MTU for both tunnel interfaces, also written as MTU = in the configurations.
    .PARAMETER EndpointHostName
        The client's configuration names the server vpn.example.test (resolved through the client's hosts file).
    #>
    [CmdletBinding()]
    param(
        [ValidateScript({ $_ -in $script:FaultCatalog.Keys })] [string[]] $Fault = @(),
        [switch] $NoKeepalive,
        [ValidateRange(1280, 9000)] [int] $Mtu,
        [switch] $EndpointHostName
    )
    if (-not (Test-WgLabPrerequisite)) { throw "The lab cannot run here: $(Test-WgLabPrerequisite -Reason)" }
    Remove-StaleLab

    $id = -join ((1..6) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) })
    while (Get-LabIdsPresent | Where-Object { $_ -eq $id }) { $id = -join ((1..6) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) }) }
    $prefix = "wgt-$id"
    $ns = [ordered]@{}
    foreach ($n in $script:Nodes) { $ns[$n] = "$prefix-$n" }

    $clientKeys = New-LabKeyPair
    $serverKeys = New-LabKeyPair
    $psk = (Invoke-LabNative -Command 'wg', 'genpsk').Trim()
    $keepalive = if ($NoKeepalive) { 0 } else { 25 }

    $server = [pscustomobject]@{
        LabId = $id; Node = 'server'; Namespace = $ns.server; Interface = "wgs$id"
        Underlay = '203.0.113.2'; MovedUnderlay = '203.0.113.3'; UplinkInterface = 'ens3'
        TunnelAddress = '192.0.2.1'; TunnelAddress6 = '2001:db8:100::1'; ListenPort = 51820
        PrivateKey = $serverKeys.PrivateKey; PublicKey = $serverKeys.PublicKey
        PeerName = 'lab-client'; PeerAllowedIPs = @('192.0.2.2/32', '2001:db8:100::2/128')
        ConfigPath = "/etc/wireguard/wgs$id.conf"; HostConfigPath = "/etc/netns/$($ns.server)/wireguard/wgs$id.conf"
        ExtraRoutes = @(); Pid = 0; Keepalive = 0
        Config = $null
    }
    $server.Config = [pscustomobject]@{
        Address = @('192.0.2.1/26', '2001:db8:100::1/64'); ListenPort = 51820; Mtu = $Mtu; PrivateKey = $serverKeys.PrivateKey
        Peers = @([pscustomobject]@{ Name = 'lab-client'; PublicKey = $clientKeys.PublicKey; PresharedKey = $psk; Endpoint = $null; AllowedIPs = @($server.PeerAllowedIPs); PersistentKeepalive = 0 })
    }
    $client = [pscustomobject]@{
        LabId = $id; Node = 'client'; Namespace = $ns.client; Interface = "wgc$id"
        Underlay = '198.51.100.2'; UplinkInterface = 'eth0'
        TunnelAddress = '192.0.2.2'; TunnelAddress6 = '2001:db8:100::2'; ListenPort = 0
        PrivateKey = $clientKeys.PrivateKey; PublicKey = $clientKeys.PublicKey
        PeerName = 'lab-server'; PeerAllowedIPs = @('192.0.2.0/26', '192.0.2.128/25', '2001:db8:100::/64')
        ConfigPath = "/etc/wireguard/wgc$id.conf"; HostConfigPath = "/etc/netns/$($ns.client)/wireguard/wgc$id.conf"
        ExtraRoutes = @('192.0.2.128/25'); Pid = 0; Keepalive = $keepalive; HostsAddress = $null
        Config = $null
    }
    $endpoint = if ($EndpointHostName) { "$($script:EndpointHost):51820" } else { '203.0.113.2:51820' }
    $client.Config = [pscustomobject]@{
        Address = @('192.0.2.2/26', '2001:db8:100::2/64'); ListenPort = 0; Mtu = $Mtu; PrivateKey = $clientKeys.PrivateKey
        Peers = @([pscustomobject]@{ Name = 'lab-server'; PublicKey = $serverKeys.PublicKey; PresharedKey = $psk; Endpoint = $endpoint; AllowedIPs = @($client.PeerAllowedIPs); PersistentKeepalive = $keepalive })
    }
    $lab = [pscustomobject]@{
        PSTypeName      = 'WgLab'
        Id              = $id
        Prefix          = $prefix
        Namespaces      = $ns
        Client          = $client
        Server          = $server
        Router          = [pscustomobject]@{ Namespace = $ns.router; ClientSide = '198.51.100.1'; ServerSide = '203.0.113.1'; InetSide = '192.0.2.129' }
        Inet            = [pscustomobject]@{ Namespace = $ns.inet; Address = '192.0.2.130' }
        TunnelSubnet    = '192.0.2.0/26'
        InternetHost    = '192.0.2.130'
        EndpointHost    = $script:EndpointHost
        PresharedKey    = $psk
        Faults          = [System.Collections.Generic.List[string]]::new()
        FaultState      = @{}
        IptablesFlavour = $null
        Created         = [DateTime]::UtcNow
        Removed         = $false
    }
    $lab | Add-Member -MemberType ScriptMethod -Name ToString -Force -Value { "WgLab $($this.Prefix)" }

    Save-LabState $lab
    try {
        Build-Lab $lab
        Save-LabState $lab
        foreach ($f in $Fault) { Add-WgLabFault -Lab $lab -Fault $f }
    }
    catch {
        $err = $_
        Remove-WgLab -Lab $lab
        throw $err
    }
    $lab
}

function Build-Lab($Lab) {
    $ns = $Lab.Namespaces
    $ipn = { param($n) $null = Invoke-LabNative -Command (@('ip', '-n', $ns[$n]) + $args) }
    foreach ($n in $script:Nodes) {
        $null = Invoke-LabNative -Command 'ip', 'netns', 'add', $ns[$n]
        & $ipn $n link set lo up
    }
    # underlay: veth pairs made inside the router and the far namespace (no name ever exists on the host)
    & $ipn router link add rt-client type veth peer name eth0 netns $ns.client
    & $ipn router link add rt-server type veth peer name ens3 netns $ns.server
    & $ipn router link add rt-inet type veth peer name eth0 netns $ns.inet
    & $ipn router addr add 198.51.100.1/25 dev rt-client
    & $ipn router addr add 203.0.113.1/25 dev rt-server
    & $ipn router addr add 192.0.2.129/25 dev rt-inet
    foreach ($l in 'rt-client', 'rt-server', 'rt-inet') { & $ipn router link set $l up }
    & $ipn client addr add 198.51.100.2/25 dev eth0
    & $ipn client link set eth0 up
    & $ipn client route add default via 198.51.100.1
    & $ipn server addr add 203.0.113.2/25 dev ens3
    & $ipn server link set ens3 up
    & $ipn server route add default via 203.0.113.1
    & $ipn inet addr add 192.0.2.130/25 dev eth0
    & $ipn inet link set eth0 up
    & $ipn inet route add default via 192.0.2.129
    $null = Invoke-LabNative -Namespace $ns.router -Command 'sysctl', '-qw', 'net.ipv4.ip_forward=1'
    $null = Invoke-LabNative -Namespace $ns.server -Command 'sysctl', '-qw', 'net.ipv4.ip_forward=1'
    # the internet is reachable from the client only through the tunnel
    Invoke-LabNft $Lab router "table inet wgtlab_router {`n chain forward {`n  type filter hook forward priority 0; policy accept;`n  iifname `"rt-client`" oifname `"rt-inet`" drop`n  iifname `"rt-inet`" oifname `"rt-client`" drop`n }`n}`n"
    Invoke-LabNft $Lab server "table ip wgtlab_nat {`n chain postrouting {`n  type nat hook postrouting priority srcnat; policy accept;`n  ip saddr $($Lab.TunnelSubnet) oifname `"ens3`" masquerade`n }`n}`n"

    # files: /etc/wireguard must exist on the host for ip netns exec to bind /etc/netns/<ns>/wireguard over it
    if (-not (Test-Path /etc/wireguard)) {
        $null = New-Item -ItemType Directory /etc/wireguard
        [System.IO.File]::SetUnixFileMode('/etc/wireguard', [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
    }
    Write-LabSideConfig $Lab.Client
    Write-LabSideConfig $Lab.Server
    Write-LabHosts $Lab $Lab.Server.Underlay
    # each node's own, empty /etc/sysctl.d (ip netns exec binds /etc/netns/<ns>/sysctl.d over it): repairs that
    # make forwarding persistent write there, never into the host's /etc/sysctl.d
    if (Test-Path /etc/sysctl.d) {
        foreach ($n in $script:Nodes) { $null = New-Item -ItemType Directory -Force "/etc/netns/$($ns[$n])/sysctl.d" }
    }
    # name lookups stay inside the lab: each namespace's resolver is a lab address with no DNS server
    # (answered at once with "port unreachable"), so nothing is ever sent to the host's name servers
    if (Test-Path /etc/resolv.conf) {
        $resolvers = @{ client = '198.51.100.1'; server = '203.0.113.1'; inet = '192.0.2.129'; router = '127.0.0.1' }
        foreach ($n in $script:Nodes) {
            $dir = "/etc/netns/$($ns[$n])"
            $null = New-Item -ItemType Directory -Force $dir
            [System.IO.File]::WriteAllText("$dir/resolv.conf", "# WgTroubleshoot test lab: no name server outside the lab`nnameserver $($resolvers[$n])`noptions timeout:1 attempts:1`n")
        }
    }

    # daemons
    if (-not (Test-Path $script:UapiDir)) { $null = New-Item -ItemType Directory $script:UapiDir }
    $logDir = Join-Path $script:LabStateDir $Lab.Id
    $null = New-Item -ItemType Directory -Force $logDir
    foreach ($side in $Lab.Client, $Lab.Server) {
        $log = Join-Path $logDir "$($side.Interface).log"
        # ip netns exec execs wireguard-go, so $! is the daemon's own PID; -f keeps it in the foreground.
        $out = Invoke-LabNative -Command 'sh', '-c', "ip netns exec '$($side.Namespace)' wireguard-go -f '$($side.Interface)' >'$log' 2>&1 </dev/null & echo `$!"
        $side.Pid = [int]$out.Trim()
        Save-LabState $Lab
    }
    foreach ($side in $Lab.Client, $Lab.Server) {
        $sock = Join-Path $script:UapiDir "$($side.Interface).sock"
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Test-Path $sock) -and [DateTime]::UtcNow -lt $deadline) {
            if (-not (Test-LabProcessAlive $side.Pid)) { break }
            Start-Sleep -Milliseconds 50
        }
        if (-not (Test-Path $sock)) {
            $log = Get-Content -Raw (Join-Path $logDir "$($side.Interface).log") -ErrorAction SilentlyContinue
            throw "wireguard-go for $($side.Interface) did not create its socket within 10 s. $log"
        }
        $info = Get-LabProcessInfo $side.Pid
        if (-not $info -or $info.Comm -ne 'wireguard-go') { throw "PID $($side.Pid) is not the wireguard-go daemon of $($side.Interface)." }
    }
    foreach ($node in 'server', 'client') {
        $side = Get-LabSide $Lab $node
        Sync-LabSide -Lab $Lab -Node $node
        foreach ($a in $side.Config.Address) {
            if ($a -match ':') { & $ipn $node -6 addr add $a dev $side.Interface nodad }
            else { & $ipn $node addr add $a dev $side.Interface }
        }
        if ($side.Config.Mtu) { & $ipn $node link set $side.Interface mtu $side.Config.Mtu }
        Set-LabWgLinkUp $Lab $node
    }
}

function Remove-WgLab {
    <#
    .SYNOPSIS
        Tears a lab down: daemons killed by PID, namespaces deleted, /etc/netns dirs and sockets removed.
        Idempotent. -All removes every lab on the machine (prefix wgt-<6 hex>), running or left over.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Lab')]
    param(
        [Parameter(Mandatory, ParameterSetName = 'Lab', ValueFromPipeline)] [AllowNull()] $Lab,
        [Parameter(Mandatory, ParameterSetName = 'All')] [switch] $All
    )
    process {
        if ($All) {
            foreach ($id in Get-LabIdsPresent) { Remove-LabById -Id $id }
            Remove-OrphanLabTwin
            return
        }
        if ($null -eq $Lab) { return }
        # Faults still injected are removed first: some start programs of their own (a second wireguard-go, socat)
        # that would outlive the namespaces.
        # (a lab known only by its id, as after its owner died, has no Faults)
        if (-not $Lab.Removed -and $Lab.PSObject.Properties['Faults']) {
            foreach ($f in @($Lab.Faults)) {
                try { Remove-LabFaultCore $Lab $f; $null = $Lab.Faults.Remove($f) }
                catch { Write-Warning "Lab $($Lab.Prefix) teardown: removing fault $f`: $_" }
            }
        }
        $pids = @($Lab.Client.Pid, $Lab.Server.Pid) | Where-Object { $_ }
        Remove-LabById -Id $Lab.Id -KnownPids $pids
        $Lab.Removed = $true
    }
}

function Invoke-WgLabCommand {
    <#
    .SYNOPSIS
        Runs a native command inside one of the lab's namespaces; returns its stdout, throws with its stderr.
    .PARAMETER PassThru
        Return ExitCode, StdOut and StdErr instead, and do not throw on a non-zero exit code.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Lab,
        [Parameter(Mandatory)] [ValidateSet('client', 'server', 'router', 'inet')] [string] $Node,
        [Parameter(Mandatory)] [string[]] $Command,
        [string] $StandardInput,
        [ValidateRange(1, 600)] [int] $TimeoutSeconds = 20,
        [switch] $PassThru
    )
    $p = @{ Namespace = $Lab.Namespaces[$Node]; Command = $Command; TimeoutSeconds = $TimeoutSeconds; AllowFailure = $PassThru }
    if ($PSBoundParameters.ContainsKey('StandardInput')) { $p.StandardInput = $StandardInput }
    Invoke-LabNative @p
}

function Invoke-WgLabPwsh {
    <#
    .SYNOPSIS
        Runs PowerShell code in a child pwsh inside a lab namespace, with the module under test imported,
        and returns its output objects (deserialized from CliXml).
    .DESCRIPTION
        The child is $env:WGT_PWSH (else this pwsh) and imports $env:WGT_MODULE. Its output is written with
        Export-Clixml to a temporary file and imported here. -AllStreams merges every stream (*>&1), so
        errors, warnings, verbose, debug and information records come back as objects too. Without it the
        child's non-terminating errors are re-emitted here as errors; a terminating error throws.
        -AsResult returns Output, Errors, CliXml (the raw text), StdOut, StdErr, ExitCode and WgInvoked.
    .PARAMETER HideWg
        The child runs with WGT_WG_PATH naming a file that does not exist, in a private mount namespace
        where the real wg binaries are covered by a trap that records any call (WgInvoked in -AsResult).
    #>
    [CmdletBinding(DefaultParameterSetName = 'ScriptBlock')]
    param(
        [Parameter(Mandatory)] $Lab,
        [Parameter(Mandatory)] [ValidateSet('client', 'server', 'router', 'inet')] [string] $Node,
        [Parameter(Mandatory, ParameterSetName = 'ScriptBlock', Position = 0)] [scriptblock] $ScriptBlock,
        [Parameter(Mandatory, ParameterSetName = 'Script')] [string] $Script,
        [object[]] $ArgumentList = @(),
        [hashtable] $Environment = @{},
        [switch] $AllStreams,
        [switch] $AsResult,
        [switch] $HideWg,
        [switch] $NoModule,
        [ValidateRange(5, 600)] [int] $TimeoutSeconds = 120
    )
    $pwsh = if ($env:WGT_PWSH) { $env:WGT_PWSH } else { Join-Path $PSHOME 'pwsh' }
    $module = $env:WGT_MODULE
    if (-not $NoModule -and -not $module) { throw 'WGT_MODULE is not set (the staged WgTroubleshoot.psd1); use -NoModule to run without it.' }
    $code = if ($PSCmdlet.ParameterSetName -eq 'ScriptBlock') { $ScriptBlock.ToString() } else { $Script }

    $work = Join-Path ([System.IO.Path]::GetTempPath()) ("wgt-$($Lab.Id)-pwsh-" + [Guid]::NewGuid().ToString('N').Substring(0, 8))
    $null = New-Item -ItemType Directory $work
    [System.IO.File]::SetUnixFileMode($work, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
    try {
        $scriptPath = Join-Path $work 'script.ps1'
        $argsPath = Join-Path $work 'args.xml'
        $outPath = Join-Path $work 'out.xml'
        $errPath = Join-Path $work 'errors.xml'
        $failPath = Join-Path $work 'fail.xml'
        $marker = Join-Path $work 'wg-invoked'
        Set-Content -LiteralPath $scriptPath -Value $code
        Export-Clixml -LiteralPath $argsPath -InputObject $ArgumentList -Depth 4

        $childArgs = @('-NoLogo', '-NoProfile', '-NonInteractive', '-File', $script:ChildRunner,
            '-ScriptPath', $scriptPath, '-ArgsPath', $argsPath, '-OutPath', $outPath, '-ErrPath', $errPath, '-FailPath', $failPath)
        if (-not $NoModule) { $childArgs += @('-ModulePath', $module) }
        if ($AllStreams) { $childArgs += '-AllStreams' }

        $envVars = @{} + $Environment
        $command = @('ip', 'netns', 'exec', $Lab.Namespaces[$Node])
        if ($HideWg) {
            $envVars['WGT_WG_PATH'] = '/nonexistent/wg'
            $trap = Join-Path $work 'wg-trap'
            Set-Content -LiteralPath $trap -Value "#!/bin/sh`necho `"`$*`" >> '$marker'`necho 'wg is hidden in this test' >&2`nexit 127`n"
            [System.IO.File]::SetUnixFileMode($trap, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
            $targets = @('/usr/bin/wg', '/usr/sbin/wg', '/bin/wg', '/sbin/wg', '/usr/local/bin/wg', '/usr/local/sbin/wg') |
                Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } |
                ForEach-Object { (Get-Item -LiteralPath $_).ResolvedTarget ?? $_ } | Sort-Object -Unique
            $mounts = ($targets | ForEach-Object { "mount --bind '$trap' '$_' && " }) -join ''
            $quoted = (@($pwsh) + $childArgs | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }) -join ' '
            $command += @('unshare', '-m', '--propagation', 'private', 'sh', '-c', "$mounts exec $quoted")
        }
        else {
            $command += @($pwsh) + $childArgs
        }
        $r = Invoke-LabProcess -FilePath $command[0] -ArgumentList ($command | Select-Object -Skip 1) -TimeoutSeconds $TimeoutSeconds -Environment $envVars

        $output = if (Test-Path $outPath) { @(Import-Clixml -LiteralPath $outPath) } else { @() }
        $cliXml = if (Test-Path $outPath) { [System.IO.File]::ReadAllText($outPath) } else { '' }
        $errors = if (Test-Path $errPath) { @(Import-Clixml -LiteralPath $errPath) } else { @() }
        $failure = if (Test-Path $failPath) { Import-Clixml -LiteralPath $failPath } else { $null }
        $wgInvoked = if (Test-Path $marker) { @(Get-Content -LiteralPath $marker) } else { @() }

        if ($AsResult) {
            return [pscustomobject]@{
                PSTypeName = 'WgLab.PwshResult'
                Output     = $output
                Errors     = $errors
                Failure    = $failure
                CliXml     = $cliXml
                StdOut     = $r.StdOut
                StdErr     = $r.StdErr
                ExitCode   = $r.ExitCode
                WgInvoked  = $wgInvoked
            }
        }
        if ($failure) { throw "The child pwsh in $Node failed: $($failure.Exception.Message ?? $failure)" }
        if ($r.ExitCode -ne 0 -and -not (Test-Path $outPath)) {
            throw "The child pwsh in $Node exited with $($r.ExitCode): $($r.StdErr.Trim()) $($r.StdOut.Trim())"
        }
        foreach ($e in $errors) {
            Write-Error -Message "[$Node] $($e.Exception.Message ?? $e)" -ErrorId "$($e.FullyQualifiedErrorId)"
        }
        $output
    }
    finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function Test-WgLabTcp {
    <#
    .SYNOPSIS
        A TCP connection and a full-size transfer between two lab nodes: the "works" test.
    .DESCRIPTION
        Starts a one-shot socat listener on -Node (default inet, the host beyond the server) that counts what
        it receives and sends the count back, then sends -Bytes from -From to -To through whatever path the
        lab routes (through the tunnel for the client). Returns an object: Success (every byte arrived and the
        count came back), BytesSent, BytesReceived, Error. Bounded by -TimeoutSeconds; both processes are
        always killed.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Lab,
        [ValidateSet('client', 'server', 'router', 'inet')] [string] $From = 'client',
        [ValidateSet('client', 'server', 'router', 'inet')] [string] $Node = 'inet',
        [string] $To = '192.0.2.130',
        [ValidateRange(1024, 65535)] [int] $Port = 5201,
        [ValidateRange(1, 67108864)] [int] $Bytes = 1048576,
        [ValidateRange(1, 60)] [int] $TimeoutSeconds = 15
    )
    $srvNs = $Lab.Namespaces[$Node]; $cliNs = $Lab.Namespaces[$From]
    $psi = [System.Diagnostics.ProcessStartInfo]::new('ip')
    foreach ($a in @('netns', 'exec', $srvNs, 'timeout', "$TimeoutSeconds", 'socat', '-T', "$TimeoutSeconds",
            "TCP-LISTEN:$Port,reuseaddr", 'SYSTEM:wc -c')) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false; $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
    $server = [System.Diagnostics.Process]::Start($psi)
    try {
        # Wait (bounded) until the listener is there.
        $deadline = [DateTime]::UtcNow.AddSeconds(3)
        do {
            $ss = Invoke-LabNative -Namespace $srvNs -Command 'ss', '-Hltn', "sport = :$Port" -AllowFailure
            if ($ss.StdOut.Trim()) { break }
            Start-Sleep -Milliseconds 50
        } while ([DateTime]::UtcNow -lt $deadline)
        $r = Invoke-LabNative -Namespace $cliNs -Command 'sh', '-c', "head -c $Bytes /dev/zero | timeout $TimeoutSeconds socat -T $TimeoutSeconds - TCP:${To}:$Port,connect-timeout=5" -AllowFailure -TimeoutSeconds ($TimeoutSeconds + 5)
        $count = 0
        $ok = [int]::TryParse(($r.StdOut.Trim()), [ref] $count)
        [pscustomobject]@{
            PSTypeName    = 'WgLab.TcpResult'
            From          = $From
            To            = "${To}:$Port"
            Success       = ($r.ExitCode -eq 0 -and $ok -and $count -eq $Bytes)
            BytesSent     = $Bytes
            BytesReceived = $(if ($ok) { $count } else { 0 })
            Error         = $(if ($r.ExitCode -ne 0) { "exit $($r.ExitCode): $($r.StdErr.Trim())" } elseif (-not $ok) { 'no count came back' } else { $null })
        }
    }
    finally {
        if (-not $server.HasExited) { try { $server.Kill($true) } catch { } }
        $null = $server.WaitForExit(3000)
        $server.Dispose()
    }
}

function Test-WgLabPing {
    <#
    .SYNOPSIS
        Pings from a lab node; $true when every echo got a reply within the bounded time.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)] $Lab,
        [ValidateSet('client', 'server', 'router', 'inet')] [string] $From = 'client',
        [Parameter(Mandatory)] [string] $To,
        [ValidateRange(0, 65000)] [int] $Size = 56,
        [switch] $DontFragment,
        [ValidateRange(1, 20)] [int] $Count = 1,
        [ValidateRange(1, 10)] [int] $TimeoutSeconds = 2
    )
    $cmd = @('ping', '-n', '-q', '-c', "$Count", '-i', '0.2', '-W', "$TimeoutSeconds", '-w', "$($Count + $TimeoutSeconds)", '-s', "$Size")
    if ($DontFragment) { $cmd += @('-M', 'do') }
    $cmd += $To
    $r = Invoke-LabNative -Namespace $Lab.Namespaces[$From] -Command $cmd -AllowFailure -TimeoutSeconds ($Count + $TimeoutSeconds + 10)
    Write-Verbose ($r.StdOut + $r.StdErr)
    $r.ExitCode -eq 0
}

function Get-WgLabHandshake {
    <#
    .SYNOPSIS
        The latest handshake (UTC DateTime, or $null for never) of each peer on a lab side, from `wg show`.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Lab, [ValidateSet('client', 'server')] [string] $Node = 'client')
    $side = Get-LabSide $Lab $Node
    $out = Invoke-LabNative -Namespace $side.Namespace -Command 'wg', 'show', $side.Interface, 'latest-handshakes' -TimeoutSeconds 10
    foreach ($l in $out -split "`n") {
        $f = $l.Trim() -split '\s+'
        if ($f.Count -lt 2) { continue }
        $t = [long]$f[1]
        [pscustomobject]@{
            PublicKey       = $f[0]
            LatestHandshake = if ($t -gt 0) { [DateTimeOffset]::FromUnixTimeSeconds($t).UtcDateTime } else { $null }
        }
    }
}

function Wait-WgLabHandshake {
    <#
    .SYNOPSIS
        Waits (bounded) for a handshake on a lab side; $true when one newer than -Since is seen.
    .DESCRIPTION
        Polls `wg show <if> latest-handshakes`. Unless -Passive, it pings the other side's tunnel address
        between polls so that a handshake is attempted even without keepalive.
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)] $Lab,
        [ValidateSet('client', 'server')] [string] $Node = 'client',
        [ValidateRange(1, 300)] [int] $TimeoutSeconds = 15,
        [DateTime] $Since = [DateTime]::MinValue,
        [switch] $Passive
    )
    $side = Get-LabSide $Lab $Node
    $other = if ($Node -eq 'client') { $Lab.Server.TunnelAddress } else { $Lab.Client.TunnelAddress }
    # handshake times have whole seconds
    $sinceUtc = if ($Since -eq [DateTime]::MinValue) { [DateTime]::MinValue } else { $Since.ToUniversalTime().AddSeconds(-1) }
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    do {
        $hs = @(Get-WgLabHandshake -Lab $Lab -Node $Node | Where-Object { $_.LatestHandshake -and $_.LatestHandshake -gt $sinceUtc })
        if ($hs) { return $true }
        if (-not $Passive) {
            $null = Invoke-LabNative -Namespace $side.Namespace -Command 'ping', '-n', '-q', '-c', '1', '-W', '1', '-w', '1', $other -AllowFailure -TimeoutSeconds 5
        }
        else { Start-Sleep -Milliseconds 250 }
    } while ([DateTime]::UtcNow -lt $deadline)
    $false
}

function Add-WgLabFault {
    <#
    .SYNOPSIS
        Injects a named fault into a running lab (see Get-WgLabFault). Idempotent.
    .PARAMETER Node
        For InterfaceDown: the side whose link goes down (client by default).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Lab,
        [Parameter(Mandatory)] [ValidateScript({ $_ -in $script:FaultCatalog.Keys })] [string[]] $Fault,
        [ValidateSet('client', 'server')] [string] $Node = 'client'
    )
    foreach ($f in $Fault) {
        if ($Lab.Faults.Contains($f)) { Write-Verbose "$f is already injected"; continue }
        Add-LabFaultCore $Lab $f $Node
        $Lab.Faults.Add($f)
    }
}

function Remove-WgLabFault {
    <#
    .SYNOPSIS
        Removes an injected fault, restoring the healthy state (sessions are reset where the fault needs it).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Lab,
        [Parameter(Mandatory)] [ValidateScript({ $_ -in $script:FaultCatalog.Keys })] [string[]] $Fault
    )
    foreach ($f in $Fault) {
        if (-not $Lab.Faults.Contains($f)) { Write-Verbose "$f is not injected"; continue }
        Remove-LabFaultCore $Lab $f
        $null = $Lab.Faults.Remove($f)
    }
}

function Get-WgLabSecret {
    <#
    .SYNOPSIS
        Every secret of the lab (both private keys and the preshared key) in base64 and in hex, for leak tests.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] $Lab)
    foreach ($k in $Lab.Client.PrivateKey, $Lab.Server.PrivateKey, $Lab.PresharedKey) {
        $k
        ConvertTo-LabHex $k
    }
}

function Set-WgLabKeepalive {
    <#
    .SYNOPSIS
        Sets the client's PersistentKeepalive for the server (0 = off), in its configuration and live.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Lab, [Parameter(Mandatory)] [ValidateRange(0, 65535)] [int] $Seconds)
    $c = $Lab.Client
    $c.Config.Peers[0].PersistentKeepalive = $Seconds
    $c.Keepalive = $Seconds
    Write-LabSideConfig $c
    $ka = if ($Seconds -eq 0) { 'off' } else { "$Seconds" }
    $null = Invoke-LabNative -Namespace $c.Namespace -Command 'wg', 'set', $c.Interface, 'peer', $Lab.Server.PublicKey, 'persistent-keepalive', $ka
}

function Reset-WgLabSession {
    <#
    .SYNOPSIS
        Drops the WireGuard sessions on both sides (configuration re-applied from the files).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Lab)
    $ep = if ($Lab.Faults.Contains('StaleDnsEndpoint')) { "$($Lab.Server.Underlay):$($Lab.Server.ListenPort)" } else { $null }
    Reset-LabSession $Lab -ClientEndpoint $ep
}

#endregion

Export-ModuleMember -Function New-WgLab, Remove-WgLab, Invoke-WgLabCommand, Invoke-WgLabPwsh, Test-WgLabPing, Test-WgLabTcp,
    Wait-WgLabHandshake, Get-WgLabHandshake, Add-WgLabFault, Remove-WgLabFault, Get-WgLabFault, Get-WgLabSecret,
    Reset-WgLabSession, Test-WgLabPrerequisite, ConvertTo-WgLabSetconf, Set-WgLabKeepalive
