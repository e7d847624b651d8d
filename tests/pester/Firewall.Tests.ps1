# Get-WgFirewallStatus and Add-WgFirewallRule run INSIDE the lab's server namespace against real nftables
# and iptables rules; the handshake between the two namespaces is the proof that the repair works.
# Tagged Lab: needs root, wireguard-go and the network tools; skipped cleanly elsewhere.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force
    $script:LabUnavailable = -not (Test-WgLabPrerequisite)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../lab/WgLab.psm1') -Force

    function Invoke-Server($Lab, [scriptblock] $ScriptBlock, [object[]] $ArgumentList = @()) {
        Invoke-WgLabPwsh -Lab $Lab -Node server -ScriptBlock $ScriptBlock -ArgumentList $ArgumentList -TimeoutSeconds 120
    }
    function Get-Ruleset($Lab) {
        $nft = Invoke-WgLabCommand -Lab $Lab -Node server -Command nft, list, ruleset
        $ipt = foreach ($t in 'iptables-legacy-save', 'iptables-nft-save', 'ip6tables-legacy-save', 'ip6tables-nft-save') {
            # the save header and footer carry the time; the rules are what matter
            (Invoke-WgLabCommand -Lab $Lab -Node server -Command $t) -split "`n" | Where-Object { $_ -notmatch '^#' }
        }
        ($nft, ($ipt -join "`n")) -join "`n----`n"
    }
    function Get-Status($Lab) {
        Invoke-Server $Lab { param($if) Get-WgFirewallStatus -Interface "$if" } -ArgumentList $Lab.Server.Interface
    }
}

