using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Lint;
using Xunit;
using static WgTroubleshoot.Tests.Lint.LintSamples;

namespace WgTroubleshoot.Tests.Lint
{
    public class ConfigLinterTests
    {
        /// <summary>The lines of a file, numbered from 1 in the order given.</summary>
        private static string L(params string[] lines) => string.Join("\n", lines) + "\n";

        private const string Iface = "[Interface]";
        private const string Peer = "[Peer]";
        private static string Priv(string k = LaptopPrivate) => "PrivateKey = " + k;
        private static string Pub(string k) => "PublicKey = " + k;

        /// <summary>Id, severity, line, configuration: each rule fires on a file made for it.</summary>
        public static readonly TheoryData<string, Severity, int?, string> Cases = new TheoryData<string, Severity, int?, string>
        {
            { "WG1001", Severity.Error, 4, L(Iface, Priv(), "Address = 10.8.0.2/32", "Bogus = 1") },
            { "WG1002", Severity.Error, 5, L(Iface, Priv(), "Address = 10.8.0.2/32", Peer, "PublicKey = notakey=", "AllowedIPs = 10.8.0.1/32") },
            { "WG1003", Severity.Error, 1, L(Iface, "Address = 10.8.0.2/32", "ListenPort = 51820", Peer, Pub(ServerPublic), "AllowedIPs = 10.8.0.1/32") },
            { "WG1004", Severity.Error, 6, L(Iface, Priv(ServerPrivate), "Address = 10.8.0.1/24", "ListenPort = 51820", Peer, Pub(ServerPublic), "AllowedIPs = 10.8.0.2/32") },
            { "WG1005", Severity.Error, 8, L(Iface, Priv(ServerPrivate), "Address = 10.8.0.1/24", "ListenPort = 51820", Peer, Pub(LaptopPublic), "AllowedIPs = 10.8.0.2/32", Peer, Pub(LaptopPublic), "AllowedIPs = 10.8.0.3/32") },
            { "WG1006", Severity.Error, 10, L(Iface, Priv(ServerPrivate), "Address = 10.8.0.1/24", "ListenPort = 51820", Peer, Pub(LaptopPublic), "AllowedIPs = 10.8.0.2/32", Peer, Pub(PhonePublic), "AllowedIPs = 10.8.0.3/32, 10.8.0.2/32") },
            { "WG1007", Severity.Info, 10, L(Iface, Priv(), "Address = 10.8.0.2/32", Peer, Pub(ServerPublic), "Endpoint = 203.0.113.10:51820", "AllowedIPs = 0.0.0.0/0", "PersistentKeepalive = 25", Peer, "AllowedIPs = 10.20.0.0/16", Pub(PhonePublic), "Endpoint = 198.51.100.5:51820", "PersistentKeepalive = 25") },
            { "WG1008", Severity.Warning, 7, L(Iface, Priv(ServerPrivate), "Address = 10.8.0.1/24", "ListenPort = 51820", Peer, Pub(LaptopPublic), "AllowedIPs = 10.8.0.0/24") },
            { "WG1009", Severity.Warning, 7, L(Iface, Priv(), "Address = 10.8.0.2/32", Peer, Pub(ServerPublic), "Endpoint = 203.0.113.10:51820", "AllowedIPs = 192.0.2.5/24", "PersistentKeepalive = 25") },
            { "WG1010", Severity.Error, 1, L(Iface, Priv(), "Address = 10.8.0.2/32", Peer, Pub(ServerPublic), "AllowedIPs = 10.8.0.1/32") },
            { "WG1011", Severity.Info, 6, L(Iface, Priv(), "Address = 10.8.0.2/32", Peer, Pub(ServerPublic), "Endpoint = 203.0.113.10:51820", "AllowedIPs = 10.8.0.0/24") },
            { "WG1013", Severity.Warning, 4, L(Iface, Priv(), "Address = 10.8.0.2/32", "SaveConfig = true", Peer, Pub(ServerPublic), "Endpoint = vpn.example.com:51820", "AllowedIPs = 10.8.0.0/24", "PersistentKeepalive = 25") },
            { "WG1014", Severity.Warning, 5, L(Iface, Priv(ServerPrivate), "Address = 10.8.0.1/24", "ListenPort = 51820", Peer, Pub(LaptopPublic)) },
            { "WG1016", Severity.Warning, 1, L(Iface, Priv(ServerPrivate), "ListenPort = 51820", Peer, Pub(LaptopPublic), "AllowedIPs = 10.8.0.2/32") },
            { "WG1017", Severity.Warning, 4, L(Iface, Priv(ServerPrivate), "Address = 10.8.0.1/24", "MTU = 1500", "ListenPort = 51820", Peer, Pub(LaptopPublic), "AllowedIPs = 10.8.0.2/32") },
            { "WG1017", Severity.Warning, 3, L(Iface, Priv(ServerPrivate), "MTU = 1000", "Address = 10.8.0.1/24", "ListenPort = 51820", Peer, Pub(LaptopPublic), "AllowedIPs = 10.8.0.2/32") },
            { "WG1017", Severity.Info, 2, L(Iface, "MTU = 1440", Priv(ServerPrivate), "Address = 10.8.0.1/24", "ListenPort = 51820", Peer, Pub(LaptopPublic), "AllowedIPs = 10.8.0.2/32") },
            { "WG1019", Severity.Warning, 4, L(Iface, Priv(), "Address = 10.8.0.2/32", "Table = off", Peer, Pub(ServerPublic), "Endpoint = 203.0.113.10:51820", "AllowedIPs = 0.0.0.0/0", "PersistentKeepalive = 25") },
            { "WG1021", Severity.Warning, 6, L(Iface, Priv(), "Address = 10.8.0.2/32", Peer, Pub(ServerPublic), "Endpoint = 010.0.0.1:51820", "AllowedIPs = 10.8.0.0/24", "PersistentKeepalive = 25") },
            { "WG1020", Severity.Error, 6, L(Iface, Priv(ServerPrivate), "Address = 10.8.0.1/24", "ListenPort = 51820", Peer, Pub(ServerPrivate), "AllowedIPs = 10.8.0.2/32") },
        };

