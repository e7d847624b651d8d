using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Config;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Native;
using WgTroubleshoot.Remedies;
using WgTroubleshoot.Remoting;
using WgTroubleshoot.Snapshot;
using WgTroubleshoot.Tests.Config;
using WgTroubleshoot.Tests.Remedies;
using Xunit;

namespace WgTroubleshoot.Tests.Remoting
{
    /// <summary>NoKeepaliveBehindNat through the RemedyCatalog and the one Transaction, verified on a new snapshot.</summary>
    [Collection(nameof(ConfigDirectoryCollection))]
    public sealed class KeepaliveRemedyTests : IDisposable
    {
        private const string Priv = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        private const string Self = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=";
        private const string Peer = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA=";
        private const string Other = "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDA=";
        private readonly string _dir = Corpus.TempDirectory();
        private readonly Func<bool> _privilege;

        // CRLF, a comment and a second peer: every byte but the one new line must stay
        private const string Config =
            "[Interface]\r\n# the client behind the NAT\r\nPrivateKey = " + Priv + "\r\nListenPort = 51820\r\n\r\n" +
            "[Peer]\r\nPublicKey = " + Peer + "\r\nAllowedIPs = 192.0.2.0/24   # server\r\nEndpoint = 203.0.113.2:51820\r\n\r\n" +
            "[Peer]\r\nPublicKey = " + Other + "\r\nAllowedIPs = 198.51.100.7/32\r\n";

        public KeepaliveRemedyTests()
        {
            WgConfigLocation.ConfigDirectory = _dir;
            _privilege = Privilege.Override;
            Privilege.Override = () => true;
        }

        public void Dispose()
        {
            WgConfigLocation.ConfigDirectory = null;
            Privilege.Override = _privilege;
            Directory.Delete(_dir, true);
        }

