using System.Linq;
using WgTroubleshoot.Keys;
using WgTroubleshoot.Lint;
using Xunit;
using static WgTroubleshoot.Tests.Lint.LintSamples;

namespace WgTroubleshoot.Tests.Lint
{
    public class PeerConfigComparerTests
    {
        private static System.Collections.Generic.IList<ConfigFinding> Compare(string a, string b)
        {
            var findings = PeerConfigComparer.Compare(File(a, "server.conf"), File(b, "laptop.conf"));
            ConfigLinterTests.AssertNoSecret(findings);
            return findings;
        }

        [Fact]
        public void TheSampleKeysAreRealKeyPairs()
        {
            Assert.Equal(ServerPublic, WgKey.PublicFromPrivate(ServerPrivate));
            Assert.Equal(LaptopPublic, WgKey.PublicFromPrivate(LaptopPrivate));
            Assert.Equal(SiteAPublic, WgKey.PublicFromPrivate(SiteAPrivate));
            Assert.Equal(SiteBPublic, WgKey.PublicFromPrivate(SiteBPrivate));
        }

        [Fact]
        public void MatchingEndsHaveNoFindings()
        {
            Assert.Empty(Compare(Server, Laptop));
            Assert.Empty(Compare(Laptop, Server));
            Assert.Empty(PeerConfigComparer.Compare(File(SiteA, "a.conf"), File(SiteB, "b.conf")));
        }

        [Fact]
        public void AWrongPeerKeyNamesTheSideAndTheRightKey()
        {
            var f = Assert.Single(Compare(Server.Replace(LaptopPublic, OtherPublic), Laptop));
            Assert.Equal("WG2001", f.Id);
            Assert.Equal((Cause.KeyMismatch).ToString(), f.Cause);
            Assert.Equal((Severity.Error).ToString(), f.Severity);
            Assert.Equal("/etc/wireguard/server.conf", f.File);
            Assert.Equal(8, f.Line);
            Assert.Equal(OtherPublic, f.Peer);
            Assert.Equal($"PublicKey = {LaptopPublic} (line 8 of server.conf)", f.Fix);
            Assert.Contains("server.conf has the wrong key for laptop.conf", f.Message);
        }

        [Fact]
        public void TheClientSideKeyIsCheckedToo()
        {
            var f = Assert.Single(Compare(Server, Laptop.Replace(ServerPublic, OtherPublic)));
            Assert.Equal("WG2001", f.Id);
            Assert.Equal("/etc/wireguard/laptop.conf", f.File);
            Assert.Equal(8, f.Line);
            Assert.StartsWith($"PublicKey = {ServerPublic}", f.Fix);
        }

        [Fact]
        public void AMissingPeerSaysWhatToAdd()
        {
            // The server's only peers are the phone and someone else; neither covers the laptop's address.
            var server = Server.Replace(LaptopPublic, OtherPublic).Replace("10.8.0.2/32, fd00:8::2/128", "10.8.0.4/32");
            var findings = Compare(server, Laptop);
            var f = Assert.Single(findings, x => x.Id == "WG2002");
            Assert.Equal((Cause.KeyMismatch).ToString(), f.Cause);
            Assert.Equal(1, f.Line);
            Assert.Equal($"Add to server.conf: [Peer] PublicKey = {LaptopPublic} AllowedIPs = 10.8.0.2/32, fd00:8::2/128", f.Fix);
        }

        [Fact]
        public void PresharedKeysThatDifferAreNamedButNeverShown()
        {
            var f = Assert.Single(Compare(Server, Laptop.Replace(Psk1, Psk2)));
            Assert.Equal("WG2003", f.Id);
            Assert.Equal((Cause.PresharedKeyMismatch).ToString(), f.Cause);
            Assert.Equal(9, f.Line);
            Assert.Contains("differ", f.Message);
        }

        [Fact]
        public void APresharedKeyOnOneSideOnlyIsAMismatch()
        {
            var laptop = Laptop.Replace("PresharedKey = " + Psk1 + "\n", "");
            var f = Assert.Single(Compare(Server, laptop));
            Assert.Equal("WG2003", f.Id);
            Assert.Contains("Only server.conf's", f.Message);
            Assert.Contains("into laptop.conf's [Peer] at line 7", f.Fix);
        }

        [Fact]
        public void AWrongEndpointPortIsAPortMismatchWithTheEndpointToWrite()
        {
            var f = Assert.Single(Compare(Server, Laptop.Replace(":51820", ":51821")));
            Assert.Equal("WG2004", f.Id);
            Assert.Equal((Cause.PortMismatch).ToString(), f.Cause);
            Assert.Equal("/etc/wireguard/laptop.conf", f.File);
            Assert.Equal(10, f.Line);
            Assert.Equal("Endpoint = 203.0.113.10:51820", f.Fix);
        }

        [Fact]
        public void AServerWithoutListenPortIsAPortMismatchOnTheServer()
        {
            var f = Assert.Single(Compare(Server.Replace("ListenPort = 51820\n", ""), Laptop));
            Assert.Equal("WG2004", f.Id);
            Assert.Equal("/etc/wireguard/server.conf", f.File);
            Assert.Equal("ListenPort = 51820 under [Interface] of server.conf", f.Fix);
        }

        [Fact]
        public void AllowedIpsThatMissTheOtherAddressGiveTheLineToWrite()
        {
            var f = Assert.Single(Compare(Server.Replace("AllowedIPs = 10.8.0.2/32, fd00:8::2/128", "AllowedIPs = 10.8.0.2/32"), Laptop));
            Assert.Equal("WG2005", f.Id);
            Assert.Equal((Cause.AllowedIpsMismatch).ToString(), f.Cause);
            Assert.Equal(10, f.Line);
            Assert.Equal("AllowedIPs = 10.8.0.2/32, fd00:8::2/128", f.Fix);
        }

        [Fact]
        public void NoEndpointOnEitherSideMeansNobodyStarts()
        {
            var f = Assert.Single(Compare(Server, Laptop.Replace("Endpoint = 203.0.113.10:51820\n", "")));
            Assert.Equal("WG2006", f.Id);
            Assert.Equal("/etc/wireguard/laptop.conf", f.File);
            Assert.Equal("Endpoint = <server.conf's public address>:51820 in laptop.conf's [Peer] 8Gk4z8/S… (line 7)", f.Fix);
        }

        [Fact]
        public void AFileThatDoesNotParseIsAFindingNotAnException()
        {
            var f = Assert.Single(Compare(Server, Laptop.Replace("MTU = 1420", "MTU = big")));
            Assert.Equal("WG1001", f.Id);
            Assert.Equal(5, f.Line);
        }

        [Fact]
        public void ComparerRuleIdsAreUnique()
        {
            var ids = PeerConfigComparer.Rules.Select(r => r.Id).Concat(ConfigLinter.Rules.Select(r => r.Id)).ToArray();
            Assert.Equal(ids.Length, ids.Distinct().Count());
        }
    }
}
