using System;
using System.IO;
using System.Linq;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Native;
using WgTroubleshoot.PathFaults;
using WgTroubleshoot.Remedies;
using WgTroubleshoot.Snapshot;
using WgTroubleshoot.Snapshot.Sources;
using WgTroubleshoot.Tests.Remedies;
using Xunit;

namespace WgTroubleshoot.Tests.Checks
{
    /// <summary>
    /// MssClampMissing on a tunnel that carries IPv6: the check judges each SYN against the rules that see its family,
    /// and the repair clamps IPv6 too (the inet table's rules, ip6tables of the same flavour) in the one transaction.
    /// </summary>
    public class MssClampIPv6Tests
    {
        private static HostSnapshot Read() => SnapshotJson.ReadFile(Path.Combine(AppContext.BaseDirectory, "Corpus", "snapshots", "MssClampMissing-server.json"));

        private static Finding Mss(HostSnapshot s) => new Diagnoser().Diagnose(s).FirstOrDefault(f => f.Cause == nameof(Cause.MssClampMissing));

        /// <summary>The recorded server with IPv6 forwarding on and an IPv6 SYN (MSS 1360, fits 1340) forwarded out of the same link.</summary>
        private static HostSnapshot WithIPv6Syn()
        {
            var s = Read();
            s.Sysctls.Runtime["net.ipv6.conf.all.forwarding"] = "1";
            var i = s.Interfaces[0];
            var out4 = i.ForwardRoutes[0];
            i.Syns.Syns.Add(new SynSeen { Source = "2001:db8:100::2", Destination = "2001:db8:300::7", DestinationPort = 443, Mss = 1360, IPv6 = true, Count = 3 });
            i.ForwardRoutes.Add(new ForwardRoute { Source = "2001:db8:100::2", Destination = "2001:db8:300::7", InInterface = i.Name, Ok = true, Device = out4.Device, Text = $"2001:db8:300::7 from 2001:db8:100::2 via 2001:db8:300::1 dev {out4.Device}" });
            return s;
        }

        private static void AddRules(HostSnapshot s, string backend, string text)
        {
            var b = s.Netfilter.Backend(backend);
            b.Text = (b.Text ?? "") + "\n" + text;
        }

        private const string Ipt = "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n";

        [Fact]
        public void An_IPv4_only_tunnel_gets_no_IPv6_part()
        {
            // the recorded server has IPv6 on the tunnel, but does not forward IPv6 (net.ipv6.conf.all.forwarding = 0)
            var f = Mss(Read());
            Assert.NotNull(f);
            Assert.DoesNotContain("IPv6=true", f.RepairData);
            Assert.DoesNotContain(f.Evidence, e => e.Contains("carries IPv6"));
            Assert.DoesNotContain("ip6tables", RemedyCatalog.Plan(FindingRef.From(f), out _).Display);
        }

        [Fact]
        public void A_tunnel_that_forwards_IPv6_is_clamped_for_IPv6_too()
        {
            var s = Read();
            s.Sysctls.Runtime["net.ipv6.conf.all.forwarding"] = "1";
            var f = Mss(s);
            Assert.Contains("IPv6=true", f.RepairData);
            Assert.Contains(f.Evidence, e => e.Contains("carries IPv6 (address 2001:db8:100::1/64)"));
            var plan = RemedyCatalog.Plan(FindingRef.From(f), out var why);
            Assert.True(plan != null, why);
            Assert.Contains("IPv4 and IPv6", plan.Display);
        }

        [Fact]
        public void An_IPv4_clamp_does_not_cover_an_IPv6_syn()
        {
            var s = WithIPv6Syn();
            AddRules(s, "iptables-nft", Ipt);
            var f = Mss(s);
            Assert.NotNull(f);
            Assert.Contains(f.Evidence, e => e.Contains("2001:db8:100::2 -> 2001:db8:300::7:443") && e.Contains("with MSS 1360"));
            Assert.DoesNotContain(f.Evidence, e => e.Contains("192.0.2.130"));   // the IPv4 SYN is covered
            // an nft table of family ip sees IPv4 only as well
            s = WithIPv6Syn();
            AddRules(s, "nftables", "table ip mine {\n\tchain fwd {\n\t\ttype filter hook forward priority mangle; policy accept;\n\t\ttcp flags syn / syn,rst tcp option maxseg size set rt mtu\n\t}\n}\n");
            Assert.NotNull(Mss(s));
        }

