# What wg setconf and wireguard-go do with overlapping AllowedIPs, which Test-WgConfig's WG1005, WG1006, WG1007
# and WG1009 describe. Runs a throwaway wireguard-go in its own network namespace; root only.
BeforeDiscovery {
    $script:CanRun = -not $IsWindows -and ((id -u) -eq '0') -and
        @('wireguard-go', 'wg', 'ip').Where({ -not (Get-Command $_ -CommandType Application -ErrorAction SilentlyContinue) }).Count -eq 0
}

Describe 'wg setconf and overlapping AllowedIPs' -Tag Lab -Skip:(-not $CanRun) {
    BeforeAll {
        $suffix = [guid]::NewGuid().ToString('N').Substring(0, 6)
        $script:Ns = "wgt-lint-$suffix"
        $script:If = "wgtl$suffix"          # the UAPI socket directory is shared by all namespaces: a unique name
        $script:Conf = Join-Path ([System.IO.Path]::GetTempPath()) "$If.conf"
        $script:Daemon = $null
        ip netns add $Ns
        if ($LASTEXITCODE -ne 0) { throw "ip netns add $Ns failed" }
        $script:Daemon = Start-Process ip -ArgumentList 'netns', 'exec', $Ns, 'wireguard-go', '-f', $If -PassThru -RedirectStandardOutput '/dev/null' -RedirectStandardError "$Conf.log"
        $deadline = [datetime]::UtcNow.AddSeconds(10)
        while (-not (Test-Path "/var/run/wireguard/$If.sock") -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        if (-not (Test-Path "/var/run/wireguard/$If.sock")) { throw 'wireguard-go did not start' }
        $script:Key = (wg genkey).Trim()
        $script:A = ((wg genkey) | wg pubkey).Trim()
        $script:B = ((wg genkey) | wg pubkey).Trim()

        function Set-Conf([string[]] $Lines) {
            Set-Content -Path $Conf -Value (@('[Interface]', "PrivateKey = $Key") + $Lines)
            chmod 600 $Conf
            $out = ip netns exec $Ns wg setconf $If $Conf 2>&1
            if ($LASTEXITCODE -ne 0) { throw "wg setconf failed: $out" }
            $out
        }
        function Get-Allowed {
            $map = @{}
            foreach ($line in ip netns exec $Ns wg show $If allowed-ips) {
                $key, $ips = $line -split "`t"
                $map[$key] = if ($ips -eq '(none)') { @() } else { @($ips -split ' ') }
            }
            $map
        }
    }
    AfterAll {
        if ($script:Daemon) { Stop-Process -Id $script:Daemon.Id -Force -ErrorAction SilentlyContinue; $script:Daemon.WaitForExit(5000) | Out-Null }
        ip netns pids $script:Ns 2>$null | ForEach-Object { kill $_ 2>$null }
        ip netns del $script:Ns 2>$null
        Remove-Item "/var/run/wireguard/$($script:If).sock", $script:Conf, "$($script:Conf).log" -ErrorAction SilentlyContinue
    }

    It 'gives an identical prefix to the later peer and leaves the earlier one without it (WG1006)' {
        Set-Conf '[Peer]', "PublicKey = $A", 'AllowedIPs = 192.0.2.0/24', '[Peer]', "PublicKey = $B", 'AllowedIPs = 192.0.2.0/24'
        $m = Get-Allowed
        $m[$A] | Should -BeNullOrEmpty
        $m[$B] | Should -Be '192.0.2.0/24'
        Set-Conf '[Peer]', "PublicKey = $B", 'AllowedIPs = 192.0.2.0/24', '[Peer]', "PublicKey = $A", 'AllowedIPs = 192.0.2.0/24'
        $m = Get-Allowed
        $m[$B] | Should -BeNullOrEmpty
        $m[$A] | Should -Be '192.0.2.0/24'
    }
    It 'keeps a nested prefix on both peers (longest prefix match decides, WG1007)' {
        Set-Conf '[Peer]', "PublicKey = $A", 'AllowedIPs = 192.0.2.0/24', '[Peer]', "PublicKey = $B", 'AllowedIPs = 192.0.2.7/32'
        $m = Get-Allowed
        $m[$A] | Should -Be '192.0.2.0/24'
        $m[$B] | Should -Be '192.0.2.7/32'
    }
    It 'masks host bits with a warning (WG1009)' {
        $out = Set-Conf '[Peer]', "PublicKey = $A", 'AllowedIPs = 192.0.2.5/24, 2001:db8::5/64'
        ($out | Out-String) | Should -Match 'nonzero host part'
        (Get-Allowed)[$A] | Should -Be @('192.0.2.0/24', '2001:db8::/64')
    }
    It 'merges two sections with one key into one peer with the later AllowedIPs (WG1005)' {
        Set-Conf '[Peer]', "PublicKey = $A", 'AllowedIPs = 192.0.2.1/32', 'Endpoint = 198.51.100.1:1111', '[Peer]', "PublicKey = $A", 'AllowedIPs = 192.0.2.2/32'
        $m = Get-Allowed
        $m.Count | Should -Be 1
        $m[$A] | Should -Be '192.0.2.2/32'
        (ip netns exec $Ns wg show $If endpoints) | Should -Match '198\.51\.100\.1:1111'
    }
}