        private static RecordingRunner Runner(Func<string, bool> fail = null)
            => new RecordingRunner
            {
                Answer = l =>
                    l == "wg show lo dump" ? new NativeResult(l, 0, $"{Priv}\t{Self}\t51820\toff\n{Peer}\t(none)\t203.0.113.2:51820\t192.0.2.0/24\t0\t0\t0\toff\n", "", TimeSpan.Zero)
                    : l == "ip -o link show" ? new NativeResult(l, 0, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n", "", TimeSpan.Zero)
                    : null,
                FailWhen = fail ?? (_ => false),
            };

        private static FindingRef Finding(params string[] data)
            => new FindingRef { Id = "WGD-PEER-NAT-KEEPALIVE", Cause = "NoKeepaliveBehindNat", Interface = "lo", Peer = Peer, CanRepair = true, Severity = "Warning", RepairData = data };

        /// <summary>The new snapshot the verification reads: the live keepalive and the configuration's as given.</summary>
        private SnapshotFindings After(int? live, int? config)
        {
            var i = new InterfaceSnapshot { Name = "lo", Config = new ConfigSnapshot { Path = Path.Combine(_dir, "lo.conf"), Parsed = true } };
            i.Samples.Add(new WgSample { Taken = DateTime.UtcNow, Peers = { new WgPeer { Interface = "lo", PublicKey = Peer, PersistentKeepalive = live } } });
            i.Config.Peers.Add(new ConfigPeerSnapshot { PublicKey = Peer, PersistentKeepalive = config });
            var s = new HostSnapshot { Interfaces = { i } };
            return new SnapshotFindings(s, new Finding[0]);
        }

        [Fact]
        public void The_catalog_plans_it_with_validated_data_and_its_own_policy_kind()
        {
            var plan = RemedyCatalog.Plan(Finding("PublicKey=" + Peer, "Keepalive=25"), out var refusal);
            Assert.NotNull(plan);
            Assert.Null(refusal);
            Assert.Equal(WgTroubleshoot.Remediation.RepairKind.Keepalive, plan.Kind);
            Assert.Equal(WgTroubleshoot.Remediation.RepairKind.Keepalive, RemedyCatalog.KindFor("NoKeepaliveBehindNat"));
            Assert.True(plan.Unattended);
            Assert.False(plan.AwaitsHandshake);
            Assert.Contains("wg set lo peer " + Peer + " persistent-keepalive 25", plan.Display);

            foreach (var bad in new[]
            {
                new[] { "peer=" + Peer, "keepalive=25" },                 // not the catalog's keys
                new[] { "PublicKey=" + Peer },                            // Keepalive required
                new[] { "Keepalive=25" },                                 // PublicKey required
                new[] { "PublicKey=" + Peer, "Keepalive=0" },
                new[] { "PublicKey=" + Peer, "Keepalive=65536" },
                new[] { "PublicKey=" + Peer, "Keepalive=025" },
                new[] { "PublicKey=" + Peer, "Keepalive=25", "Keepalive=25" },
                new[] { "PublicKey=" + Other, "Keepalive=25" },           // another peer than the finding
                new[] { "PublicKey=not-a-key", "Keepalive=25" },
                new[] { "PublicKey=" + Peer, "Keepalive=25", "Interface=wg9" },
            })
                Assert.Null(RemedyCatalog.Plan(Finding(bad), out _));
        }

        [Fact]
        public void The_repair_sets_the_live_keepalive_and_only_that_line_in_the_configuration_and_verifies_on_the_new_snapshot()
        {
            if (!Directory.Exists("/sys/class/net/lo")) return;
            var path = Path.Combine(_dir, "lo.conf");
            File.WriteAllBytes(path, Encoding.UTF8.GetBytes(Config));
            var runner = Runner();
            int calls = 0;
            var repairer = new Repairer(runner, _ => calls++ == 0 ? After(null, null) : After(25, 25));
            var r = repairer.Repair(Finding("PublicKey=" + Peer, "Keepalive=25"));
            Assert.True(r.Verified, r.Error);
            Assert.True(r.Changed);
            Assert.Equal(2, calls);
            Assert.Contains($"wg set lo peer {Peer} persistent-keepalive 25", runner.Commands);
            var expected = Config.Replace("Endpoint = 203.0.113.2:51820\r\n", "Endpoint = 203.0.113.2:51820\r\nPersistentKeepalive = 25\r\n");
            Assert.Equal(expected, Encoding.UTF8.GetString(File.ReadAllBytes(path)));
            Assert.Equal(Config, Encoding.UTF8.GetString(File.ReadAllBytes(path + WgConfigFile.BackupSuffix)));
            Assert.Equal(2, r.Changes.Length);
            Assert.Contains(r.UndoCommands, u => u == $"wg set lo peer {Peer} persistent-keepalive off");
            Assert.Contains(r.UndoCommands, u => u.StartsWith("cp -p "));
        }

        [Fact]
        public void A_keepalive_that_does_not_read_back_rolls_back_both_steps_to_the_bytes_from_before()
        {
            if (!Directory.Exists("/sys/class/net/lo")) return;
            var path = Path.Combine(_dir, "lo.conf");
            File.WriteAllBytes(path, Encoding.UTF8.GetBytes(Config));
            var runner = Runner();
            var repairer = new Repairer(runner, _ => After(null, 25));
            var r = repairer.Repair(Finding("PublicKey=" + Peer, "Keepalive=25"));
            Assert.False(r.Verified);
            Assert.True(r.RolledBack, r.Error);
            Assert.Contains("live keepalive", r.Error);
            Assert.Equal($"wg set lo peer {Peer} persistent-keepalive off", runner.Commands.Last(c => c.StartsWith("wg set")));
            Assert.Equal(Config, Encoding.UTF8.GetString(File.ReadAllBytes(path)));
        }

        [Fact]
        public void A_failing_live_step_changes_nothing()
        {
            if (!Directory.Exists("/sys/class/net/lo")) return;
            var path = Path.Combine(_dir, "lo.conf");
            File.WriteAllBytes(path, Encoding.UTF8.GetBytes(Config));
            var runner = Runner(l => l.StartsWith("wg set"));
            var r = new Repairer(runner, _ => After(null, null)).Repair(Finding("PublicKey=" + Peer, "Keepalive=25"));
            Assert.False(r.Changed);
            Assert.False(r.Verified);
            Assert.Contains("forced failure", r.Error);
            Assert.Equal(Config, Encoding.UTF8.GetString(File.ReadAllBytes(path)));
            Assert.False(File.Exists(path + WgConfigFile.BackupSuffix));
        }

        [Fact]
        public void A_peer_that_is_not_on_the_live_interface_is_not_found_and_nothing_runs()
        {
            if (!Directory.Exists("/sys/class/net/lo")) return;
            var runner = Runner();
            var f = Finding("PublicKey=" + Other, "Keepalive=25");
            f.Peer = Other;
            var r = new Repairer(runner, _ => After(null, null)).Repair(f);
            Assert.False(r.Changed);
            Assert.Contains("has no peer", r.Error);
            Assert.DoesNotContain(runner.Commands, c => c.StartsWith("wg set"));
        }
    }

