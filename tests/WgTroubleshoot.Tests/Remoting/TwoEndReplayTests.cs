using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using WgTroubleshoot.Remoting;
using Xunit;

namespace WgTroubleshoot.Tests.Remoting
{
    /// <summary>
    /// Both ends of the lab tunnel as the remote entry points returned them (RemoteEndpoint.CollectFactsJson, the
    /// captures of both listen ports in one window), recorded by tests/lab/Record-TwoEndFixtures.ps1 with a two-end
    /// fault on the router, judged here the way Invoke-WgDiagnosis -PeerSession judges them (PeerJudge.Pair, then
    /// PeerJudge.Judge from the end it runs on): the Cause is the one the lab gives (Corpus/twoend/expected.txt).
    /// </summary>
    public class TwoEndReplayTests
    {
        private static string Dir => Path.Combine(AppContext.BaseDirectory, "Corpus", "twoend");

        public static IEnumerable<object[]> Cases()
            => File.ReadAllLines(Path.Combine(Dir, "expected.txt"))
                   .Where(l => l.Length > 0 && !l.StartsWith("#", StringComparison.Ordinal))
                   .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                   .Select(p => new object[] { p[0], p[1], p[2], p[3] });

        private static string Other(string end) => end == "client" ? "server" : "client";

        /// <summary>What the cmdlet does with the two answers: hosts named as the user sees them, the interfaces paired, judged.</summary>
        internal static List<JudgedFinding> JudgeFrom(string fault, string from)
        {
            string to = Other(from);
            var local = EndFacts.FromJson(File.ReadAllText(Path.Combine(Dir, fault, from + "-facts.json")));
            var remote = EndFacts.FromJson(File.ReadAllText(Path.Combine(Dir, fault, to + "-facts.json")));
            var lc = CaptureFacts.FromJson(File.ReadAllText(Path.Combine(Dir, fault, from + "-capture.json")));
            var rc = CaptureFacts.FromJson(File.ReadAllText(Path.Combine(Dir, fault, to + "-capture.json")));
            local.HostName = "this host (" + local.HostName + ")";
            remote.HostName = to;
            lc.HostName = local.HostName;
            rc.HostName = to;
            var li = Assert.Single(local.Interfaces);
            var ri = PeerJudge.Pair(li, remote);
            Assert.NotNull(ri);
            return PeerJudge.Judge(local, li, remote, ri, lc, rc);
        }

