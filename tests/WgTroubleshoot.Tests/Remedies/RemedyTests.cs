using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using WgTroubleshoot;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Native;
using WgTroubleshoot.Remedies;
using Xunit;

namespace WgTroubleshoot.Tests.Remedies
{
    /// <summary>Records every command; answers from a table; fails the commands a predicate picks.</summary>
    internal sealed class RecordingRunner : INativeRunner
    {
        public List<string> Commands { get; } = new List<string>();
        public Func<string, NativeResult> Answer { get; set; } = _ => null;
        public Func<string, bool> FailWhen { get; set; } = _ => false;

        public NativeResult Run(string tool, IEnumerable<string> arguments, TimeSpan? timeout = null, string standardInput = null)
        {
            var line = NativeRunner.FormatCommandLine(tool, arguments ?? new string[0]);
            Commands.Add(line);
            if (FailWhen(line)) return new NativeResult(line, 1, "", "forced failure for the test\n", TimeSpan.Zero);
            return Answer(line) ?? new NativeResult(line, 0, "", "", TimeSpan.Zero);
        }

        public bool IsAvailable(string tool) => true;
        public NativeProcess Start(string tool, IEnumerable<string> arguments, TimeSpan maxLifetime) => throw new NotSupportedException();
    }

    public sealed class TransactionTests
    {
        [Fact]
        public void A_failing_second_backend_rolls_back_the_first_and_keeps_nothing_half_changed()
        {
            var runner = new RecordingRunner { FailWhen = l => l.StartsWith("iptables -I") };
            var tx = new Transaction(runner);
            var nft = tx.Begin("nftables inet filter input", "Allow inbound UDP 51820", "Blocked");
            tx.Run(nft, "Allow in nftables", new NativeCommand("nft", "insert", "rule", "inet", "filter", "input", "udp", "dport", "51820", "accept"),
                new NativeCommand("nft", "delete", "rule", "inet", "filter", "input", "handle", "7"));
            var ipt = tx.Begin("iptables-legacy filter INPUT", "Allow inbound UDP 51820", "Blocked");
            var ex = Assert.Throws<WgException>(() => tx.Run(ipt, "Allow in iptables", new NativeCommand("iptables", "-I", "INPUT", "-j", "ACCEPT"),
                new NativeCommand("iptables", "-D", "INPUT", "-j", "ACCEPT")));
            Assert.Equal(ErrorIds.ToolFailed, ex.ErrorId);
            Assert.Contains("rolled back", ex.Message);
            Assert.Equal("nft delete rule inet filter input handle 7", runner.Commands.Last());
            Assert.False(tx.HasChanges);
            Assert.Empty(tx.Records);
        }

        [Fact]
        public void An_undo_that_fails_is_reported_with_the_command_to_run_by_hand()
        {
            var runner = new RecordingRunner { FailWhen = l => l.StartsWith("ip link set dev wgx down") };
            var tx = new Transaction(runner);
            var rec = tx.Begin("wgx", "up", "down");
            tx.Run(rec, "up", new NativeCommand("ip", "link", "set", "dev", "wgx", "up"), new NativeCommand("ip", "link", "set", "dev", "wgx", "down"));
            Assert.Equal(new[] { "ip link set dev wgx down" }, rec.UndoCommands);
            var rb = tx.Rollback();
            Assert.False(rb.Complete);
            Assert.Contains("by hand: ip link set dev wgx down", rb.Problems.Single());
        }

