<#
.SYNOPSIS
    A seeded mutation corpus of wg-quick configuration files, for the differential test against wg and wg-quick.
.DESCRIPTION
    Starts from the configuration corpus of the unit tests and the example configurations, and applies one
    seeded mutation to each copy: keys, values, spacing, case, ports, hosts, prefixes, NUL and non-UTF-8 bytes,
    structure (the "wg" groups, judged by `wg-quick strip` + `wg setconf`); and, on a small template, the
    wg-quick-only keys MTU, Table, Address, SaveConfig and the hooks (the "quick" groups, judged by
    `wg-quick up`). The same seed gives the same corpus. Each item: Id, Group, Kind, Judge (setconf|up), Bytes.
#>
[CmdletBinding()]
param(
    [int] $Seed = 20261201,
    [int] $Count = 260,
    [string[]] $SeedFile,
    # Keys to use (so that both sides agree on the real keys): three base64 private keys.
    [Parameter(Mandatory)] [string[]] $PrivateKeys,
    [Parameter(Mandatory)] [string[]] $PublicKeys
)
Set-StrictMode -Off
$ErrorActionPreference = 'Stop'
$rng = [System.Random]::new($Seed)
$latin1 = [System.Text.Encoding]::Latin1
function Pick($list) { $list[$rng.Next($list.Count)] }

if (-not $SeedFile) {
    $root = Split-Path (Split-Path $PSScriptRoot)
    $SeedFile = @(Get-ChildItem (Join-Path $root 'tests/WgTroubleshoot.Tests/Corpus') -Filter *.conf) + @(Get-ChildItem (Join-Path $root 'examples/configs') -Filter *.conf) |
        ForEach-Object FullName
}
# Seeds: lines as Latin-1 strings (one char per byte), without the wg-quick-only lines (judged by the quick groups)
# and without hooks (they would run) - what remains is what `wg setconf` judges.
$quickKey = '^\s*(Address|DNS|MTU|Table|PreUp|PostUp|PreDown|PostDown|SaveConfig)\s*(=|$)'
$seeds = foreach ($f in $SeedFile) {
    $text = $latin1.GetString([System.IO.File]::ReadAllBytes($f))
    $lines = @($text -split "`n" | ForEach-Object { $_.TrimEnd("`r") } | Where-Object { $_ -notmatch $quickKey })
    ,$lines
}

$wgKeys = 'PrivateKey', 'PublicKey', 'PresharedKey', 'ListenPort', 'FwMark', 'Endpoint', 'AllowedIPs', 'PersistentKeepalive'
$keyLine = '^\s*(' + ($wgKeys -join '|') + ')\s*='
function Find-Lines([string[]] $lines, [string] $pattern) { @(for ($i = 0; $i -lt $lines.Count; $i++) { if ($lines[$i] -match $pattern) { $i } }) }
function Ensure-Endpoint([System.Collections.Generic.List[string]] $lines) {
    $eps = Find-Lines $lines '^\s*Endpoint\s*='
    if ($eps.Count -gt 0) { return Pick $eps }
    $peers = Find-Lines $lines '^\s*\[\s*peer\s*\]\s*$'
    if ($peers.Count -eq 0) { $lines.Add('[Peer]'); $lines.Add("PublicKey = $($PublicKeys[1])"); $lines.Add('AllowedIPs = 10.99.0.1/32'); $peers = @($lines.Count - 3) }
    $at = (Pick $peers) + 1
    $lines.Insert($at, 'Endpoint = 192.0.2.1:51820')
    $at
}
function Set-Value([System.Collections.Generic.List[string]] $lines, [int] $i, [string] $value) {
    $k = ($lines[$i] -split '=', 2)[0].Trim()
    $lines[$i] = "$k = $value"
}

