using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Native;
using WgTroubleshoot.Remediation;
using WgTroubleshoot.Remedies;
using Xunit;

namespace WgTroubleshoot.Tests.Remedies
{
    /// <summary>
    /// The repairs the field table calls safe: StaleEndpoint proven one-way (no -Force), TunnelInputBlocked only by
    /// its policy key, NatMissing on the wrong interface rewritten (rule and hook line), ReversePathFilter persistent.
    /// </summary>
    [Collection("Privilege")]
    public sealed class SafeRepairTests : IDisposable
    {
        private const string Key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "wgr-safe-" + Guid.NewGuid().ToString("N"));

        public SafeRepairTests() { Privilege.Override = () => true; }

        public void Dispose()
        {
            Privilege.Override = null;
            Environment.SetEnvironmentVariable("WGT_SYSCTL_ROOT", null);
            if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
        }

        private static FindingRef F(string cause, params string[] data)
            => new FindingRef { Cause = cause, Interface = "wg0", CanRepair = true, Severity = "Error", RepairData = data };

        private static string Corpus(params string[] parts) => Path.Combine(new[] { AppContext.BaseDirectory, "Corpus", "snapshots" }.Concat(parts).ToArray());

        // ---- StaleEndpoint, proven one-way

        [Fact]
        public void The_recorded_ddns_move_is_repairable_without_force_because_the_probe_proved_it_one_way()
        {
            var top = HostDiagnosis.Replay(Corpus("peer", "DdnsMovedFreshHandshake-client.json"))[0];
            Assert.Equal("StaleEndpoint", top.Cause);
            Assert.Contains("OneWay=true", top.RepairData);
            var plan = RemedyCatalog.Plan(FindingRef.From(top), out var why);
            Assert.True(plan != null, why);
            Assert.True(plan.Unattended);
            Assert.Equal(RepairKind.Endpoint, plan.Kind);
            Assert.EndsWith(" -Force", plan.Display);
        }

        [Fact]
        public void OneWay_takes_only_true()
        {
            Assert.NotNull(RemedyCatalog.Plan(F("StaleEndpoint", "Interface=wg0", "PublicKey=" + Key, "OneWay=true"), out _));
            Assert.Null(RemedyCatalog.Plan(F("StaleEndpoint", "Interface=wg0", "PublicKey=" + Key, "OneWay=yes"), out var why));
            Assert.Contains("not valid", why);
            Assert.Equal("Update-WgEndpoint -Interface wg0 -PublicKey '" + Key + "'", RemedyCatalog.Plan(F("StaleEndpoint", "Interface=wg0", "PublicKey=" + Key), out _).Display);
        }

        [Fact]
        public void A_healthy_drifted_peer_is_not_marked_one_way()
        {
            // The same recording with the probe answered: the session works, so the repair keeps the 135 s rule.
            var snap = WgTroubleshoot.Snapshot.SnapshotJson.ReadFile(Corpus("peer", "DdnsMovedFreshHandshake-client.json"));
            var probe = snap.Interfaces.SelectMany(i => i.Probes).Single();
            probe.RxAfter = probe.RxBefore + 32;
            var f = new Diagnoser().Diagnose(snap).FirstOrDefault(x => x.Cause == "StaleEndpoint");
            Assert.NotNull(f);
            Assert.DoesNotContain("OneWay=true", f.RepairData);
        }

        [Fact]
        public void An_unattended_run_re_resolves_a_one_way_peer_when_reresolveEndpoints_allows()
        {
            if (!Directory.Exists("/sys/class/net/lo")) return;
            var f = new Finding { Cause = "StaleEndpoint", Severity = "Error", Summary = "moved", Interface = "lo", Peer = Key, CanRepair = true, RepairData = new[] { "Interface=lo", "PublicKey=" + Key, "OneWay=true" } };
            var asked = new List<string>();
            var r = RunPolicy("reresolveEndpoints: true\nallowedRepairs: []\nmaxRepairsPerHour: 5", asked, f);
            Assert.Single(asked);
            Assert.Contains(r.Interfaces[0].NeedsHuman, n => n.Contains("because of -WhatIf: Update-WgEndpoint -Interface lo -PublicKey '" + Key + "' -Force"));
            asked.Clear();
            RunPolicy("reresolveEndpoints: false\nallowedRepairs: [Endpoint]\nmaxRepairsPerHour: 5", asked, f);
            Assert.Empty(asked);
        }

        // ---- TunnelInputBlocked: reported always, repaired only by the policy key