Describe 'Firewall diagnosis and repair in the lab' -Tag Lab -Skip:$LabUnavailable {
    BeforeAll {
        $script:lab = New-WgLab
    }
    AfterAll {
        if ($lab) { Remove-WgLab -Lab $lab }
    }

    It 'reports the healthy lab as allowed and names the upstream as the next suspect' {
        $s = @(Get-Status $lab)
        $s.Verdict | Should -Not -Contain 'Blocked'
        $s[0].Port | Should -Be $lab.Server.ListenPort
        $s[0].Notes -join ' ' | Should -Match 'cloud security group'
    }

    Context 'UDP blocked by nftables' {
        BeforeAll { Add-WgLabFault -Lab $lab -Fault FirewallBlocksPort }
        AfterAll { Remove-WgLabFault -Lab $lab -Fault FirewallBlocksPort }

        It 'names the deciding nft rule' {
            $s = @(Get-Status $lab) | Where-Object Backend -eq 'nftables'
            $s.Verdict | Should -Be 'Blocked'
            $s.InboundAllowed | Should -BeFalse
            $s.DecidingRule | Should -Be "udp dport $($lab.Server.ListenPort) drop"
        }

        It '-WhatIf shows the exact nft command and changes nothing' {
            $before = Get-Ruleset $lab
            $res = Invoke-WgLabPwsh -Lab $lab -Node server -AsResult -TimeoutSeconds 120 -ScriptBlock {
                param($if) Add-WgFirewallRule -Interface "$if" -WhatIf
            } -ArgumentList $lab.Server.Interface
            # ShouldProcess writes "What if: ..." to the host, which is the child's stdout
            ($res.StdOut -replace '\s+', ' ') | Should -Match ([regex]::Escape("nft --echo --handle insert rule inet wgtfault_port input udp dport $($lab.Server.ListenPort) accept comment '`"wgtroubleshoot`"'"))
            Get-Ruleset $lab | Should -BeExactly $before
        }

        It 'is refused for a non-root user before anything changes' {
            $before = Get-Ruleset $lab
            $tmp = Join-Path ([IO.Path]::GetTempPath()) ("wgt-fw-nonroot-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
            $null = New-Item -ItemType Directory -Path $tmp, "$tmp/home"
            try {
                Copy-Item (Split-Path $env:WGT_MODULE) "$tmp/module" -Recurse
                # nobody cannot traverse root's home, where the test's pwsh may live: run a copy of it.
                Copy-Item (Split-Path -Parent (Get-Item $env:WGT_PWSH).FullName) "$tmp/pwsh" -Recurse
                & chmod -R a+rX $tmp
                & chown 65534:65534 "$tmp/home"
                $code = "`$ErrorActionPreference = 'Stop'; Import-Module '$tmp/module/WgTroubleshoot.psd1'; try { Add-WgFirewallRule -Port $($lab.Server.ListenPort) -Confirm:`$false; 'NO-ERROR' } catch { 'ERRORID=' + `$_.FullyQualifiedErrorId }"
                $r = Invoke-WgLabCommand -Lab $lab -Node server -PassThru -TimeoutSeconds 120 -Command @(
                    'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--',
                    'env', "HOME=$tmp/home", "DOTNET_CLI_HOME=$tmp/home", 'DOTNET_CLI_TELEMETRY_OPTOUT=1',
                    "$tmp/pwsh/$(Split-Path -Leaf $env:WGT_PWSH)", '-NoProfile', '-NonInteractive', '-Command', $code)
                ($r.StdOut + $r.StdErr) | Should -Match 'ERRORID=WgPermissionDenied,WgTroubleshoot.Commands.AddWgFirewallRuleCommand'
            }
            finally { Remove-Item $tmp -Recurse -Force -ErrorAction SilentlyContinue }
            Get-Ruleset $lab | Should -BeExactly $before
        }

        It 'opens the port; the handshake completes; a second run changes nothing' {
            $since = [DateTime]::UtcNow
            $rec = Invoke-Server $lab { param($if) Add-WgFirewallRule -Interface "$if" -PassThru -Confirm:$false } -ArgumentList $lab.Server.Interface
            $rec.Changed | Should -BeTrue
            $rec.Before | Should -Match '^Blocked: udp dport \d+ drop'
            $rec.After | Should -Match '^Allowed: udp dport \d+ accept comment "wgtroubleshoot"'
            $rec.UndoCommands | Should -Match '^nft delete rule inet wgtfault_port input handle \d+$'
            Wait-WgLabHandshake -Lab $lab -Since $since -TimeoutSeconds 20 | Should -BeTrue
            $again = Invoke-Server $lab { param($if) Add-WgFirewallRule -Interface "$if" -PassThru -Confirm:$false } -ArgumentList $lab.Server.Interface
            @($again).Changed | Should -Not -Contain $true
            (@(Get-Status $lab) | Where-Object Backend -eq 'nftables').Verdict | Should -Be 'Allowed'
        }
    }

    Context 'UDP blocked by iptables' {
        BeforeAll { Add-WgLabFault -Lab $lab -Fault FirewallBlocksPortIptables }
        AfterAll { Remove-WgLabFault -Lab $lab -Fault FirewallBlocksPortIptables }

        It 'names the deciding DROP rule in the flavour that holds it' {
            $s = @(Get-Status $lab) | Where-Object Verdict -eq 'Blocked'
            $s | Should -Not -BeNullOrEmpty
            $s[0].Backend | Should -Match '^iptables-(nft|legacy)$'
            $s[0].DecidingRule | Should -Be "-A INPUT -p udp -m udp --dport $($lab.Server.ListenPort) -j DROP"
        }

        It 'opens the port with iptables -I and the handshake completes' {
            $since = [DateTime]::UtcNow
            $rec = Invoke-Server $lab { param($if) Add-WgFirewallRule -Interface "$if" -PassThru -Confirm:$false } -ArgumentList $lab.Server.Interface
            @($rec | Where-Object Changed).Count | Should -Be 1
            ($rec | Where-Object Changed).UndoCommands[0] | Should -Match '^iptables-(nft|legacy) -D INPUT -p udp --dport \d+ -m comment --comment wgtroubleshoot -j ACCEPT$'
            Wait-WgLabHandshake -Lab $lab -Since $since -TimeoutSeconds 20 | Should -BeTrue
            # undo through the recorded commands, so the fault can be removed cleanly
            foreach ($u in ($rec | Where-Object Changed).UndoCommands) {
                $parts = $u -split ' '
                $null = Invoke-WgLabCommand -Lab $lab -Node server -Command $parts
            }
            (@(Get-Status $lab) | Where-Object Verdict -eq 'Blocked').Count | Should -Be 1
        }
    }

    Context 'UDP blocked by nftables and by iptables, and the second backend fails' {
        BeforeAll {
            Add-WgLabFault -Lab $lab -Fault FirewallBlocksPort
            Add-WgLabFault -Lab $lab -Fault FirewallBlocksPortIptables
            # A test seam: iptables wrappers early on PATH that refuse to insert (-I) and pass everything else to the real tool.
            $script:fakeBin = Join-Path ([System.IO.Path]::GetTempPath()) ("wgr-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
            $null = New-Item -ItemType Directory -Path $fakeBin
            foreach ($t in 'iptables', 'iptables-nft', 'iptables-legacy') {
                $real = (Get-Command $t -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
                $f = Join-Path $fakeBin $t
                Set-Content -LiteralPath $f -Value "#!/bin/sh`nfor a in `"`$@`"; do [ `"`$a`" = -I ] && { echo 'iptables: forced failure (test)' >&2; exit 4; }; done`nexec '$real' `"`$@`"`n"
                chmod 755 $f
            }
            # counters aside (iptables-save's [packets:bytes], nft's "counter packets N bytes M"): the client's
            # handshake retries hit the drop rules while the test runs
            function script:Get-Normalized($Lab) { (Get-Ruleset $Lab) -replace '\[\d+:\d+\]', '' -replace 'packets \d+ bytes \d+', 'packets N bytes N' }
        }
        AfterAll {
            Remove-WgLabFault -Lab $lab -Fault FirewallBlocksPortIptables
            Remove-WgLabFault -Lab $lab -Fault FirewallBlocksPort
            Remove-Item -Recurse -Force $fakeBin -ErrorAction SilentlyContinue
        }

        It 'Add-WgFirewallRule and Repair-WgIssue leave both backends byte-identical to before' {
            $before = Get-Normalized $lab
            @(Get-Status $lab | Where-Object Verdict -eq 'Blocked').Count | Should -Be 2
            $out = Invoke-Server $lab {
                param($if, $bin)
                $env:PATH = "${bin}:$env:PATH"
                $direct = try { Add-WgFirewallRule -Interface $if -Confirm:$false -PassThru -ErrorAction Stop; 'no error' } catch { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }
                $rep = @(Invoke-WgDiagnosis -Interface $if | Where-Object Cause -eq 'FirewallBlocksPort' | Repair-WgIssue -Confirm:$false -WarningAction SilentlyContinue)
                [pscustomobject]@{ Direct = "$direct"; Repair = $rep }
            } -ArgumentList $lab.Server.Interface, $fakeBin
            $out.Direct | Should -Match 'forced failure'
            $out.Direct | Should -Match 'rolled back: nftables'
            $out.Repair.Count | Should -Be 1
            $out.Repair[0].Changed | Should -BeFalse
            $out.Repair[0].Error | Should -Match 'forced failure.*rolled back: nftables'
            Get-Normalized $lab | Should -BeExactly $before
        }
    }

    Context 'only TCP is allowed' {
        BeforeAll { Add-WgLabFault -Lab $lab -Fault TcpOnlyFirewallRule }
        AfterAll { Remove-WgLabFault -Lab $lab -Fault TcpOnlyFirewallRule }

        It 'flags the TCP-only rule' {
            $s = @(Get-Status $lab) | Where-Object Backend -eq 'nftables'
            $s.Verdict | Should -Be 'Blocked'
            $s.DecidingRule | Should -Be 'policy drop of chain input (inet wgtfault_tcponly)'
            $s.TcpOnlyRule | Should -Be "tcp dport $($lab.Server.ListenPort) accept"
        }
    }
}