$ports = 'https', 'HTTPS', '+51820', '-1', '-5', '65536', '70000', '4294967296', '2147483648', '-4294967295', '0x10', '051820', 'domain', '0', '99999999999999999999', '51820x', 'nosuchservice'
$hosts = '010.0.0.1', '1.2.3', '0x7f.1', '192.0.2.300', '=192.0.2.1', "192.0.2.1$([char]0xe2)$([char]0x80)$([char]0x8b)", 'fe80::1%lo', '[fe80::1%lo]', 'fe80::1%1', '[2001:db8::1%lo]',
    '*', 'vpn.example.com', '[vpn.example.com]', 'localhost', '4294967295', '08.1.1.1', '1..2', '[2001:db8::5]', '2001:db8::5', '[fe80::1%wgxnone0]', 'UPPER.Example.COM',
    'no-such-host.example', '192.0.2.1.', 'vpn_x.example.com', '[192.0.2.9]', '0', '[]', '256.1.1.1', '0x100.1'
$prefixes = '10.0.0.1/33', '10.0.0.1/024', '010.0.0.1/32', '10.0.0.1/', '10.0.0.5/24', '::/0', '2001:db8::/129', '10.0.0.1,,10.0.0.2', ' 10.0.0.1 / 32', '1.2.3/32',
    '0.0.0.0/0, ::/0', '10.0.0.1/32,', 'fe80::1%lo/128', '10.0.0.1/+8', '2001:DB8::1/64', '::ffff:10.0.0.1/128', '10.0.0.0/8, 10.1.0.0/16'
$keepalives = 'off', 'OFF', '0', '25', '0x10', '65536', '-1', '+5', '0025', '65535'
$fwmarks = '0x10', '0X10', 'off', 'Off', '4294967296', '0x', '1e3', '0xffffffff', '4294967295', '-1', '010'

