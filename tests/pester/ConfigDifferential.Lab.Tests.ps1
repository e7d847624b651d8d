# Differential test: Get-WgConfig against the real tools on a seeded mutation corpus (tests/differential).
# `wg-quick strip` + `wg setconf` on one wireguard-go interface judge the wg keys; `wg-quick up` in the same
# namespace judges MTU, Table, Address, SaveConfig and the hooks. Every disagreement must be fixed or listed in
# tests/differential/deliberate.md. Prints the agreement table (group x agree/disagree/deliberate). Root only.
BeforeDiscovery {
    $script:CanRun = -not $IsWindows -and ((id -u) -eq '0') -and
        @('wireguard-go', 'wg', 'wg-quick', 'ip', 'bash').Where({ -not (Get-Command $_ -CommandType Application -ErrorAction SilentlyContinue) }).Count -eq 0
}

Describe 'Get-WgConfig agrees with wg and wg-quick on a mutation corpus' -Tag Lab -Skip:(-not $CanRun) {
    BeforeAll {
        Import-Module $env:WGT_MODULE -Force
        $suffix = -join ((48..57) + (97..102) | Get-Random -Count 5 | ForEach-Object { [char]$_ })
        $script:Ns = "wgx-$suffix"
        $script:If = "wgx$suffix"
        $script:Dir = Join-Path ([System.IO.Path]::GetTempPath()) "wgx-diff-$suffix"
        $null = New-Item -ItemType Directory -Path $Dir
        $script:NetnsDir = "/etc/netns/$Ns"
        ip netns add $Ns
        if ($LASTEXITCODE -ne 0) { throw "ip netns add $Ns failed" }
        # Names resolve from the namespace's own hosts file (ip netns exec mounts /etc/netns/NS/* over /etc).
        $null = New-Item -ItemType Directory -Path $NetnsDir -Force
        Set-Content "$NetnsDir/hosts" "127.0.0.1 localhost`n::1 localhost`n192.0.2.77 vpn.example.com`n192.0.2.78 upper.example.com`n192.0.2.79 vpn_x.example.com`n192.0.2.80 gw.corp.example.com`n192.0.2.81 home.example.org`n192.0.2.82 branch.example.net`n192.0.2.83 vpn.example.net`n192.0.2.84 dyn.example.org"
        Set-Content "$NetnsDir/resolv.conf" 'nameserver 127.0.0.1'
        ip netns exec $Ns ip link set lo up
        ip netns exec $Ns wireguard-go $If 2>&1 | Out-Null
        $deadline = [datetime]::UtcNow.AddSeconds(10)
        while (-not (Test-Path "/var/run/wireguard/$If.sock") -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        if (-not (Test-Path "/var/run/wireguard/$If.sock")) { throw 'wireguard-go did not start' }
        $script:HostMap = @{ 'vpn.example.com' = '192.0.2.77'; 'upper.example.com' = '192.0.2.78'; 'vpn_x.example.com' = '192.0.2.79'; 'localhost' = '127.0.0.1'; 'gw.corp.example.com' = '192.0.2.80'; 'home.example.org' = '192.0.2.81'; 'branch.example.net' = '192.0.2.82'; 'vpn.example.net' = '192.0.2.83'; 'dyn.example.org' = '192.0.2.84' }

        $priv = 1..3 | ForEach-Object { (wg genkey).Trim() }
        $pub = $priv | ForEach-Object { ($_ | wg pubkey).Trim() }
        $script:Corpus = & (Join-Path $PSScriptRoot '../differential/New-WgMutationCorpus.ps1') -PrivateKeys $priv -PublicKeys $pub -Count 180
        $deliberateText = Get-Content (Join-Path $PSScriptRoot '../differential/deliberate.md')
        $script:Deliberate = @(foreach ($l in $deliberateText) {
                if ($l -match '^\| `(?<kind>[^`]+)` \| (?<field>[^|]+) \| (?<reason>.+) \|$') {
                    [pscustomobject]@{ Kind = $Matches.kind; Field = $Matches.field.Trim(); Reason = $Matches.reason }
                }
            })
        $env:WG_ENDPOINT_RESOLUTION_RETRIES = '0'
        $latin1 = [System.Text.Encoding]::Latin1

        function Get-Network([string] $cidr) {
            $ip, $len = $cidr -split '/'
            $bytes = [System.Net.IPAddress]::Parse($ip).GetAddressBytes()
            $len = [int]$len
            for ($b = $len; $b -lt $bytes.Length * 8; $b++) { $bytes[[int][Math]::Floor($b / 8)] = $bytes[[int][Math]::Floor($b / 8)] -band (-bnot (0x80 -shr ($b % 8))) }
            "$([System.Net.IPAddress]::new($bytes))/$len"
        }
        # What wg applies, from the module's reading: sections with one key merge (later AllowedIPs replace
        # earlier ones, set values override), and a prefix belongs to the last peer that lists it.
        function Get-Expected($cfg) {
            $peers = [ordered]@{}
            foreach ($p in $cfg.Peers) {
                if (-not $peers.Contains($p.PublicKey)) { $peers[$p.PublicKey] = @{ Psk = $false; Endpoint = $null; Allowed = @(); Keepalive = 'off' } }
                $e = $peers[$p.PublicKey]
                if ($p.HasPresharedKey) { $e.Psk = $true }
                if ($p.EndpointPort -ne $null) {
                    $h = $p.EndpointHost
                    if ($HostMap.ContainsKey($h.TrimEnd('.').ToLowerInvariant())) { $h = $HostMap[$h.TrimEnd('.').ToLowerInvariant()] }
                    $h = $h -replace '%.*$', ''
                    $e.Endpoint = if ($h -match ':') { "[$h]:$($p.EndpointPort)" } else { "${h}:$($p.EndpointPort)" }
                }
                $e.Allowed = @($p.AllowedIPs | ForEach-Object { Get-Network $_ })
                if ($p.PersistentKeepalive) { $e.Keepalive = [string]$p.PersistentKeepalive }
            }
            $owner = @{}
            foreach ($k in $peers.Keys) { foreach ($a in $peers[$k].Allowed) { $owner[$a] = $k } }
            foreach ($k in $peers.Keys) { $peers[$k].Allowed = @($peers[$k].Allowed | Where-Object { $owner[$_] -eq $k } | Sort-Object -Unique) }
            $peers
        }
        function Compare-SetConf($item, $cfg, [string[]] $dump) {
            $diffs = @()
            $head = $dump[0] -split "`t"
            if ($cfg.HasPrivateKey -ne ($head[1] -ne '(none)')) { $diffs += "private-key set: module $($cfg.HasPrivateKey), wg $($head[1] -ne '(none)')" }
            elseif ($cfg.HasPrivateKey -and $cfg.PublicKey -ne $head[1]) { $diffs += 'public-key' }
            if ($cfg.ListenPort) { if ([string]$cfg.ListenPort -ne $head[2]) { $diffs += "listen-port: module $($cfg.ListenPort), wg $($head[2])" } }
            $fw = if (-not $cfg.FwMark -or $cfg.FwMark -eq 'off') { 0 } elseif ($cfg.FwMark -like '0x*') { [Convert]::ToUInt32($cfg.FwMark.Substring(2), 16) } else { [uint32]$cfg.FwMark }
            $wgFw = if ($head[3] -eq 'off') { 0 } else { [Convert]::ToUInt32(($head[3] -replace '^0x', ''), 16) }
            if ($fw -ne $wgFw) { $diffs += "fwmark: module $fw, wg $wgFw" }
            $expected = Get-Expected $cfg
            $actual = @{}
            foreach ($l in $dump | Select-Object -Skip 1) { $f = $l -split "`t"; $actual[$f[0]] = $f }
            if (((@($expected.Keys) | Sort-Object) -join ',') -ne ((@($actual.Keys) | Sort-Object) -join ',')) { $diffs += "peers: module $($expected.Count), wg $($actual.Count)" }
            else {
                foreach ($k in $expected.Keys) {
                    $e = $expected[$k]; $a = $actual[$k]
                    if ($e.Psk -ne ($a[1] -ne '(none)')) { $diffs += "preshared-key set: module $($e.Psk)" }
                    $ep = if ($e.Endpoint) { $e.Endpoint } else { '(none)' }
                    if ($ep -ne $a[2]) { $diffs += "endpoint: module $ep, wg $($a[2])" }
                    $al = if ($e.Allowed.Count) { ($e.Allowed | Sort-Object) -join ',' } else { '(none)' }
                    $wal = if ($a[3] -eq '(none)') { '(none)' } else { (($a[3] -split ',') | Sort-Object) -join ',' }
                    if ($al -ne $wal) { $diffs += "allowed-ips: module $al, wg $wal" }
                    if ($e.Keepalive -ne $a[7]) { $diffs += "keepalive: module $($e.Keepalive), wg $($a[7])" }
                }
            }
            $diffs
        }
        # The bytes of a module hook string (\xNN is the byte NN, the rest UTF-8), to compare with what bash ran.
        function Get-HookBytes([string] $s) {
            $ms = [System.IO.MemoryStream]::new()
            $parts = [regex]::Split($s, '(\\x[0-9a-f]{2})')
            foreach ($p in $parts) {
                if ($p -match '^\\x([0-9a-f]{2})$') { $ms.WriteByte([Convert]::ToByte($Matches[1], 16)) }
                else { $b = [System.Text.Encoding]::UTF8.GetBytes($p); $ms.Write($b, 0, $b.Length) }
            }
            $latin1.GetString($ms.ToArray())
        }

        $script:Results = [System.Collections.Generic.List[object]]::new()
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        # Write every file, then let two bash scripts in the namespace judge them all (one process per
        # tool call, none per PowerShell pipeline): strip + setconf + dump for the wg groups, up/down for the rest.
        $setconfList = [System.Collections.Generic.List[string]]::new()
        $upList = [System.Collections.Generic.List[string]]::new()
        foreach ($item in $Corpus) {
            $name = if ($item.Judge -eq 'setconf') { "wgxm$($item.Id)" } else { "wgq$suffix$($item.Id % 1000)" }
            $file = Join-Path $Dir "$name.conf"
            $item | Add-Member -NotePropertyName File -NotePropertyValue $file
            [System.IO.File]::WriteAllBytes($file, $item.Bytes)
            if ($item.Judge -eq 'setconf') { $setconfList.Add($file) } else { $upList.Add($file) }
        }
        chmod 600 (Join-Path $Dir '*.conf')
        Set-Content "$Dir/setconf.list" $setconfList
        Set-Content "$Dir/up.list" $upList
        # wg-quick strip is wg-quick's own parse_options followed by `echo "$WG_CONFIG"`: the judge takes those
        # functions from the installed wg-quick (the real code, with its shell options) and runs them in a
        # subshell per file, instead of starting wg-quick once per file.
        $judge = @'
if="$1"; list="$2"; mode="$3"
wgquick="$(command -v wg-quick)"
if [ "$mode" = setconf ]; then
  set -o pipefail; shopt -s extglob; export LC_ALL=C
  PROGRAM=wg-quick
  eval "$(sed -n -e '/^die() {/,/^}/p' -e '/^parse_options() {/,/^}/p' -e '/^read_bool() {/,/^}/p' "$wgquick")"
fi
if [ "$mode" = up ]; then
  # wg-quick up/down of each file, three at a time (each file has its own name and subnet).
  xargs -P 3 -n 1 bash "$(dirname "$0")/judge-up.sh" < "$list"
  exit 0
fi
while read -r f; do
  if [ "$mode" = setconf ]; then
    ( set -e; WG_CONFIG=""; INTERFACE=""; ADDRESSES=( ); MTU=""; DNS=( ); DNS_SEARCH=( ); TABLE=""; PRE_UP=( ); POST_UP=( ); PRE_DOWN=( ); POST_DOWN=( ); SAVE_CONFIG=0
      parse_options "$f"; echo "$WG_CONFIG" ) > "$f.stripped" 2>/dev/null; echo $? > "$f.rc"
    if [ "$(< "$f.rc")" = 0 ]; then wg setconf "$if" "$f.stripped" > "$f.err" 2>&1; echo $? > "$f.rc"; fi
    [ "$(< "$f.rc")" = 0 ] && wg show "$if" dump > "$f.dump"
  else
    n="$(basename "$f" .conf)"
    WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go timeout 20 wg-quick up "$f" > "$f.log" 2>&1; echo $? > "$f.rc"
    if [ "$(< "$f.rc")" = 0 ]; then
      ip -o link show dev "$n" > "$f.link"; ip -o addr show dev "$n" > "$f.addr"
      timeout 20 wg-quick down "$f" > /dev/null 2>&1
    fi
    ip link del "$n" 2>/dev/null
  fi
done < "$list"
'@
        Set-Content "$Dir/judge.sh" $judge
        Set-Content "$Dir/judge-up.sh" @'
f="$1"; n="$(basename "$f" .conf)"
WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go timeout 20 wg-quick up "$f" > "$f.log" 2>&1; echo $? > "$f.rc"
if [ "$(< "$f.rc")" = 0 ]; then
  ip -o link show dev "$n" > "$f.link"; ip -o addr show dev "$n" > "$f.addr"
  timeout 20 wg-quick down "$f" > /dev/null 2>&1
fi
ip link del "$n" 2>/dev/null
exit 0
'@
        ip netns exec $Ns env WG_ENDPOINT_RESOLUTION_RETRIES=0 bash "$Dir/judge.sh" $If "$Dir/setconf.list" setconf
        ip netns exec $Ns env WG_ENDPOINT_RESOLUTION_RETRIES=0 bash "$Dir/judge.sh" $If "$Dir/up.list" up
        $script:ToolsTime = $sw.Elapsed
        foreach ($item in $Corpus) {
            $file = $item.File
            $err = $null
            $cfg = Get-WgConfig -LiteralPath $file -ErrorAction SilentlyContinue -ErrorVariable err
            $moduleOk = $null -ne $cfg
            $toolsOk = (Get-Content "$file.rc" -Raw).Trim() -eq '0'
            $diffs = @(); $fields = @()
            if ($item.Judge -eq 'setconf') {
                $msg = if (Test-Path "$file.err") { (Get-Content "$file.err") -join ' ' } else { 'wg-quick strip failed' }
                if ($moduleOk -ne $toolsOk) { $fields += 'verdict'; $diffs += "verdict: module $(if ($moduleOk) { 'accepts' } else { 'rejects: ' + $err[0].Exception.Message }), wg $(if ($toolsOk) { 'accepts' } else { 'rejects: ' + $msg })" }
                elseif ($moduleOk) {
                    $d = @(Compare-SetConf $item $cfg @(Get-Content "$file.dump"))
                    if ($d.Count) { $fields += 'values'; $diffs += $d }
                }
            }
            else {
                $name = [System.IO.Path]::GetFileNameWithoutExtension($file)
                $ran = @($latin1.GetString([System.IO.File]::ReadAllBytes("$file.log")) -split "`n" | Where-Object { $_.StartsWith('[#] ') } | ForEach-Object { $_.Substring(4) } |
                        Where-Object { $_ -notmatch '^(ip|wg|wireguard-go|nft|sysctl|resolvconf|iptables|ip6tables) ' })
                if ($toolsOk -and $moduleOk) {
                    $mtu = [regex]::Match((Get-Content "$file.link") -join ' ', 'mtu (\d+)').Groups[1].Value
                    if ($cfg.Mtu -and [string]$cfg.Mtu -ne $mtu) { $fields += 'values'; $diffs += "mtu: module $($cfg.Mtu), ip $mtu" }
                    $addrs = @(Get-Content "$file.addr" | ForEach-Object { ($_ -split '\s+')[3] } | Where-Object { $_ -notlike 'fe80::*' -or $cfg.Address -contains $_ }) | Sort-Object
                    if (((@($cfg.Address) | Sort-Object) -join ',') -ne ($addrs -join ',')) { $fields += 'values'; $diffs += "address: module $($cfg.Address -join ','), ip $($addrs -join ',')" }
                }
                if ($item.Group -eq 'quick-hook' -and $moduleOk) {
                    $expect = @($cfg.PostUp | ForEach-Object { (Get-HookBytes $_).Replace('%i', $name) })
                    if (($expect -join "`n") -ne ($ran -join "`n")) { $fields += 'hooks'; $diffs += "hooks: module [$($expect -join ' | ')], wg-quick ran [$($ran -join ' | ')]" }
                }
                if ($moduleOk -ne $toolsOk) { $fields += 'verdict'; $diffs += "verdict: module $(if ($moduleOk) { 'accepts' } else { 'rejects: ' + $err[0].Exception.Message }), wg-quick up $(if ($toolsOk) { 'succeeds' } else { 'fails' })" }
            }
            $status = 'agree'; $reason = $null
            if ($diffs.Count) {
                $covering = $Deliberate | Where-Object { $item.Kind -match $_.Kind -and ($fields | Where-Object { $_ -notin ($Deliberate | Where-Object { $item.Kind -match $_.Kind } | ForEach-Object Field) }).Count -eq 0 } | Select-Object -First 1
                if ($covering) { $status = 'deliberate'; $reason = $covering.Reason } else { $status = 'disagree' }
            }
            $Results.Add([pscustomobject]@{ Id = $item.Id; Group = $item.Group; Kind = $item.Kind; Status = $status; Diffs = ($diffs -join '; '); Reason = $reason })
        }
        $script:Elapsed = $sw.Elapsed
    }

    AfterAll {
        if ($script:Ns) {
            ip netns exec $Ns ip link del $If 2>$null
            Get-ChildItem /var/run/wireguard -Filter "wg?$($Ns.Substring(4))*" -ErrorAction SilentlyContinue | Remove-Item -Force -ErrorAction SilentlyContinue
            ip netns del $Ns 2>$null
        }
        if ($script:NetnsDir -and (Test-Path $script:NetnsDir)) { Remove-Item $script:NetnsDir -Recurse -Force }
        if ($script:Dir -and (Test-Path $script:Dir)) { Remove-Item $script:Dir -Recurse -Force }
        Remove-Item Env:WG_ENDPOINT_RESOLUTION_RETRIES -ErrorAction SilentlyContinue
    }

    It 'ran a few hundred mutations in minutes' {
        $Results.Count | Should -BeGreaterThan 200
        # Almost all of it is process start-up of wg, ip and wg-quick (about 2 minutes on an idle 2-core machine, more when it is shared).
        $Elapsed.TotalMinutes | Should -BeLessThan 10
    }

    It 'prints the agreement table' {
        $table = $Results | Group-Object Group | ForEach-Object {
            [pscustomobject]@{
                Group = $_.Name; Total = $_.Count
                Agree = @($_.Group | Where-Object Status -eq 'agree').Count
                Disagree = @($_.Group | Where-Object Status -eq 'disagree').Count
                Deliberate = @($_.Group | Where-Object Status -eq 'deliberate').Count
            }
        }
        $total = [pscustomobject]@{ Group = 'TOTAL'; Total = $Results.Count; Agree = ($table | Measure-Object Agree -Sum).Sum; Disagree = ($table | Measure-Object Disagree -Sum).Sum; Deliberate = ($table | Measure-Object Deliberate -Sum).Sum }
        $text = (@($table) + $total | Format-Table -AutoSize | Out-String).TrimEnd()
        Write-Host "Differential agreement (wireguard-tools $((wg --version) -replace '^.*v([0-9.]+).*$', '$1'), $($Results.Count) mutations in $([int]$Elapsed.TotalSeconds) s, tools $([int]$ToolsTime.TotalSeconds) s):`n$text"
        foreach ($r in $Results | Where-Object Status -eq 'deliberate' | Group-Object Kind) { Write-Host "  deliberate: $($r.Name) ($($r.Count))" }
        $table.Count | Should -BeGreaterThan 5
    }

    It 'has no disagreement that is neither fixed nor listed as deliberate' {
        $bad = @($Results | Where-Object Status -eq 'disagree')
        $bad | ForEach-Object { Write-Host "DISAGREE #$($_.Id) [$($_.Group)] $($_.Kind): $($_.Diffs)" }
        $bad.Count | Should -Be 0
    }

    It 'agrees on most mutations, so the test can fail' {
        @($Results | Where-Object Status -eq 'agree').Count | Should -BeGreaterThan ($Results.Count * 0.8)
        @($Results | Where-Object { $_.Status -eq 'agree' -and $_.Diffs -eq '' }).Count | Should -BeGreaterThan 0
    }
}