        [Fact]
        public void TunnelInputBlocked_is_repairable_only_by_its_policy_key()
        {
            var top = HostDiagnosis.Replay(Corpus("TunnelInputBlocked-server.json"))[0];
            Assert.Equal("TunnelInputBlocked", top.Cause);
            Assert.False(top.CanRepair); // not by Repair-WgIssue
            Assert.Contains("acceptTunnelInput: true", top.Remediation);
            var plan = RemedyCatalog.Plan(FindingRef.From(top), out var why);
            Assert.True(plan != null, why);
            Assert.False(plan.Unattended);
            Assert.Equal("firewall: { acceptTunnelInput: true }", plan.PolicyKey);
        }

        [Fact]
        public void The_repairer_refuses_TunnelInputBlocked_without_the_policy_and_changes_nothing()
        {
            var runner = new RecordingRunner();
            var repairer = new Repairer(runner, _ => throw new InvalidOperationException("nothing may be diagnosed or changed"));
            var r = repairer.Repair(F("TunnelInputBlocked", "Interface=wg0"));
            var asFound = F("TunnelInputBlocked", "Interface=wg0");
            asFound.CanRepair = false;
            Assert.Contains("acceptTunnelInput", repairer.Repair(asFound).Error);
            Assert.False(r.Changed);
            Assert.False(r.Verified);
            Assert.Contains("acceptTunnelInput", r.Error);
            Assert.Empty(runner.Commands);
        }

        [Fact]
        public void The_policy_reads_firewall_acceptTunnelInput_and_rejects_what_it_does_not_know()
        {
            var p = RemediationPolicy.Parse("interfaces:\n  wg0:\n    firewall:\n      acceptTunnelInput: true\n");
            Assert.True(p.ForInterface("wg0").AcceptTunnelInput);
            Assert.Null(RemediationPolicy.Parse("interfaces:\n  wg0:\n    allowedRepairs: [Firewall]\n").ForInterface("wg0").AcceptTunnelInput);
            var bad = Assert.Throws<WgPolicyException>(() => RemediationPolicy.Parse("interfaces:\n  wg0:\n    firewall:\n      acceptTunnelinput: true\n"));
            Assert.Equal(4, bad.Line);
            Assert.Contains("did you mean 'acceptTunnelInput'", bad.Message);
            Assert.Throws<WgPolicyException>(() => RemediationPolicy.Parse("interfaces:\n  wg0:\n    firewall:\n      acceptTunnelInput: maybe\n"));
            Assert.Throws<WgPolicyException>(() => RemediationPolicy.Parse("interfaces:\n  wg0:\n    firewall: [acceptTunnelInput]\n"));
        }

        private static RemediationReport RunPolicy(string keys, List<string> asked)
            => RunPolicy(keys, asked, new Finding { Cause = "TunnelInputBlocked", Severity = "Warning", Summary = "input drops", Interface = "lo", CanRepair = false, RepairData = new[] { "Interface=lo" } });

        private static RemediationReport RunPolicy(string keys, List<string> asked, Finding finding)
        {
            var runner = new RecordingRunner();
            var policy = RemediationPolicy.Parse("interfaces:\n  lo:\n" + string.Join("", keys.Split('\n').Select(k => "    " + k + "\n")));
            var repairer = new Repairer(runner, _ => throw new InvalidOperationException("no repair may run in these tests"));
            var run = new RemediationRun(runner, repairer, (t, a) => { asked.Add(t + " " + a); return false; }, null)
            {
                Diagnose = (ip, nf) => new List<Finding> { finding },
            };
            return run.Run(policy, whatIf: true);
        }

        [Fact]
        public void An_unattended_run_repairs_TunnelInputBlocked_only_with_the_key()
        {
            if (!Directory.Exists("/sys/class/net/lo")) return;
            var asked = new List<string>();
            var without = RunPolicy("allowedRepairs: [Firewall, Forwarding, Nat]\nmaxRepairsPerHour: 5", asked);
            Assert.Empty(asked);
            Assert.Contains(without.Interfaces[0].NeedsHuman, n => n.Contains("reported only: the policy does not say firewall: { acceptTunnelInput: true }"));
            var with = RunPolicy("allowedRepairs: []\nfirewall: { acceptTunnelInput: true }\nmaxRepairsPerHour: 5", asked);
            Assert.Single(asked);
            Assert.Contains(with.Interfaces[0].NeedsHuman, n => n.Contains("because of -WhatIf: Repair-WgIssue: accept what arrives through lo"));
            asked.Clear();
            RunPolicy("firewall: { acceptTunnelInput: true }\nmaxRepairsPerHour: 0", asked);
            Assert.Empty(asked);
        }

