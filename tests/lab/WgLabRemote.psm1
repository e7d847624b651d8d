#requires -Version 7.2
<#
.SYNOPSIS
    Real PowerShell remoting over SSH for the WgTroubleshoot lab: sshd in the lab namespaces, with the pinned
    pwsh as its powershell subsystem, and a third WireGuard host.
.DESCRIPTION
    New-WgLabRemote builds a lab with New-WgLab (WgLab.psm1) and then, for the run only:
      - a client key pair (ssh-keygen, 0600) authorised for root on every remote host;
      - a host key per host, and a known_hosts file that pins exactly those host keys;
      - one sshd per remote host (client, server, inet), each with its own config, pid file and log,
        listening on the host's lab address, key authentication only, subsystem powershell = the pwsh
        that runs this module (-sshs -NoLogo -NoProfile), which finds the staged module ($env:WGT_MODULE);
      - a third WireGuard host: a wireguard-go interface wgm<id>i in the inet namespace with one peer.
    Remove-WgLabRemote kills every process it started by PID (the sshd daemons, their session children,
    the third host's wireguard-go), removes its files and then the lab. Everything lives under
    /run/wgm-<id> (0700); namespaces are the lab's own.

    Get-WgLabSshParameter returns what New-PSSession -HostName (and Invoke-WgDiagnosis -PeerHostName)
    needs to reach a host: HostName, UserName, KeyFilePath, Options (UserKnownHostsFile = the run's
    known_hosts, StrictHostKeyChecking = yes, BatchMode = yes, ConnectTimeout).
#>

Set-StrictMode -Version 3.0
Import-Module (Join-Path $PSScriptRoot 'WgLab.psm1') -Global -DisableNameChecking

$script:RemoteHosts = @('client', 'server', 'inet')
$script:HostAddress = @{ client = '198.51.100.2'; server = '203.0.113.2'; inet = '192.0.2.130'; router = '198.51.100.1' }

function Invoke-RemoteLabProcess([string] $FilePath, [string[]] $ArgumentList, [int] $TimeoutSeconds = 20, [string] $StandardInput) {
    $m = Get-Module WgLab
    $p = @{ FilePath = $FilePath; ArgumentList = $ArgumentList; TimeoutSeconds = $TimeoutSeconds }
    if ($PSBoundParameters.ContainsKey('StandardInput')) { $p.StandardInput = $StandardInput }
    $r = & $m { param($p) Invoke-LabProcess @p } $p
    if ($r.ExitCode -ne 0) { throw "'$FilePath $($ArgumentList -join ' ')' failed (exit $($r.ExitCode)): $($r.StdErr.Trim())" }
    $r.StdOut
}

function Get-RemoteLabChildPid([int] $ParentPid) {
    # Every descendant of a PID (the sshd session processes and the pwsh subsystem), from /proc.
    $parents = @{}
    foreach ($d in [System.IO.Directory]::GetDirectories('/proc')) {
        $name = [System.IO.Path]::GetFileName($d)
        if ($name -notmatch '^\d+$') { continue }
        try { $t = [System.IO.File]::ReadAllText("$d/stat") } catch { continue }
        $f = $t.Substring($t.LastIndexOf(')') + 2).Split(' ')
        $parents[[int]$name] = [int]$f[1]
    }
    $result = [System.Collections.Generic.List[int]]::new()
    $queue = [System.Collections.Generic.Queue[int]]::new()
    $queue.Enqueue($ParentPid)
    while ($queue.Count) {
        $p = $queue.Dequeue()
        foreach ($k in $parents.Keys) { if ($parents[$k] -eq $p -and -not $result.Contains($k)) { $result.Add($k); $queue.Enqueue($k) } }
    }
    $result
}

function Stop-RemoteLabPid([int] $ProcessId, [string] $ExpectedComm) {
    $m = Get-Module WgLab
    & $m { param($p, $c) Stop-LabProcess -ProcessId $p -ExpectedComm $c } $ProcessId $ExpectedComm
}

function Get-PwshLaunch {
    # The pwsh that runs this module: a native apphost, or the dotnet host plus pwsh.dll (a dotnet tool).
    $self = (Get-Process -Id $PID).Path
    $dll = Join-Path $PSHOME 'pwsh.dll'
    if ((Split-Path $self -Leaf) -match '^dotnet(\.exe)?$' -and (Test-Path $dll)) { return @($self, $dll) }
    @($self)
}

function New-WgLabRemote {
    <#
    .SYNOPSIS
        A lab (New-WgLab) with sshd + the pwsh subsystem on client, server and inet, and a third WireGuard host.
    #>
    [CmdletBinding()]
    param(
        [string[]] $Fault = @(),
        [switch] $NoKeepalive
    )
    if (-not (Test-Path /usr/sbin/sshd)) { throw 'The remoting lab needs /usr/sbin/sshd (Debian openssh-server).' }
    foreach ($t in 'ssh', 'ssh-keygen') { if (-not (Get-Command $t -CommandType Application -ErrorAction SilentlyContinue)) { throw "The remoting lab needs $t." } }
    if (-not $env:WGT_MODULE) { throw 'WGT_MODULE is not set (the staged WgTroubleshoot.psd1).' }
    $lab = New-WgLab -NoKeepalive:$NoKeepalive
    $rid = -join ((1..6) | ForEach-Object { '{0:x}' -f (Get-Random -Maximum 16) })
    $dir = "/run/wgm-$rid"
    $remote = [pscustomobject]@{
        Id = $rid; Dir = $dir; Tap = "$dir/tap"; KeyFile = "$dir/id_ed25519"; KnownHosts = "$dir/known_hosts"
        Sshd = [ordered]@{}; HostKeys = @{}; Addresses = $script:HostAddress.Clone()
        Third = [pscustomobject]@{ Namespace = $lab.Namespaces.inet; Interface = "wgm${rid}i"; Pid = 0; Address = '2001:db8:200::1/64'; PeerPublicKey = $null; PrivateKey = $null; ListenPort = 51900 }
    }
    $lab | Add-Member -NotePropertyName Remote -NotePropertyValue $remote
    try {
        $null = New-Item -ItemType Directory -Path $dir
        [System.IO.File]::SetUnixFileMode($dir, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
        if (-not (Test-Path /run/sshd)) { $null = New-Item -ItemType Directory /run/sshd }  # sshd's privilege separation directory
        $null = Invoke-RemoteLabProcess ssh-keygen @('-q', '-t', 'ed25519', '-N', '', '-C', "wgm-$rid", '-f', $remote.KeyFile)
        Copy-Item "$($remote.KeyFile).pub" "$dir/authorized_keys"

        # the subsystem: the same pwsh, finding the staged module by name
        $launch = Get-PwshLaunch
        $moduleRoot = Split-Path (Split-Path (Split-Path $env:WGT_MODULE -Parent) -Parent) -Parent
        $q = { param($s) "'" + ($s -replace "'", "'\''") + "'" }
        $wrapper = "$dir/pwsh-sshs"
        # a tap of everything that crosses the session, both directions, for the secret scans
        $tap = "$dir/tap"
        $null = New-Item -ItemType Directory $tap
        Set-Content -LiteralPath $wrapper -Value ("#!/bin/sh`nexport PSModulePath=$(& $q $moduleRoot)`nexport DOTNET_CLI_TELEMETRY_OPTOUT=1`n" +
            "tee -a $(& $q $tap)/`$`$.in | " + (($launch | ForEach-Object { & $q $_ }) -join ' ') + " -sshs -NoLogo -NoProfile | tee -a $(& $q $tap)/`$`$.out`n")
        [System.IO.File]::SetUnixFileMode($wrapper, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')

        $known = [System.Text.StringBuilder]::new()
        foreach ($node in $script:RemoteHosts) {
            $hd = "$dir/$node"
            $null = New-Item -ItemType Directory $hd
            [System.IO.File]::SetUnixFileMode($hd, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
            $null = Invoke-RemoteLabProcess ssh-keygen @('-q', '-t', 'ed25519', '-N', '', '-C', "wgm-$rid-$node", '-f', "$hd/ssh_host_ed25519_key")
            $pub = (Get-Content -Raw "$hd/ssh_host_ed25519_key.pub").Trim() -split ' '
            $remote.HostKeys[$node] = "$($pub[0]) $($pub[1])"
            $null = $known.AppendLine("$($script:HostAddress[$node]) $($pub[0]) $($pub[1])")
            $cfg = @(
                "ListenAddress $($script:HostAddress[$node])", 'Port 22', "HostKey $hd/ssh_host_ed25519_key", "PidFile $hd/sshd.pid",
                "AuthorizedKeysFile $dir/authorized_keys", 'PermitRootLogin prohibit-password', 'PubkeyAuthentication yes',
                'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'AllowUsers root',
                'X11Forwarding no', 'AllowTcpForwarding no', 'PrintMotd no', 'LogLevel VERBOSE',
                "Subsystem powershell $wrapper"
            ) -join "`n"
            Set-Content -LiteralPath "$hd/sshd_config" -Value $cfg
            $ns = $lab.Namespaces[$node]
            $log = "$hd/sshd.log"
            # ip netns exec execs sshd, so $! is the daemon's own PID; -D keeps it in the foreground.
            $out = Invoke-RemoteLabProcess sh @('-c', "ip netns exec '$ns' /usr/sbin/sshd -D -f '$hd/sshd_config' -E '$log' </dev/null >/dev/null 2>&1 & echo `$!")
            $remote.Sshd[$node] = [int]$out.Trim()
        }
        Set-Content -LiteralPath $remote.KnownHosts -Value $known.ToString()
        [System.IO.File]::SetUnixFileMode($remote.KnownHosts, [System.IO.UnixFileMode]'UserRead, UserWrite')

        # the third WireGuard host: its own interface and one peer in the inet namespace
        $t = $remote.Third
        $t.PrivateKey = (Invoke-RemoteLabProcess wg @('genkey')).Trim()
        $peerPriv = (Invoke-RemoteLabProcess wg @('genkey')).Trim()
        $t.PeerPublicKey = (Invoke-RemoteLabProcess wg @('pubkey') -StandardInput "$peerPriv`n").Trim()
        $log = "$dir/$($t.Interface).log"
        $out = Invoke-RemoteLabProcess sh @('-c', "ip netns exec '$($t.Namespace)' wireguard-go -f '$($t.Interface)' >'$log' 2>&1 </dev/null & echo `$!")
        $t.Pid = [int]$out.Trim()
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Test-Path "/var/run/wireguard/$($t.Interface).sock") -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $conf = "[Interface]`nPrivateKey = $($t.PrivateKey)`nListenPort = $($t.ListenPort)`n`n[Peer]`nPublicKey = $($t.PeerPublicKey)`nAllowedIPs = 2001:db8:200::2/128`n"
        $m = Get-Module WgLab
        $fileText = "# WgTroubleshoot test lab: third host`n[Interface]`nAddress = $($t.Address)`nPrivateKey = $($t.PrivateKey)`nListenPort = $($t.ListenPort)`n`n# lab-third-peer`n[Peer]`nPublicKey = $($t.PeerPublicKey)`nAllowedIPs = 2001:db8:200::2/128`n"
        & $m { param($p, $c) Write-LabSecretFile -Path $p -Text $c } "/etc/netns/$($t.Namespace)/wireguard/$($t.Interface).conf" $fileText
        $null = Invoke-RemoteLabProcess ip @('netns', 'exec', $t.Namespace, 'wg', 'setconf', $t.Interface, '/dev/stdin') -StandardInput $conf
        $null = Invoke-RemoteLabProcess ip @('-n', $t.Namespace, '-6', 'addr', 'add', $t.Address, 'dev', $t.Interface, 'nodad')
        $null = Invoke-RemoteLabProcess ip @('-n', $t.Namespace, 'link', 'set', $t.Interface, 'up')

        # every sshd answers (bounded)
        foreach ($node in $script:RemoteHosts) {
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            do {
                $ss = & $m { param($n, $a) Invoke-LabNative -Namespace $n -Command 'ss', '-Hltn', "src $a and sport = :22" -AllowFailure } $lab.Namespaces[$node] $script:HostAddress[$node]
                if ($ss.StdOut.Trim()) { break }
                if (-not (& $m { param($p) Test-LabProcessAlive $p } $remote.Sshd[$node])) { throw "sshd on $node exited: $(Get-Content -Raw "$dir/$node/sshd.log" -ErrorAction SilentlyContinue)" }
                Start-Sleep -Milliseconds 50
            } while ([DateTime]::UtcNow -lt $deadline)
            if (-not $ss.StdOut.Trim()) { throw "sshd on $node does not listen within 10 s." }
        }
        foreach ($f in $Fault) { Add-WgLabFault -Lab $lab -Fault $f }
    }
    catch {
        $err = $_
        Remove-WgLabRemote -Lab $lab
        throw $err
    }
    $lab
}

function Remove-WgLabRemote {
    <#
    .SYNOPSIS
        Tears down what New-WgLabRemote made (processes by PID, files), then the lab. Idempotent.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [AllowNull()] $Lab)
    if ($null -eq $Lab) { return }
    $r = if ($Lab.PSObject.Properties['Remote']) { $Lab.Remote } else { $null }
    if ($r) {
        foreach ($node in @($r.Sshd.Keys)) {
            $daemon = $r.Sshd[$node]
            if (-not $daemon) { continue }
            $children = @(Get-RemoteLabChildPid $daemon)
            Stop-RemoteLabPid $daemon 'sshd'
            [array]::Reverse($children)
            foreach ($c in $children) { Stop-RemoteLabPid $c $null }
        }
        if ($r.Third.Pid) { Stop-RemoteLabPid $r.Third.Pid 'wireguard-go' }
        $sock = "/var/run/wireguard/$($r.Third.Interface).sock"
        if (Test-Path -LiteralPath $sock) { Remove-Item -LiteralPath $sock -Force -ErrorAction SilentlyContinue }
        if ($r.Dir -and (Test-Path -LiteralPath $r.Dir)) { Remove-Item -LiteralPath $r.Dir -Recurse -Force -ErrorAction SilentlyContinue }
    }
    Remove-WgLab -Lab $Lab
}

function Get-WgLabSshParameter {
    <#
    .SYNOPSIS
        Splattable parameters of New-PSSession -HostName for a lab host: HostName, UserName, KeyFilePath, Options.
    .PARAMETER Unreachable
        An address in the lab where nothing answers (for the unreachable-host tests).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Lab,
        [ValidateSet('client', 'server', 'inet')] [string] $Node,
        [string] $Address
    )
    $hostName = if ($Address) { $Address } else { $Lab.Remote.Addresses[$Node] }
    @{
        HostName    = $hostName
        UserName    = 'root'
        KeyFilePath = $Lab.Remote.KeyFile
        Options     = @{
            UserKnownHostsFile    = $Lab.Remote.KnownHosts
            GlobalKnownHostsFile  = '/dev/null'
            StrictHostKeyChecking = 'yes'
            BatchMode             = 'yes'
            ConnectTimeout        = '5'
        }
    }
}

function Get-WgLabSessionTraffic {
    <#
    .SYNOPSIS
        Everything that crossed the lab's SSH sessions (both directions), as text: the raw PSRP stream and
        every base64 payload in it decoded (the PSRP fragments, whose CliXml carries the objects and streams).
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Lab)
    $sb = [System.Text.StringBuilder]::new()
    foreach ($f in Get-ChildItem -LiteralPath $Lab.Remote.Tap -File -ErrorAction SilentlyContinue) {
        $raw = [System.IO.File]::ReadAllText($f.FullName)
        $null = $sb.AppendLine($raw)
        foreach ($m in [regex]::Matches($raw, '[A-Za-z0-9+/]{24,}={0,2}')) {
            try { $bytes = [Convert]::FromBase64String($m.Value) } catch { continue }
            $null = $sb.AppendLine([System.Text.Encoding]::UTF8.GetString($bytes))
            $null = $sb.AppendLine([System.Text.Encoding]::Unicode.GetString($bytes))
        }
    }
    $sb.ToString()
}

Export-ModuleMember -Function New-WgLabRemote, Remove-WgLabRemote, Get-WgLabSshParameter, Get-WgLabSessionTraffic
