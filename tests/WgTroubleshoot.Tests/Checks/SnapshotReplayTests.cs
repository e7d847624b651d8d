using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using WgTroubleshoot.Checks;
using WgTroubleshoot.Snapshot;
using Xunit;

namespace WgTroubleshoot.Tests.Checks
{
    /// <summary>Every snapshot recorded in the lab (tests/lab/Record-Snapshots.ps1) replays to the Cause the lab scenario gives, without root.</summary>
    public class SnapshotReplayTests
    {
        internal static string Dir => Path.Combine(AppContext.BaseDirectory, "Corpus", "snapshots");

        internal static Dictionary<string, string> Expected()
            => File.ReadAllLines(Path.Combine(Dir, "expected.txt"))
                   .Where(l => l.Length > 0 && !l.StartsWith("#", StringComparison.Ordinal))
                   .Select(l => l.Split(' '))
                   .ToDictionary(p => p[0], p => p[1]);

        public static IEnumerable<object[]> Fixtures => Expected().Select(kv => new object[] { kv.Key, kv.Value });

        [Fact]
        public void EveryFixtureHasAnExpectationAndTheOtherWayRound()
        {
            var files = Directory.GetFiles(Dir, "*.json").Select(Path.GetFileName).OrderBy(n => n).ToList();
            Assert.NotEmpty(files);
            Assert.Equal(files, Expected().Keys.OrderBy(n => n).ToList());
        }

        [Theory]
        [MemberData(nameof(Fixtures))]
        public void ReplaysToTheLabCause(string file, string cause)
        {
            var findings = HostDiagnosis.Replay(Path.Combine(Dir, file));
            Assert.NotEmpty(findings);
            Assert.True(findings[0].Cause == cause, $"{file}: expected {cause}, got:\n" + string.Join("\n", findings.Select(f => f.ToString())));
            if (cause == "Healthy") Assert.DoesNotContain(findings, f => Diagnoser.Rank(f.Severity) > 0);
            else Assert.Contains(findings[0].Severity, new[] { "Error", "Warning" });
            Assert.All(findings, f => Assert.NotNull(f.Interface));
        }

        [Theory]
        [MemberData(nameof(Fixtures))]
        public void RoundTripsWithoutChange(string file, string cause)
        {
            var snap = SnapshotJson.ReadFile(Path.Combine(Dir, file));
            var again = SnapshotJson.Read(SnapshotJson.Write(snap));
            Assert.Equal(SnapshotJson.Write(snap), SnapshotJson.Write(again));
            Assert.Equal(new Diagnoser().Diagnose(snap).Select(f => f.Cause + f.Summary), new Diagnoser().Diagnose(again).Select(f => f.Cause + f.Summary));
            Assert.NotNull(cause);
        }

        /// <summary>
        /// No secret in a fixture: every token that decodes as a 32-byte key (base64 or hex) is a public key the
        /// snapshot names as one (an interface's or a peer's). A lab private or preshared key would not be.
        /// </summary>
        [Theory]
        [MemberData(nameof(Fixtures))]
        public void HoldsNoKeyButPublicOnes(string file, string cause)
        {
            var text = File.ReadAllText(Path.Combine(Dir, file));
            var snap = SnapshotJson.Read(text);
            var publicKeys = new HashSet<string>(StringComparer.Ordinal);
            foreach (var i in snap.Interfaces)
            {
                foreach (var s in i.Samples)
                {
                    publicKeys.Add(s.Interface.PublicKey);
                    foreach (var p in s.Peers) publicKeys.Add(p.PublicKey);
                }
                foreach (var c in new[] { i.Config, i.PeerConfig }.Where(c => c != null))
                {
                    publicKeys.Add(c.PublicKey);
                    foreach (var p in c.Peers) publicKeys.Add(p.PublicKey);
                }
            }
            publicKeys.Remove(null);
            Assert.NotEmpty(publicKeys);
            var hexOfPublic = new HashSet<string>(publicKeys.Select(k => BitConverter.ToString(Convert.FromBase64String(k)).Replace("-", "").ToLowerInvariant()));
            foreach (Match m in Regex.Matches(text, @"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]="))
                Assert.True(publicKeys.Contains(m.Value), $"{file}: a 32-byte base64 value that is not a public key of the snapshot: {m.Value.Substring(0, 6)}…");
            foreach (Match m in Regex.Matches(text, @"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])"))
                Assert.True(hexOfPublic.Contains(m.Value.ToLowerInvariant()), $"{file}: a 32-byte hex value that is not a public key: {m.Value.Substring(0, 6)}…");
            Assert.DoesNotMatch("\"(PrivateKey|PresharedKey)\"\\s*:", text);
            Assert.NotNull(cause);
        }
    }
}