        // ---- NatMissing on the wrong interface: the rule and the hook line rewritten

        [Fact]
        public void The_wrong_interface_masquerade_is_rewritten_not_doubled()
        {
            var top = HostDiagnosis.Replay(Corpus("NatWrongInterface-server.json"))[0];
            Assert.Equal("NatMissing", top.Cause);
            var plan = RemedyCatalog.Plan(FindingRef.From(top), out var why);
            Assert.True(plan != null, why);
            Assert.StartsWith("Repair-WgIssue: rewrite the masquerade", plan.Display);
            Assert.Contains("names eth0 for the uplink", plan.Display);
            Assert.Equal("Enable-WgForwarding -Interface wg0 -Nat", RemedyCatalog.Plan(F("NatMissing", "Interface=wg0", "Nat=true"), out _).Display);
        }

        [Theory]
        [InlineData(" iptables -t nat -A POSTROUTING -s 10.8.0.0/24 -o eth0 -j MASQUERADE", " iptables -t nat -A POSTROUTING -s 10.8.0.0/24 -o ens3 -j MASQUERADE")]
        [InlineData("iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE",
                    "iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o ens3 -j MASQUERADE")]
        [InlineData("iptables -A FORWARD -i eth0 -o %i -j ACCEPT; iptables -t nat -D POSTROUTING --out-interface eth0 -j MASQUERADE",
                    "iptables -A FORWARD -i eth0 -o %i -j ACCEPT; iptables -t nat -D POSTROUTING --out-interface ens3 -j MASQUERADE")]
        [InlineData("nft add rule inet nat postrouting oifname \"eth0\" masquerade", "nft add rule inet nat postrouting oifname \"ens3\" masquerade")]
        [InlineData("nft add rule ip nat postrouting oifname eth0 counter masquerade && echo ok", "nft add rule ip nat postrouting oifname ens3 counter masquerade && echo ok")]
        [InlineData("iptables -A FORWARD -o eth0 -j ACCEPT", "iptables -A FORWARD -o eth0 -j ACCEPT")]
        [InlineData("iptables -t nat -A POSTROUTING -o eth0.100 -j MASQUERADE", "iptables -t nat -A POSTROUTING -o eth0.100 -j MASQUERADE")]
        [InlineData("iptables -t nat -A POSTROUTING ! -o eth1 -j MASQUERADE", "iptables -t nat -A POSTROUTING ! -o eth1 -j MASQUERADE")]
        public void A_hook_line_changes_only_the_masquerade_interface(string value, string expected)
            => Assert.Equal(expected, NatRewriteRemedy.RewriteHookValue(value, "eth0", "ens3"));

        [Fact]
        public void The_nft_rule_is_found_by_handle_and_rewritten_in_place()
        {
            var listing = "table ip wgtlab_nat { # handle 7\n\tchain postrouting { # handle 1\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
                        + "\t\tip saddr 192.0.2.0/26 oifname \"eth0\" counter packets 0 bytes 0 masquerade # handle 4\n"
                        + "\t\tip saddr 198.51.100.0/24 oifname \"eth0\" masquerade # handle 5\n\t}\n}\n"
                        + "table ip nat { # handle 9\n\tchain POSTROUTING { # handle 1\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
                        + "\t\tip saddr 192.0.2.0/26 oifname \"eth0\" counter packets 0 bytes 0 masquerade # handle 3\n\t}\n}\n"
                        + "table inet filter { # handle 2\n\tset s { # handle 3\n\t\ttype ipv4_addr\n\t\telements = { 192.0.2.1 }\n\t}\n"
                        + "\tchain forward { # handle 4\n\t\ttype filter hook forward priority filter; policy accept;\n\t\toifname \"eth0\" accept # handle 6\n\t}\n}\n";
            var m = Assert.Single(NatRewriteRemedy.FindNft(listing, new[] { "192.0.2.0/26" }, "eth0"));
            Assert.Equal(("ip", "wgtlab_nat", "postrouting", "4"), (m.Family, m.Table, m.Chain, m.Handle));
            Assert.Equal("ip saddr 192.0.2.0/26 oifname \"ens3\" counter packets 0 bytes 0 masquerade", NatRewriteRemedy.NftRuleWithOif(m.Text, "eth0", "ens3"));
        }