        [Theory]
        [MemberData(nameof(Cases))]
        public void EachRuleFiresOnAFileMadeForIt(string id, Severity severity, int? line, string config)
        {
            var findings = LintText(config);
            var f = Assert.Single(findings, x => x.Id == id);
            Assert.Equal((severity).ToString(), f.Severity);
            Assert.Equal(line, f.Line);
            Assert.Equal("/etc/wireguard/wg0.conf", f.File);
            Assert.Equal("wg0", f.Interface);
            Assert.False(string.IsNullOrWhiteSpace(f.Message));
            Assert.False(string.IsNullOrWhiteSpace(f.Fix));
            AssertNoSecret(findings);
        }

        [Fact]
        public void ARuleThatManyPeersShareIsOneFindingWithEveryPeer()
        {
            // A hub of 40 peers with endpoints and no ListenPort: WG1011 for each, folded into one.
            var lines = new List<string> { Iface, Priv(ServerPrivate), "Address = 10.8.0.1/24" };
            var keys = new List<string>();
            for (int i = 0; i < 40; i++)
            {
                var key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(b => (byte)(b * 7 + i + 1)).ToArray());
                keys.Add(key);
                lines.AddRange(new[] { Peer, Pub(key), $"AllowedIPs = 10.8.{i / 200}.{i % 200 + 2}/32", $"Endpoint = 198.51.100.{i % 250 + 1}:51820" });
            }
            var findings = LintText(L(lines.ToArray()));
            var f = Assert.Single(findings, x => x.Id == "WG1011");
            Assert.Null(f.Peer);
            Assert.Equal(keys, f.Peers);
            Assert.Equal(40, f.Lines.Length);
            Assert.Equal(40, f.Items.Length);
            Assert.Equal(f.Lines[0], f.Line);
            Assert.StartsWith("40 peers have this finding (", f.Message);
            Assert.Contains("and 35 more", f.Message);
            AssertNoSecret(findings);
            // one peer alone is not folded
            var one = Assert.Single(LintText(L(Iface, Priv(), "Address = 10.8.0.2/32", Peer, Pub(ServerPublic), "Endpoint = 203.0.113.10:51820", "AllowedIPs = 10.8.0.0/24")), x => x.Id == "WG1011");
            Assert.Equal(ServerPublic, one.Peer);
            Assert.Empty(one.Peers);
        }