$groups = 'port', 'host', 'key', 'prefix', 'spacing', 'case', 'bytes', 'value', 'structure'
$items = [System.Collections.Generic.List[object]]::new()
for ($n = 0; $n -lt $Count; $n++) {
    $group = $groups[$n % $groups.Count]
    $lines = [System.Collections.Generic.List[string]]::new([string[]](Pick $seeds))
    $kind = $group
    switch ($group) {
        'port' {
            $v = Pick $ports
            if ($rng.Next(2) -eq 0) {
                $lp = Find-Lines $lines '^\s*ListenPort\s*='
                if ($lp.Count) { Set-Value $lines $lp[0] $v } else { $i = (Find-Lines $lines '^\s*\[\s*interface\s*\]')[0]; $lines.Insert($i + 1, "ListenPort = $v") }
                $kind = "listenport:$v"
            }
            else {
                $i = Ensure-Endpoint $lines
                $h = ((($lines[$i] -split '=', 2)[1]).Trim() -replace ':[^:\]]*$', '')
                Set-Value $lines $i "${h}:$v"; $kind = "endpoint-port:$v"
            }
        }
        'host' {
            $v = Pick $hosts; $i = Ensure-Endpoint $lines
            Set-Value $lines $i "${v}:51820"; $kind = "endpoint-host:$v"
        }
        'key' {
            $ks = Find-Lines $lines '^\s*(PrivateKey|PublicKey|PresharedKey)\s*='
            if ($ks.Count -eq 0) { $n--; continue }
            $i = Pick $ks; $k = ($lines[$i] -split '=', 2)[0].Trim(); $val = (($lines[$i] -split '=', 2)[1] -replace '#.*$', '').Trim()
            $how = Pick @('truncate', 'lastchar', 'zero', 'urlsafe', 'hex', 'extra', 'lower', 'pad2', 'fresh')
            $new = switch ($how) {
                'truncate' { $val.Substring(0, [Math]::Max(0, $val.Length - 2)) + '=' }
                'lastchar' { $val.Substring(0, 42) + 'B=' }
                'zero' { 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }
                'urlsafe' { $PrivateKeys[2].Replace('+', '-').Replace('/', '_') }
                'hex' { -join ([Convert]::FromBase64String($PrivateKeys[2]) | ForEach-Object { $_.ToString('x2') }) }
                'extra' { $val + '=' }
                'lower' { $val.ToLowerInvariant() }
                'pad2' { $val.Substring(0, 42) + '==' }
                'fresh' { if ($k -eq 'PublicKey') { $PublicKeys[2] } else { $PrivateKeys[1] } }
            }
            Set-Value $lines $i $new; $kind = "key:$($k.ToLowerInvariant()):$how"
        }
        'prefix' {
            $a = Find-Lines $lines '^\s*AllowedIPs\s*='
            $v = Pick $prefixes
            if ($a.Count) { Set-Value $lines (Pick $a) $v } else { $n--; continue }
            $kind = "allowedips:$v"
        }
        'spacing' {
            $cand = Find-Lines $lines ($keyLine + '|^\s*\[')
            $i = Pick $cand; $line = $lines[$i]
            $ws = Pick @(' ', "`t", '  ', "`v", "`f", "`r")
            $pos = $rng.Next($line.Length + 1)
            $lines[$i] = $line.Insert($pos, $ws); $kind = "spacing:$([int][char]$ws[0])"
        }
        'case' {
            $cand = Find-Lines $lines ($keyLine + '|^\s*\[')
            $i = Pick $cand; $line = $lines[$i]
            $eq = $line.IndexOf('='); if ($eq -lt 0) { $eq = $line.Length }
            $chars = $line.ToCharArray()
            for ($c = 0; $c -lt $eq; $c++) { if ($rng.Next(2) -eq 0) { $chars[$c] = if ([char]::IsUpper($chars[$c])) { [char]::ToLowerInvariant($chars[$c]) } else { [char]::ToUpperInvariant($chars[$c]) } } }
            $lines[$i] = -join $chars; $kind = 'case'
        }
        'bytes' {
            $how = Pick @('nul', 'nul-in-key', 'ff-comment', 'ff-value', 'bom', 'cr-mid', 'nul-line')
            $i = $rng.Next($lines.Count)
            switch ($how) {
                'nul' { $lines[$i] = $lines[$i].Insert($rng.Next($lines[$i].Length + 1), [string][char]0) }
                'nul-in-key' { $ks = Find-Lines $lines $keyLine; $j = Pick $ks; $lines[$j] = $lines[$j].Insert([Math]::Min(3, $lines[$j].Length), [string][char]0) }
                'ff-comment' { $lines.Insert($i, "# caf$([char]0xff) note") }
                'ff-value' { $ks = Find-Lines $lines $keyLine; $j = Pick $ks; $lines[$j] = $lines[$j] + [char]0xff }
                'bom' { $lines[0] = "$([char]0xef)$([char]0xbb)$([char]0xbf)" + $lines[0] }
                'cr-mid' { $lines[$i] = $lines[$i].Insert($rng.Next($lines[$i].Length + 1), "`r") }
                'nul-line' { $lines.Insert($i, [string][char]0) }
            }
            $kind = "bytes:$how"
        }
        'value' {
            if ($rng.Next(2) -eq 0) {
                $v = Pick $keepalives; $p = Find-Lines $lines '^\s*\[\s*peer\s*\]\s*$'
                if ($p.Count -eq 0) { $n--; continue }
                $lines.Insert((Pick $p) + 1, "PersistentKeepalive = $v"); $kind = "keepalive:$v"
            }
            else {
                $v = Pick $fwmarks; $i = (Find-Lines $lines '^\s*\[\s*interface\s*\]')
                if ($i.Count -eq 0) { $n--; continue }
                $lines.Insert($i[0] + 1, "FwMark = $v"); $kind = "fwmark:$v"
            }
        }
        'structure' {
            $how = Pick @('unknown-section', 'outside', 'dup-peer', 'no-pubkey', 'no-equals', 'double-equals', 'empty-value', 'unknown-key', 'bracket-key', 'interface-twice')
            $p = Find-Lines $lines '^\s*\[\s*peer\s*\]\s*$'
            switch ($how) {
                'unknown-section' { $lines.Insert($rng.Next($lines.Count), '[Peers]') }
                'outside' { $lines.Insert(0, 'ListenPort = 51820') }
                'dup-peer' { $lines.Add('[Peer]'); $lines.Add("PublicKey = $($PublicKeys[0])"); $lines.Add('AllowedIPs = 10.77.0.1/32'); $lines.Add('[Peer]'); $lines.Add("PublicKey = $($PublicKeys[0])"); $lines.Add('AllowedIPs = 10.77.0.2/32') }
                'no-pubkey' { $ks = Find-Lines $lines '^\s*PublicKey\s*='; if ($ks.Count) { $lines.RemoveAt((Pick $ks)) } }
                'no-equals' { $lines.Insert($lines.Count, 'PersistentKeepalive 25') }
                'double-equals' { $i = Ensure-Endpoint $lines; $lines[$i] = 'Endpoint == 192.0.2.1:51820' }
                'empty-value' { $lines.Add('[Peer]'); $lines.Add("PublicKey = $($PublicKeys[2])"); $lines.Add('AllowedIPs =') }
                'unknown-key' { $lines.Add('Foo = bar') }
                'bracket-key' { $lines.Add("[PrivateKey = $($PrivateKeys[2])]") }
                'interface-twice' { $lines.Add('[Interface]'); $lines.Add('ListenPort = 51999') }
            }
            $kind = "structure:$how"
        }
    }
    $items.Add([pscustomobject]@{ Id = $n; Group = $group; Kind = $kind; Judge = 'setconf'; Bytes = $latin1.GetBytes(($lines -join "`n") + "`n") })
}