    /// <summary>The repair sent to another host: findings and results as JSON, read as untrusted input.</summary>
    public sealed class RemoteRepairTests
    {
        private const string Peer = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA=";

        [Fact]
        public void Findings_survive_the_round_trip()
        {
            var f = new FindingRef { Id = "WGD-1", Severity = "Warning", Cause = "NoKeepaliveBehindNat", Interface = "wgc1", Peer = Peer, Remediation = "Set \"it\"\n", CanRepair = true, RepairData = new[] { "PublicKey=" + Peer, "Keepalive=25" } };
            var back = Assert.Single(RemoteRepair.FindingsFromJson(RemoteRepair.FindingsToJson(new[] { f })));
            Assert.Equal(f.Id, back.Id);
            Assert.Equal(f.Cause, back.Cause);
            Assert.Equal(f.Interface, back.Interface);
            Assert.Equal(f.Peer, back.Peer);
            Assert.Equal(f.Remediation, back.Remediation);
            Assert.True(back.CanRepair);
            Assert.Equal(f.RepairData, back.RepairData);
        }

        [Theory]
        [InlineData("")]
        [InlineData("{}")]
        [InlineData("[]")]
        [InlineData("[1]")]
        [InlineData("[{\"Interface\":\"wg0\"}]")]                                                        // no Cause
        [InlineData("[{\"Cause\":\"InterfaceDown\"}]")]                                                  // no Interface
        [InlineData("[{\"Cause\":\"InterfaceDown\",\"Interface\":\"wg0; rm -rf /\"}]")]
        [InlineData("[{\"Cause\":\"InterfaceDown\",\"Interface\":\"..\"}]")]
        [InlineData("[{\"Cause\":\"Interface Down\",\"Interface\":\"wg0\"}]")]
        [InlineData("[{\"Cause\":\"InterfaceDown\",\"Interface\":\"wg0\",\"Script\":\"x\"}]")]            // unknown field
        [InlineData("[{\"Cause\":\"InterfaceDown\",\"Interface\":\"wg0\",\"CanRepair\":\"yes\"}]")]
        [InlineData("[{\"Cause\":\"InterfaceDown\",\"Interface\":\"wg0\",\"Peer\":\"me\"}]")]
        [InlineData("[{\"Cause\":\"InterfaceDown\",\"Interface\":\"wg0\",\"RepairData\":\"Interface=wg0\"}]")]
        [InlineData("[{\"Cause\":\"InterfaceDown\",\"Interface\":\"wg0\",\"RepairData\":[1]}]")]
        [InlineData("[{\"Cause\":\"InterfaceDown\",\"Interface\":\"wg0\",\"RepairData\":[\"Interface=wg0\\n\"]}]")]
        [InlineData("[{\"Cause\":\"InterfaceDown\",\"Interface\":7}]")]
        public void Anything_but_a_list_of_findings_is_refused_before_anything_runs(string json)
        {
            Assert.Throws<ArgumentException>(() => RemoteRepair.FindingsFromJson(json));
            Assert.Throws<ArgumentException>(() => RemoteEndpoint.RepairJson(json));
        }

        [Fact]
        public void Too_many_findings_or_too_long_values_are_refused()
        {
            var one = "{\"Cause\":\"InterfaceDown\",\"Interface\":\"wg0\"}";
            Assert.Single(RemoteRepair.FindingsFromJson("[" + one + "]"));
            Assert.Throws<ArgumentException>(() => RemoteRepair.FindingsFromJson("[" + string.Join(",", Enumerable.Repeat(one, RemoteRepair.MaxFindings + 1)) + "]"));
            Assert.Throws<ArgumentException>(() => RemoteRepair.FindingsFromJson("[{\"Cause\":\"InterfaceDown\",\"Interface\":\"wg0\",\"Remediation\":\"" + new string('x', 5000) + "\"}]"));
            Assert.Throws<ArgumentException>(() => RemoteRepair.FindingsFromJson("[{\"Cause\":\"InterfaceDown\",\"Interface\":\"wg0\",\"RepairData\":[" + string.Join(",", Enumerable.Repeat("\"Interface=wg0\"", 40)) + "]}]"));
        }