        [Fact]
        public void FileReadableByOthersIsAWholeFileFinding()
        {
            var findings = LintText(Laptop, new FakeEnvironment { Mode = 0x1A4 }); // 0644
            var f = Assert.Single(findings);
            Assert.Equal("WG1012", f.Id);
            Assert.Equal((Severity.Warning).ToString(), f.Severity);
            Assert.Null(f.Line);
            Assert.Equal("chmod 600 '/etc/wireguard/wg0.conf'", f.Fix);
            Assert.Contains("0644", f.Message);
        }

        [Fact]
        public void DnsWithoutResolvconfIsInfo()
        {
            var f = Assert.Single(LintText(Laptop, new FakeEnvironment { HasResolvconf = false }));
            Assert.Equal("WG1018", f.Id);
            Assert.Equal((Severity.Info).ToString(), f.Severity);
            Assert.Equal(4, f.Line);
        }

        [Fact]
        public void ListenPortUsedByTwoFilesIsFoundOnTheLaterFile()
        {
            var linter = new ConfigLinter();
            Assert.Empty(linter.Lint(File(Server, "wg0.conf")));
            Assert.Empty(linter.Lint(File(SiteB, "site.conf")));
            var findings = linter.Lint(File(SiteA, "wg1.conf")).ToList();
            var f = Assert.Single(findings);
            Assert.Equal("WG1015", f.Id);
            Assert.Equal((Severity.Error).ToString(), f.Severity);
            Assert.Equal(4, f.Line);
            Assert.Contains("/etc/wireguard/wg0.conf (line 3)", f.Message);
            Assert.Equal("ListenPort = 51822 (and update the Endpoint port on this interface's peers)", f.Fix); // 51820 and 51821 are taken
        }

        [Fact]
        public void EveryRuleHasATest()
        {
            var tested = Cases.Select(c => (string)c[0]).Concat(new[] { "WG1012", "WG1015", "WG1018" });
            Assert.Equal(ConfigLinter.Rules.Select(r => r.Id).OrderBy(i => i), tested.Distinct().OrderBy(i => i));
            Assert.Equal(ConfigLinter.Rules.Length, ConfigLinter.Rules.Select(r => r.Id).Distinct().Count());
        }

        [Theory]
        [InlineData(Server)]
        [InlineData(Laptop)]
        [InlineData(SiteA)]
        [InlineData(SiteB)]
        public void CleanConfigurationsHaveNoFindings(string config)
        {
            Assert.Empty(LintText(config));
        }

        [Fact]
        public void AParseErrorOnAKeyLineIsReportedOnceAsAMalformedKey()
        {
            var findings = LintText(L(Iface, "PrivateKey = abc", "Address = 10.8.0.2/32", Peer, "PublicKey = " + ServerPublic.Substring(1), "AllowedIPs = 10.8.0.1/32"));
            Assert.Equal(new[] { ("WG1002", 2), ("WG1002", 5) }, findings.Select(f => (f.Id, f.Line.Value)));
        }

        [Fact]
        public void MalformedKeysAreNeverShown()
        {
            var almost = LaptopPrivate.Substring(0, 43) + "x";
            var findings = LintText(L(Iface, "PrivateKey = " + almost, "Address = 10.8.0.2/32"));
            var f = Assert.Single(findings);
            Assert.Equal("WG1002", f.Id);
            Assert.DoesNotContain(almost, f.Message + f.Fix);
        }