        [Theory]
        [InlineData("ip6tables-nft", "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n", "iptables-nft")]
        [InlineData("nftables", "table inet mine {\n\tchain fwd {\n\t\ttype filter hook forward priority mangle; policy accept;\n\t\ttcp flags syn / syn,rst tcp option maxseg size set rt mtu\n\t}\n}\n", null)]
        public void A_clamp_that_sees_IPv6_covers_the_IPv6_syn(string backend, string text, string v4Backend)
        {
            var s = WithIPv6Syn();
            AddRules(s, backend, text);
            if (v4Backend != null) AddRules(s, v4Backend, Ipt);
            Assert.Null(Mss(s));
        }

        [Fact]
        public void Nft_rules_know_their_family()
        {
            var rules = MssClampRules.FromNft("nftables",
                "table inet t {\n chain f {\n  type filter hook forward priority mangle; policy accept;\n  iifname \"wg0\" meta nfproto ipv6 tcp flags syn / syn,rst tcp option maxseg size > 1340 tcp option maxseg size set 1340\n  tcp option maxseg size set rt mtu\n }\n}\n"
                + "table ip6 u {\n chain f {\n  type filter hook forward priority mangle; policy accept;\n  tcp option maxseg size set rt mtu\n }\n}\n").ToList();
            Assert.Equal(new[] { "ipv6", null, "ipv6" }, rules.Select(r => r.Family).ToArray());
            Assert.Equal("ipv4", MssClampRules.FromIptablesSave("iptables-legacy", Ipt).Single().Family);
            Assert.Equal("ipv6", MssClampRules.FromIptablesSave("ip6tables-legacy", Ipt).Single().Family);
        }

        // ---- the planner, against a runner that records every command ----

        private static FindingRef Finding(params string[] data)
            => new FindingRef { Cause = nameof(Cause.MssClampMissing), Interface = "wg0", CanRepair = true, Severity = "Warning", RepairData = new[] { "Interface=wg0" }.Concat(data).ToArray() };

        private static RecordingRunner Runner(string iptablesSave = "", string ip6tablesSave = "", Func<string, bool> fail = null)
            => new RecordingRunner
            {
                FailWhen = fail ?? (_ => false),
                Answer = l => l == "iptables-nft-save" ? new NativeResult(l, 0, iptablesSave, "", TimeSpan.Zero)
                            : l == "ip6tables-nft-save" ? new NativeResult(l, 0, ip6tablesSave, "", TimeSpan.Zero)
                            : l.StartsWith("nft --echo --handle add rule", StringComparison.Ordinal) ? new NativeResult(l, 0, "add rule inet wgtroubleshoot_mss forward # handle 9\n", "", TimeSpan.Zero)
                            : null,
            };

        private static string[] Changes(RecordingRunner r) => r.Commands.Where(c => c.Contains(" -I ") || c.Contains(" -A ") || c.Contains(" -D ") || c.StartsWith("nft add") || c.StartsWith("nft --echo") || c.StartsWith("nft delete")).ToArray();

        [Fact]
        public void Iptables_backends_clamp_IPv6_with_ip6tables_of_the_same_flavour()
        {
            var r = Runner();
            var records = MssClampRepair.Apply(new RemedyContext(r, null, null), Finding("Backend=iptables-nft", "Mss=1340", "IPv6=true", "Mss6=1320"));
            var ch = Changes(r);
            Assert.Equal(3, ch.Count(c => c.StartsWith("iptables-nft -w 5 -t mangle")));
            Assert.Equal(3, ch.Count(c => c.StartsWith("ip6tables-nft -w 5 -t mangle")));
            Assert.Contains(ch, c => c.StartsWith("ip6tables-nft") && c.Contains("--mss 1321:65535") && c.EndsWith("--set-mss 1320"));
            var rec = records.Single();
            Assert.True(rec.Changed);
            Assert.Equal(6, rec.UndoCommands.Length);
            Assert.Equal(3, rec.UndoCommands.Count(u => u.StartsWith("ip6tables-nft -w 5 -t mangle -D FORWARD")));
        }

        [Fact]
        public void Without_IPv6_no_ip6tables_command_runs()
        {
            var r = Runner();
            MssClampRepair.Apply(new RemedyContext(r, null, null), Finding("Backend=iptables-nft"));
            Assert.Equal(2, Changes(r).Length);
            Assert.DoesNotContain(r.Commands, c => c.StartsWith("ip6tables-nft -w"));
        }