        [Fact]
        public void The_entry_point_runs_findings_through_the_catalog_and_answers_with_results_as_JSON()
        {
            // a cause with no automatic repair, and a forged one the catalog refuses: answered, nothing run on this host
            var json = RemoteRepair.FindingsToJson(new[]
            {
                new FindingRef { Id = "a", Cause = "KeyMismatch", Interface = "wg0", Severity = "Error", CanRepair = false, Remediation = "Fix the key." },
                new FindingRef { Id = "b", Cause = "FirewallBlocksPort", Interface = "wg0", Severity = "Error", CanRepair = true, RepairData = new[] { "Backend=nftables;flush" } },
            });
            var answer = RemoteEndpoint.RepairJson(json);
            var results = RemoteRepair.ResultsFromJson(answer, out var warnings);
            Assert.Equal(2, results.Count);
            Assert.Equal("a", results[0].FindingId);
            Assert.True(Repairer.NeedsHuman(results[0]));
            Assert.Contains("refused", results[1].Error);
            Assert.All(results, r => Assert.False(r.Changed));
            Assert.Empty(warnings);
        }

        [Fact]
        public void Results_survive_the_round_trip_and_a_foreign_answer_is_refused()
        {
            var r = new RepairResult
            {
                FindingId = "x", Cause = "InterfaceDown", Interface = "wg0", Action = "ip link set dev wg0 up", Changed = true, Verified = true, Before = "down", After = "up",
                UndoCommands = new[] { "ip link set dev wg0 down" },
                Changes = new[] { new ChangeRecord { Target = "wg0", Action = "Bring the interface up", Changed = true, Commands = new[] { "ip link set dev wg0 up" }, UndoCommands = new[] { "ip link set dev wg0 down" } } },
            };
            var back = Assert.Single(RemoteRepair.ResultsFromJson(RemoteRepair.ResultsToJson(new[] { r }, new[] { "w" }), out var warnings));
            Assert.Equal(new[] { "w" }, warnings);
            Assert.True(back.Verified);
            Assert.True(back.Changed);
            Assert.Equal(r.UndoCommands, back.UndoCommands);
            Assert.Equal("ip link set dev wg0 up", Assert.Single(back.Changes).Commands.Single());
            Assert.ThrowsAny<Exception>(() => RemoteRepair.ResultsFromJson("[\"not the module's answer\"]", out _));
            Assert.ThrowsAny<Exception>(() => RemoteRepair.ResultsFromJson("{\"Results\":[{\"Verified\":true,\"Changes\":[7]}]}", out _));
        }

        private static string RepoRoot()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !Directory.Exists(Path.Combine(dir.FullName, "src", "WgTroubleshoot"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("no repository root above " + AppContext.BaseDirectory);
        }

        [Fact]
        public void No_cmdlet_is_invoked_by_name_and_the_one_PowerShell_object_is_the_remote_transport()
        {
            var src = Path.Combine(RepoRoot(), "src");
            var files = Directory.GetFiles(src, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar)).ToList();
            Assert.True(files.Count > 50);
            var creates = files.Where(f => File.ReadAllText(f).Contains("PowerShell.Create(")).Select(f => Path.GetFileName(f)).ToList();
            Assert.Equal(new[] { "RemoteScripts.cs" }, creates);
            Assert.Single(Regex.Matches(File.ReadAllText(files.Single(f => f.EndsWith("RemoteScripts.cs"))), @"PowerShell\.Create\("));
            Assert.DoesNotContain(files, f => Regex.IsMatch(File.ReadAllText(f), @"\.AddCommand\(|InvokeCommand\.InvokeScript\(|\.GetSteppablePipeline\(|\.GetPowerShell\(|\.CreatePipeline\("));
            // the remote scripts call static entry points only: no command (Verb-Noun) and no module-qualified name in them
            foreach (var script in new[] { RemoteScripts.Facts, RemoteScripts.Capture, RemoteScripts.StartCapture, RemoteScripts.FinishCapture, RemoteScripts.Repair })
            {
                Assert.DoesNotMatch(@"\b[A-Z][a-z]+-[A-Z][A-Za-z]+\b", script);
                Assert.DoesNotContain("\\", script.Replace("\\n", ""));
                Assert.Matches(@"\[WgTroubleshoot\.Remoting\.RemoteEndpoint\]::\w+\(", script);
            }
        }
    }
}