        [Fact]
        public void PrivateKeyPastedAsPeerKeyIsNotShownAnywhere()
        {
            var findings = LintText(L(Iface, Priv(ServerPrivate), "Address = 10.8.0.1/24", "ListenPort = 51820", Peer, Pub(ServerPrivate), "AllowedIPs = 10.8.0.0/24"));
            Assert.Contains(findings, f => f.Id == "WG1020");
            Assert.Contains(findings, f => f.Id == "WG1008");
            Assert.All(findings, f => Assert.Null(f.Peer));
            AssertNoSecret(findings);
            Assert.DoesNotContain(findings, f => (f.Message + f.Fix).Contains(ServerPrivate.Substring(0, 8)));
        }

        [Fact]
        public void IdenticalPrefixesAreComparedAfterMasking()
        {
            var findings = LintText(L(Iface, Priv(), "Address = 10.8.0.2/32", Peer, Pub(ServerPublic), "Endpoint = 203.0.113.10:51820", "AllowedIPs = 192.0.2.0/24", "PersistentKeepalive = 25",
                Peer, Pub(PhonePublic), "Endpoint = 198.51.100.5:51820", "AllowedIPs = 192.0.2.9/24", "PersistentKeepalive = 25"));
            Assert.Equal(new[] { "WG1006", "WG1009" }, findings.Select(f => f.Id).OrderBy(i => i));
            var dup = findings.Single(f => f.Id == "WG1006");
            Assert.Equal(PhonePublic, dup.Peer);
            Assert.Contains("gives it to the later peer", dup.Message);
            Assert.Contains("AllowedIPs = (nothing left: remove the line)", dup.Fix);
            Assert.Equal("Write 192.0.2.0/24 instead of 192.0.2.9/24 (or 192.0.2.9/32 if one address was meant)", findings.Single(f => f.Id == "WG1009").Fix);
        }

        [Fact]
        public void DuplicatePeerFixMergesTheAllowedIps()
        {
            var f = LintText((string)Cases.First(c => (string)c[0] == "WG1005")[3]).Single(x => x.Id == "WG1005");
            Assert.Equal("Merge the sections into one [Peer] with AllowedIPs = 10.8.0.2/32, 10.8.0.3/32", f.Fix);
            Assert.Equal(LaptopPublic, f.Peer);
        }

        [Fact]
        public void ServerPeerWithHostBitsSuggestsTheHostRoute()
        {
            var findings = LintText(L(Iface, Priv(ServerPrivate), "Address = 10.8.0.1/24", "ListenPort = 51820", Peer, Pub(LaptopPublic), "AllowedIPs = 10.8.0.2/24"));
            var f = findings.Single(x => x.Id == "WG1008");
            Assert.StartsWith("AllowedIPs = 10.8.0.2/32", f.Fix);
            Assert.Contains("site-to-site", f.Message);
        }

        [Fact]
        public void NestedIPv6PrefixesAreFoundLikeIPv4()
        {
            var findings = LintText(L(Iface, Priv(), "Address = fd00:8::2/128", Peer, Pub(ServerPublic), "Endpoint = [2001:db8::1]:51820", "AllowedIPs = ::/0", "PersistentKeepalive = 25",
                Peer, Pub(PhonePublic), "Endpoint = [2001:db8::2]:51820", "AllowedIPs = 2001:db8:5::/48", "PersistentKeepalive = 25"));
            var f = Assert.Single(findings);
            Assert.Equal("WG1007", f.Id);
            Assert.Equal(12, f.Line);
        }

        internal static void AssertNoSecret(IEnumerable<ConfigFinding> findings)
        {
            foreach (var f in findings)
                foreach (var s in Secrets)
                    Assert.DoesNotContain(s, string.Join("|", f.Id, f.Message, f.Fix, f.Peer, f.File, f.Interface));
        }
    }
}