        [Fact]
        public void An_IPv4_clamp_already_there_leaves_only_the_IPv6_steps()
        {
            var r = Runner(iptablesSave: "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -i wg0 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\n-A FORWARD -o wg0 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n");
            MssClampRepair.Apply(new RemedyContext(r, null, null), Finding("Backend=iptables-nft", "IPv6=true"));
            var ch = Changes(r);
            Assert.Equal(2, ch.Length);
            Assert.All(ch, c => Assert.StartsWith("ip6tables-nft -w 5 -t mangle -I FORWARD 1", c));
            // both families covered: nothing runs
            var both = Runner(iptablesSave: "*mangle\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n", ip6tablesSave: "*mangle\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n");
            var rec = MssClampRepair.Apply(new RemedyContext(both, null, null), Finding("Backend=iptables-nft", "IPv6=true")).Single();
            Assert.False(rec.Changed);
            Assert.Empty(Changes(both));
        }

        [Fact]
        public void A_failing_IPv6_step_rolls_back_the_IPv4_ones()
        {
            var r = Runner(fail: l => l.StartsWith("ip6tables-nft -w 5 -t mangle -I FORWARD 1 -o"));
            var ctx = new RemedyContext(r, null, null);
            var ex = Assert.Throws<WgException>(() => MssClampRepair.Apply(ctx, Finding("Backend=iptables-nft", "IPv6=true")));
            Assert.Contains("rolled back", ex.Message);
            var ch = Changes(r);
            foreach (var added in ch.Where(c => c.Contains(" -I FORWARD 1 ") && !c.Contains(" -o wg0") || c.StartsWith("iptables-nft") && c.Contains(" -I ")))
            {
                var undo = added.Replace(" -I FORWARD 1 ", " -D FORWARD ");
                Assert.Contains(undo, ch);
            }
            Assert.Equal(3, ch.Count(c => c.Contains(" -D FORWARD ")));   // two IPv4 and the one IPv6 step that had run
            Assert.False(ctx.Transaction.HasChanges);
        }

        /// <summary>The recording runner on a host without ip6tables.</summary>
        private sealed class NoIp6tablesRunner : INativeRunner
        {
            public RecordingRunner Inner { get; } = new RecordingRunner();
            public NativeResult Run(string tool, System.Collections.Generic.IEnumerable<string> arguments, TimeSpan? timeout = null, string standardInput = null) => Inner.Run(tool, arguments, timeout, standardInput);
            public bool IsAvailable(string tool) => !tool.StartsWith("ip6tables", StringComparison.Ordinal);
            public NativeProcess Start(string tool, System.Collections.Generic.IEnumerable<string> arguments, TimeSpan maxLifetime) => throw new NotSupportedException();
        }

        [Fact]
        public void Without_ip6tables_nothing_is_changed()
        {
            var r = new NoIp6tablesRunner();
            var ex = Assert.Throws<WgException>(() => MssClampRepair.Apply(new RemedyContext(r, null, null), Finding("Backend=iptables-legacy", "IPv6=true")));
            Assert.Equal(ErrorIds.ToolNotInstalled, ex.ErrorId);
            Assert.Contains("ip6tables-legacy", ex.Message);
            Assert.Empty(Changes(r.Inner));
        }

        [Fact]
        public void Nftables_clamps_both_families_from_the_inet_table()
        {
            var r = Runner();
            MssClampRepair.Apply(new RemedyContext(r, null, null), Finding("Backend=nftables", "Mss=1340", "IPv6=true", "Mss6=1320"));
            var rules = r.Commands.Where(c => c.StartsWith("nft --echo --handle add rule inet wgtroubleshoot_mss forward")).ToList();
            Assert.Equal(4, rules.Count);
            Assert.Equal(2, rules.Count(c => c.EndsWith("set rt mtu") && !c.Contains("nfproto")));
            Assert.Contains(rules, c => c.Contains("meta nfproto ipv4") && c.EndsWith("size set 1340"));
            Assert.Contains(rules, c => c.Contains("meta nfproto ipv6") && c.EndsWith("size set 1320"));
            Assert.DoesNotContain(r.Commands, c => c.StartsWith("ip6tables-nft -w"));
        }

        [Fact]
        public void Nftables_with_IPv4_clamped_adds_the_IPv6_rules_only()
        {
            var r = new RecordingRunner
            {
                Answer = l => l == "nft list ruleset"
                    ? new NativeResult(l, 0, "table ip mine {\n\tchain fwd {\n\t\ttype filter hook forward priority mangle; policy accept;\n\t\ttcp flags syn / syn,rst tcp option maxseg size set rt mtu\n\t}\n}\n", "", TimeSpan.Zero)
                    : null,
            };
            MssClampRepair.Apply(new RemedyContext(r, null, null), Finding("Backend=nftables", "IPv6=true"));
            var rules = r.Commands.Where(c => c.StartsWith("nft --echo --handle add rule")).ToList();
            Assert.Equal(2, rules.Count);
            Assert.All(rules, c => Assert.Contains("meta nfproto ipv6", c));
        }
    }
}