        [Fact]
        public void EveryRecordedCaseHasAnExpectation()
        {
            var dirs = Directory.GetDirectories(Dir).Select(Path.GetFileName).OrderBy(n => n).ToList();
            Assert.NotEmpty(dirs);
            Assert.Equal(dirs, Cases().Select(c => (string)c[0]).Distinct().OrderBy(n => n).ToList());
            foreach (var d in dirs)
                foreach (var f in new[] { "client-facts.json", "server-facts.json", "client-capture.json", "server-capture.json" })
                    Assert.True(File.Exists(Path.Combine(Dir, d, f)), $"{d}/{f} is missing");
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void ReplaysThroughPeerJudgeToTheLabCause(string fault, string from, string cause, string where)
        {
            var judged = JudgeFrom(fault, from);
            var text = string.Join("\n", judged.Select(j => j.ToString()));
            var f = judged.FirstOrDefault(j => j.Finding.Cause == cause);
            Assert.True(f != null, $"{fault} from the {from}: no {cause} in\n{text}");
            Assert.NotEmpty(f.Finding.Evidence);
            Assert.DoesNotContain(judged, j => j.Finding.Cause == "KeyMismatch" || j.Finding.Cause == "PresharedKeyMismatch" || j.Finding.Cause == "CheckNotRun");
            if (where == "top") Assert.True(judged[0] == f, $"{fault} from the {from}: {cause} is not the first finding:\n{text}");
        }

        [Theory]
        [InlineData("client")]
        [InlineData("server")]
        public void AnUpstreamDropNamesTheSegmentBetweenTheUplinks(string from)
        {
            var top = JudgeFrom("UpstreamDrop", from)[0].Finding;
            Assert.Equal("UpstreamFilter", top.Cause);
            Assert.Equal("Error", top.Severity);
            Assert.Contains(top.Evidence, e => e.StartsWith("segment: from the uplink", StringComparison.Ordinal));
            Assert.Contains(top.Evidence, e => e.Contains("198.51.100.2"));
            Assert.Contains(top.Evidence, e => e.Contains("received nothing on UDP 51820"));
        }

        [Fact]
        public void AReturnPathDropIsNotAnUpstreamFilter()
        {
            var judged = JudgeFrom("ReturnPathDrop", "client");
            var top = judged[0].Finding;
            Assert.Equal("ReturnPathBlocked", top.Cause);
            Assert.Contains(top.Evidence, e => e.Contains("Response"));
            Assert.DoesNotContain(judged, j => j.Finding.Cause == "UpstreamFilter");
        }

        [Fact]
        public void TheClientBehindNatWithoutKeepaliveIsRepairedOnThePeer()
        {
            var judged = JudgeFrom("NatNoKeepalive", "server");
            var n = Assert.Single(judged, j => j.Finding.Cause == "NoKeepaliveBehindNat");
            Assert.True(n.OnPeer);
            // the server's packets to the forgotten mapping never arrive: the NAT is the cause, not a filter of its own
            Assert.Equal("Error", n.Finding.Severity);
            Assert.Same(n, judged[0]);
            Assert.DoesNotContain(judged, j => j.Finding.Cause == "UpstreamFilter");
            Assert.Contains(n.Finding.Evidence, e => e.Contains("no longer maps"));
            Assert.StartsWith("wgc", n.Finding.Interface, StringComparison.Ordinal);
            Assert.True(n.Finding.CanRepair);
            Assert.Contains("Keepalive=25", n.Finding.RepairData);
            Assert.Contains(n.Finding.Evidence, e => e.Contains("sees the peer at 203.0.113.1:"));
        }

        [Fact]
        public void WithTheClientsKeepaliveOnThereIsNoNatFinding()
        {
            // the same recorded ends, the client's keepalive set: the judge follows the fact, not the lab
            var local = EndFacts.FromJson(File.ReadAllText(Path.Combine(Dir, "NatNoKeepalive", "server-facts.json")));
            var remote = EndFacts.FromJson(File.ReadAllText(Path.Combine(Dir, "NatNoKeepalive", "client-facts.json")));
            foreach (var p in remote.Interfaces.SelectMany(i => i.Peers)) p.PersistentKeepalive = 25;
            var li = local.Interfaces[0];
            Assert.DoesNotContain(PeerJudge.Judge(local, li, remote, PeerJudge.Pair(li, remote), null, null), j => j.Finding.Cause == "NoKeepaliveBehindNat");
        }

        [Fact]
        public void TheFixturesHoldPublicKeysAndHashesOnly()
        {
            foreach (var d in Directory.GetDirectories(Dir))
            {
                var facts = new[] { "client", "server" }.Select(e => EndFacts.FromJson(File.ReadAllText(Path.Combine(d, e + "-facts.json")))).ToList();
                var publicKeys = new HashSet<string>(facts.SelectMany(f => f.Interfaces).SelectMany(i => new[] { i.PublicKey }.Concat(i.Peers.Select(p => p.PublicKey))), StringComparer.Ordinal);
                Assert.NotEmpty(publicKeys);
                foreach (var file in Directory.GetFiles(d, "*.json"))
                {
                    var text = File.ReadAllText(file);
                    foreach (Match m in Regex.Matches(text, @"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]="))
                        Assert.True(publicKeys.Contains(m.Value), $"{file}: a 32-byte base64 value that is not a public key");
                    Assert.DoesNotMatch(@"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])", text);
                    Assert.DoesNotMatch("\"(PrivateKey|PresharedKey)\"\\s*:", text);
                }
                foreach (var p in facts.SelectMany(f => f.Interfaces).SelectMany(i => i.Peers).Where(p => p.PresharedKeyHash != null))
                    Assert.Matches("^[0-9a-f]{32}$", p.PresharedKeyHash);
            }
        }
    }
}