# The wg-quick-only keys and hooks, on a template that `wg-quick up` can bring up in a namespace.
$quick = [ordered]@{
    mtu = '0', '67', '68', '1420', '65535', '65536', '0x500', '+1420', '-1', '010', '1e3', '14 20', '', '1280 # c'
    table = 'off', 'Off', 'OFF', 'auto', 'Auto', 'main', 'Main', 'abc', '-1', '4294967296', '4294967295', '0x10', '1234', '', '(bare)', '010'
    address = '010.0.0.2/24', '10.1/16', '10.0.0.2/0x18', '10.0.0.2/255.255.255.0', '+10.0.0.2', '10.0.0.2/33', '1.2.3.256', 'ff02::5/64', '10.0.0.2/24, 10.0.0.2/24',
        'fd00::2/64', '2001:db8::1/0x40, 2001:db8::1/64', '10.0.0.2/24 10.0.0.3/24', '10.0.0.2/24,,fd00::3/64', 'default', '10.0.0.2/16, 10.0.0.2/24'
    saveconfig = 'true', 'TRUE', 'yes', 'false', ''
    hook = 'echo a#b', 'echo "a#b"', 'echo a # comment', 'echo %i', 'echo x=y', "echo caf$([char]0xff)", 'true', 'echo one ; echo two', '(bare)'
}
$id = 10000
foreach ($key in $quick.Keys) {
    foreach ($v in $quick[$key]) {
        $line = switch ($key) {
            'mtu' { if ($v -eq '') { 'MTU =' } else { "MTU = $v" } }
            'table' { if ($v -eq '(bare)') { 'Table' } elseif ($v -eq '') { 'Table =' } else { "Table = $v" } }
            'address' { "Address = $v" }
            'saveconfig' { "SaveConfig = $v" }
            'hook' { if ($v -eq '(bare)') { 'PostUp' } else { "PostUp = $v" } }
        }
        # Each item its own subnet, so that items can come up side by side in one namespace.
        $net = "10.66.$($id % 250)"
        $addr = if ($key -eq 'address') { @() } else { @("Address = $net.2/24") }
        $text = @('[Interface]', "PrivateKey = $($PrivateKeys[0])", 'ListenPort = 0') + $addr + @($line, '', '[Peer]', "PublicKey = $($PublicKeys[1])",
            "AllowedIPs = $net.0/24", 'Endpoint = 192.0.2.1:51820') -join "`n"
        $items.Add([pscustomobject]@{ Id = $id++; Group = "quick-$key"; Kind = "${key}:$v"; Judge = 'up'; Bytes = $latin1.GetBytes($text + "`n") })
    }
}
$items