        [Fact]
        public void The_iptables_rule_is_found_with_its_position()
        {
            var save = "*filter\n:INPUT ACCEPT [0:0]\n-A FORWARD -o eth0 -j ACCEPT\nCOMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\n"
                     + "-A POSTROUTING -s 198.51.100.0/24 -o eth0 -j MASQUERADE\n"
                     + "-A POSTROUTING -s 192.0.2.0/26 -o eth0 -m comment --comment \"wg nat\" -j MASQUERADE\n"
                     + "-A POSTROUTING ! -o eth0 -j MASQUERADE\nCOMMIT\n";
            var m = Assert.Single(NatRewriteRemedy.FindIptables(save, new[] { "192.0.2.0/26" }, "eth0"));
            Assert.Equal(2, m.Position);
            Assert.Equal("eth0", m.Spec[m.OifIndex]);
            Assert.Contains("wg nat", m.Spec);
        }

        [Fact]
        public void The_config_lines_are_rewritten_and_every_other_byte_kept()
        {
            var text = "[Interface]\r\nAddress = 192.0.2.1/26\r\nPostUp = iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE  # nat\r\n"
                     + "PostDown = iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE\r\nPostUp = iptables -A FORWARD -o eth0 -j ACCEPT\r\n\r\n[Peer]\r\nPublicKey = " + Key + "\r\n";
            var doc = WgTroubleshoot.Config.WgConfigDocument.Parse(System.Text.Encoding.UTF8.GetBytes(text));
            foreach (var kv in NatRewriteRemedy.HookLineChanges(doc, "eth0", "ens3"))
                doc.Lines[kv.Key] = new WgTroubleshoot.Config.WgConfigLine(kv.Value, doc.Lines[kv.Key].Ending);
            var after = System.Text.Encoding.UTF8.GetString(doc.ToBytes());
            Assert.Equal(text.Replace("POSTROUTING -o eth0", "POSTROUTING -o ens3"), after);
        }

        // ---- ReversePathFilter: persistent

        [Fact]
        public void The_reverse_path_repair_writes_the_persistent_file_and_rolls_it_back()
        {
            if (!File.Exists("/proc/sys/net/ipv4/conf/lo/rp_filter")) return;
            Directory.CreateDirectory(Path.Combine(_dir, "etc", "sysctl.d"));
            Environment.SetEnvironmentVariable("WGT_SYSCTL_ROOT", _dir);
            var file = Path.Combine(_dir, "etc", "sysctl.d", "99-wgtroubleshoot.conf");
            File.WriteAllText(file, "# kept\nnet.ipv4.ip_forward = 1\n");
            var runner = new RecordingRunner();
            var tx = new Transaction(runner);
            var ctx = new RemedyContext(runner, tx, (_, __) => true);
            var f = new FindingRef { Cause = "ReversePathFilter", Interface = "lo", CanRepair = true, RepairData = new[] { "Interface=lo", "Uplink=lo", "RpFilter=2" } };
            var rec = WgTroubleshoot.PathFaults.PathRepairs.Apply(ctx, f).Single();
            Assert.True(rec.Changed);
            Assert.Equal("# kept\nnet.ipv4.ip_forward = 1\nnet.ipv4.conf.lo.rp_filter = 2\n", File.ReadAllText(file));
            var now = File.ReadAllText("/proc/sys/net/ipv4/conf/lo/rp_filter").Trim();
            if (now != "2") Assert.Contains("sysctl -w net.ipv4.conf.lo.rp_filter=2", runner.Commands);
            Assert.Contains(rec.UndoCommands, u => u.Contains("99-wgtroubleshoot.conf"));
            Assert.True(tx.Rollback().Complete);
            Assert.Equal("# kept\nnet.ipv4.ip_forward = 1\n", File.ReadAllText(file));
        }

        [Fact]
        public void The_nft_fib_variant_says_what_decides_and_is_report_only()
        {
            var top = HostDiagnosis.Replay(Corpus("ReversePathFilterNft-server.json"))[0];
            Assert.Equal("ReversePathFilter", top.Cause);
            Assert.False(top.CanRepair);
            Assert.StartsWith("Not repaired automatically (report only)", top.Remediation);
            Assert.Contains(top.Evidence, e => e.StartsWith("Decided by: nftables: fib saddr . iif oif missing"));
            var sysctl = HostDiagnosis.Replay(Corpus("ReversePathFilter-server.json"))[0];
            Assert.True(sysctl.CanRepair);
            Assert.Contains("/etc/sysctl.d/99-wgtroubleshoot.conf", sysctl.Remediation);
        }
    }
}