        private static string TempConfig(out string dir)
        {
            dir = Path.Combine(Path.GetTempPath(), "wgr-tx-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, "wgr0.conf");
            File.WriteAllText(path, "[Interface]\n# keep me\nListenPort = 51820\nMTU = 1420\n");
            return path;
        }

        [Fact]
        public void Rolling_back_a_config_edit_restores_it_and_the_bak_does_not_reapply_the_change()
        {
            var path = TempConfig(out var dir);
            try
            {
                var original = File.ReadAllBytes(path);
                var tx = new Transaction(new RecordingRunner());
                var rec = tx.Begin(path, "MTU", "1420");
                Assert.True(tx.EditConfig(rec, path, d => d.SetValue(WgTroubleshoot.Config.WgConfigSectionRef.Interface, "MTU", "1340")));
                Assert.Contains("MTU = 1340", File.ReadAllText(path));
                Assert.Equal(original, File.ReadAllBytes(path + ".bak"));
                var rb = tx.Rollback();
                Assert.True(rb.Complete, rb.ToString());
                Assert.Equal(original, File.ReadAllBytes(path));
                // The reported undo is "cp -p <path>.bak <path>": after the rollback it must not bring 1340 back.
                Assert.Equal(original, File.ReadAllBytes(path + ".bak"));
                Assert.Contains("cp -p", rec.UndoCommands.Single());
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void A_config_edited_by_an_admin_after_the_change_is_not_overwritten_and_the_refusal_is_reported()
        {
            var path = TempConfig(out var dir);
            try
            {
                var tx = new Transaction(new RecordingRunner());
                var rec = tx.Begin(path, "MTU", "1420");
                tx.EditConfig(rec, path, d => d.SetValue(WgTroubleshoot.Config.WgConfigSectionRef.Interface, "MTU", "1340"));
                var admin = File.ReadAllText(path) + "# edited by the admin during verification\n";
                File.WriteAllText(path, admin);
                var rb = tx.Rollback();
                Assert.False(rb.Complete);
                Assert.True(rb.AnyRefused);
                Assert.Contains("changed after the repair wrote it", rb.Problems.Single());
                Assert.Equal(admin, File.ReadAllText(path));
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void A_written_file_is_removed_again_on_rollback_unless_it_changed_since()
        {
            var dir = Path.Combine(Path.GetTempPath(), "wgr-tx-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(dir);
            try
            {
                var path = Path.Combine(dir, "99-test.conf");
                var tx = new Transaction(new RecordingRunner());
                tx.WriteFile(tx.Begin(path, "create", null), path, "net.ipv4.ip_forward = 1\n");
                Assert.True(File.Exists(path));
                Assert.True(tx.Rollback().Complete);
                Assert.False(File.Exists(path));

                File.WriteAllText(path, "a = 0\n");
                var tx2 = new Transaction(new RecordingRunner());
                tx2.WriteFile(tx2.Begin(path, "rewrite", "a = 0"), path, "a = 1\n");
                Assert.Equal("a = 0\n", File.ReadAllText(path + ".bak"));
                File.WriteAllText(path, "a = 2\n");
                var rb = tx2.Rollback();
                Assert.True(rb.AnyRefused);
                Assert.Equal("a = 2\n", File.ReadAllText(path));

                File.WriteAllText(path, "a = 0\n");
                var tx3 = new Transaction(new RecordingRunner());
                tx3.WriteFile(tx3.Begin(path, "rewrite", "a = 0"), path, "a = 1\n");
                Assert.True(tx3.Rollback().Complete);
                Assert.Equal("a = 0\n", File.ReadAllText(path));
                Assert.Equal("a = 0\n", File.ReadAllText(path + ".bak"));
            }
            finally { Directory.Delete(dir, true); }
        }
    }

    public sealed class RemedyCatalogTests
    {
        private const string Key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

        private static FindingRef F(string cause, string iface, params string[] data)
            => new FindingRef { Cause = cause, Interface = iface, CanRepair = true, Severity = "Error", RepairData = data };

        [Theory]
        [InlineData("FirewallBlocksPort", "Add-WgFirewallRule -Interface wg0", "Interface=wg0", "Port=51820", "Backend=nftables")]
        [InlineData("TcpOnlyFirewallRule", "Add-WgFirewallRule -Interface wg0", "Interface=wg0")]
        [InlineData("ForwardingDisabled", "Enable-WgForwarding -Interface wg0", "Interface=wg0")]
        [InlineData("ForwardingDisabled", "Enable-WgForwarding -Interface wg0 -Nat -IPv6", "Interface=wg0", "Nat=true", "IPv6=true")]
        [InlineData("NatMissing", "Enable-WgForwarding -Interface wg0 -Nat", "Interface=wg0", "Nat=true")]
        [InlineData("ForwardPathBlocked", "Repair-WgIssue: accept wg0 to the uplink and its replies in the forward chains that drop them (DOCKER-USER first where it exists; ufw route allow under ufw)", "Interface=wg0")]
        [InlineData("MtuBlackhole", "Set-WgMtu -Interface wg0 -Mtu 1340 -Scope Both", "Interface=wg0", "Mtu=1340")]
        [InlineData("StaleEndpoint", "Update-WgEndpoint -Interface wg0 -PublicKey '" + Key + "'", "Interface=wg0", "PublicKey=" + Key)]
        [InlineData("InterfaceDown", "ip link set dev wg0 up", "Interface=wg0")]
        public void Valid_findings_get_their_remedy(string cause, string display, params string[] data)
        {
            var plan = RemedyCatalog.Plan(F(cause, "wg0", data), out var why);
            Assert.True(plan != null, why);
            Assert.Equal(display, plan.Display);
            Assert.True(plan.Unattended);
        }

        [Theory]
        [InlineData("FirewallBlocksPort", "Backend=nftables; nft flush ruleset")]
        [InlineData("FirewallBlocksPort", "Port=0")]
        [InlineData("FirewallBlocksPort", "Port=051820")]
        [InlineData("FirewallBlocksPort", "Port=99999")]
        [InlineData("FirewallBlocksPort", "Interface=eth0")]
        [InlineData("FirewallBlocksPort", "Command=rm -rf /")]
        [InlineData("ForwardingDisabled", "Nat=yes")]
        [InlineData("ForwardingDisabled", "OutInterface=x\";flush ruleset")]
        [InlineData("MtuBlackhole", "Mtu=100")]
        [InlineData("MtuBlackhole", "Mtu=1340", "Mtu=1300")]
        [InlineData("MtuBlackhole")]
        [InlineData("StaleEndpoint", "PublicKey=notakey")]
        [InlineData("InterfaceDown", "Mtu=1400")]
        [InlineData("InterfaceDown", "garbage")]
        [InlineData("KeyMismatch", "Interface=wg0")]
        public void Forged_or_malformed_repair_data_is_refused(string cause, params string[] data)
        {
            Assert.Null(RemedyCatalog.Plan(F(cause, "wg0", data), out var why));
            Assert.False(string.IsNullOrEmpty(why));
        }

        [Fact]
        public void Refusals_never_echo_a_value()
        {
            Assert.Null(RemedyCatalog.Plan(F("MtuBlackhole", "wg0", "Mtu=" + Key), out var why));
            Assert.DoesNotContain(Key.Substring(0, 10), why);
        }

        [Theory]
        [InlineData("wg0; reboot")]
        [InlineData("../../etc")]
        [InlineData("")]
        [InlineData("averyveryverylongname")]
        public void Invalid_interface_names_are_refused_for_every_cause(string iface)
        {
            foreach (var cause in RemedyCatalog.RepairableCauses)
                Assert.Null(RemedyCatalog.Plan(new FindingRef { Cause = cause, Interface = iface, CanRepair = true, RepairData = new[] { "Mtu=1400", "PublicKey=" + Key } }, out _));
        }

        [Fact]
        public void A_finding_not_marked_repairable_is_refused()
        {
            var f = F("InterfaceDown", "wg0", "Interface=wg0");
            f.CanRepair = false;
            Assert.Null(RemedyCatalog.Plan(f, out _));
        }

        [Fact]
        public void A_deserialized_finding_is_validated_like_a_live_one()
        {
            var o = new PSObject();
            o.Properties.Add(new PSNoteProperty("Cause", "MtuBlackhole"));
            o.Properties.Add(new PSNoteProperty("Interface", "wg0"));
            o.Properties.Add(new PSNoteProperty("CanRepair", true));
            o.Properties.Add(new PSNoteProperty("RepairData", new[] { "Interface=wg0", "Mtu=70000" }));
            var f = FindingRef.From(o);
            Assert.Null(RemedyCatalog.Plan(f, out _));
            o.Properties["RepairData"].Value = new object[] { "Interface=wg0", "Mtu=1340" };
            Assert.NotNull(RemedyCatalog.Plan(FindingRef.From(o), out _));
        }

        [Fact]
        public void Every_repair_kind_of_the_policy_has_a_remedy_and_every_remedy_a_kind()
        {
            var kinds = RemedyCatalog.RepairableCauses.Select(c => RemedyCatalog.KindFor(c).Value).Distinct().OrderBy(k => k);
            Assert.Equal(Enum.GetValues(typeof(WgTroubleshoot.Remediation.RepairKind)).Cast<WgTroubleshoot.Remediation.RepairKind>().OrderBy(k => k), kinds);
            Assert.Equal(WgTroubleshoot.Remediation.RepairKind.Link, RemedyCatalog.KindFor("InterfaceDown"));
            Assert.Null(RemedyCatalog.KindFor("KeyMismatch"));
        }
    }

    [Collection("Privilege")]
    public sealed class RemedyServiceTests : IDisposable
    {
        public RemedyServiceTests() { Privilege.Override = () => true; }
        public void Dispose() { Privilege.Override = null; }

        private const string Priv = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        private const string Pub = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=";

        /// <summary>"lo" exists on every Linux host: the fake runner decides whether it is a WireGuard interface.</summary>
        private static RecordingRunner Runner(bool wireGuard, bool up)
            => new RecordingRunner
            {
                Answer = l =>
                    l == "wg show lo dump" ? (wireGuard ? new NativeResult(l, 0, $"{Priv}\t{Pub}\t51820\toff\n", "", TimeSpan.Zero)
                                                        : new NativeResult(l, 1, "", "Unable to access interface: No such device\n", TimeSpan.Zero))
                    : l == "ip -o link show" ? new NativeResult(l, 0, $"1: lo: <LOOPBACK{(up ? ",UP,LOWER_UP" : "")}> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n", "", TimeSpan.Zero)
                    : null,
            };

        [Fact]
        public void A_forged_InterfaceDown_finding_for_a_link_that_is_not_WireGuard_is_refused_and_nothing_runs()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            var runner = Runner(wireGuard: false, up: false);
            var repairer = new Repairer(runner, _ => new List<Finding>());
            var f = new FindingRef { Cause = "InterfaceDown", Interface = "lo", CanRepair = true, Severity = "Error", RepairData = new[] { "Interface=lo" } };
            var r = repairer.Repair(f);
            Assert.False(r.Changed);
            Assert.False(r.Verified);
            Assert.Contains("No WireGuard interface named 'lo'", r.Error);
            Assert.DoesNotContain(runner.Commands, c => c.StartsWith("ip link set"));

            var ctx = new RemedyContext(runner, null, null);
            var nf = Assert.Throws<WgException>(() => LinkRemedy.Up(ctx, "lo"));
            Assert.Equal(ErrorIds.InterfaceNotFound, nf.ErrorId);
            Assert.DoesNotContain(runner.Commands, c => c.StartsWith("ip link set"));
        }

        [Fact]
        public void The_repairer_brings_a_WireGuard_link_up_and_rolls_it_back_when_verification_fails()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            var runner = Runner(wireGuard: true, up: false);
            var still = new Finding { Cause = "InterfaceDown", Severity = "Error", Interface = "lo", Summary = "down" };
            var repairer = new Repairer(runner, _ => new List<Finding> { still });
            var f = new FindingRef { Cause = "InterfaceDown", Interface = "lo", CanRepair = true, Severity = "Error", RepairData = new[] { "Interface=lo" } };
            var r = repairer.Repair(f);
            Assert.True(r.Changed);
            Assert.False(r.Verified);
            Assert.True(r.RolledBack, r.Error);
            Assert.Contains("ip link set dev lo up", runner.Commands);
            Assert.Equal("ip link set dev lo down", runner.Commands.Last(c => c.StartsWith("ip link set")));
        }

        [Fact]
        public void The_repairer_verifies_through_the_diagnosis_delegate()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            var runner = Runner(wireGuard: true, up: false);
            int calls = 0;
            var repairer = new Repairer(runner, _ => { calls++; return new List<Finding>(); });
            var r = repairer.Repair(new FindingRef { Cause = "InterfaceDown", Interface = "lo", CanRepair = true, Severity = "Error", RepairData = new[] { "Interface=lo" } });
            Assert.True(r.Verified, r.Error);
            Assert.Equal(2, calls);
            Assert.Equal(new[] { "ip link set dev lo down" }, r.UndoCommands);
        }

        [Fact]
        public void A_refused_finding_runs_nothing()
        {
            var runner = new RecordingRunner();
            var repairer = new Repairer(runner, _ => throw new InvalidOperationException("must not diagnose"));
            var r = repairer.Repair(new FindingRef { Cause = "FirewallBlocksPort", Interface = "wg0", CanRepair = true, RepairData = new[] { "Backend=nftables;flush" } });
            Assert.False(r.Changed);
            Assert.Contains("refused", r.Error);
            Assert.Empty(runner.Commands);
        }

        [Fact]
        public void Mtu_remedy_runs_ip_and_records_the_undo()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            var runner = Runner(wireGuard: true, up: true);
            var ctx = new RemedyContext(runner, null, null);
            var records = MtuRemedy.Set(ctx, "lo", _ => 1400, WgTroubleshoot.Commands.MtuScope.Live);
            Assert.Contains("ip link set dev lo mtu 1400", runner.Commands);
            Assert.Equal(new[] { "ip link set dev lo mtu 65536" }, records.Single().UndoCommands);
            Assert.True(records.Single().Changed);
        }

        [Fact]
        public void WhatIf_runs_no_command()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            var runner = Runner(wireGuard: true, up: false);
            var ctx = new RemedyContext(runner, null, (t, a) => false);
            Assert.Empty(LinkRemedy.Up(ctx, "lo"));
            Assert.DoesNotContain(runner.Commands, c => c.StartsWith("ip link set"));
        }
    }
}
