using System.Linq;
using System.Text;
using WgTroubleshoot.Config;
using WgTroubleshoot.Keys;
using Xunit;

namespace WgTroubleshoot.Tests.Config
{
    public class ParserTests
    {
        // Test vector computed with `wg genkey` / `wg pubkey` (wireguard-tools v1.0.20210914).
        private const string Priv = "yC7gETkvgjs1tJhb/4cQVIt8XOj49OVdxPPndYfOiEM=";
        private const string Pub = "7yMd9RKzpHKkZt9aHlGGCWAMqekfuz5tgvF6P8GHYl8=";
        private const string Peer1 = "SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=";
        private const string Peer2 = "+ApLuK+CzvtZ6n0/9VB/Az38QHn0jvfnY8GOeX5rs2E=";

        private static WgConfig Parse(string text, string path = "/etc/wireguard/wg0.conf")
            => WgConfigParser.Parse(Encoding.UTF8.GetBytes(text), path);

        private static WgConfigParseException Fails(string text)
            => Assert.Throws<WgConfigParseException>(() => Parse(text));

        [Fact]
        public void DerivedPublicKeyMatchesWgPubkey()
        {
            var c = Parse($"[Interface]\nPrivateKey = {Priv}\n");
            Assert.Equal(Pub, c.PublicKey);
            Assert.True(c.HasPrivateKey);
            Assert.Equal(Priv, c.PrivateKeyValue);
            Assert.Equal("wg0", c.Interface);
        }

        [Fact]
        public void PrivateAndPresharedKeysAreNeverPublic()
        {
            foreach (var t in new[] { typeof(WgConfig), typeof(WgConfigPeer) })
                Assert.DoesNotContain(t.GetProperties(), p => p.Name.Contains("PrivateKey") && p.Name != "HasPrivateKey" || p.Name.Contains("PresharedKey") && p.Name != "HasPresharedKey");
            var c = Parse($"[Interface]\nPrivateKey = {Priv}\n[Peer]\nPublicKey = {Peer1}\nPresharedKey = {Peer2}\nAllowedIPs = 10.0.0.2\n");
            Assert.DoesNotContain(Priv, c.ToString());
            Assert.DoesNotContain(Peer2, c.Peers[0].ToString());
            Assert.True(c.Peers[0].HasPresharedKey);
            Assert.Equal(Peer2, c.Peers[0].PresharedKeyValue);
        }

        [Fact]
        public void NoOrInvalidPrivateKeyGivesNullPublicKey()
        {
            var c = Parse("[Interface]\nListenPort = 1\n");
            Assert.Null(c.PublicKey);
            Assert.False(c.HasPrivateKey);
        }

        [Fact]
        public void NameComesFromTheCommentDirectlyAbove()
        {
            var c = Parse($"# laptop\n[Peer]\nPublicKey = {Peer1}\n\n### alice  \n[Peer]\nPublicKey = {Peer2}\n# not a name\n\n[Peer]\nPublicKey = {Pub}\n#\n[Peer]\nPublicKey = {Priv}\n");
            Assert.Equal(new[] { "laptop", "alice", null, null }, c.Peers.Select(p => p.Name));
            Assert.Equal(new[] { 2, 6, 10, 13 }, c.Peers.Select(p => p.Line));
        }

        [Fact]
        public void AllowedIpsAppendAndDefaultToHostPrefixes()
        {
            var c = Parse($"[Peer]\nPublicKey = {Peer1}\nAllowedIPs = 10.0.0.1, 10.1.0.0/16\nallowedips=2001:DB8::1\nAllowedIPs = ::/0,0.0.0.0/0\n");
            Assert.Equal(new[] { "10.0.0.1/32", "10.1.0.0/16", "2001:db8::1/128", "::/0", "0.0.0.0/0" }, c.Peers[0].AllowedIPs);
        }

        [Fact]
        public void AddressAndDnsAppend()
        {
            var c = Parse("[Interface]\nAddress = 10.0.0.1/24, fd00::1\nAddress = 10.0.1.1\nDNS = 192.0.2.1,example.com\nDNS = 192.0.2.2\n");
            Assert.Equal(new[] { "10.0.0.1/24", "fd00::1/128", "10.0.1.1/32" }, c.Address);
            Assert.Equal(new[] { "192.0.2.1", "example.com", "192.0.2.2" }, c.Dns);
        }

        [Theory]
        [InlineData("vpn.example.com:51820", "vpn.example.com", 51820)]
        [InlineData("[2001:db8::1]:51820", "2001:db8::1", 51820)]
        [InlineData("192.0.2.1:0", "192.0.2.1", 0)]
        [InlineData("2001:db8::1:51820", "2001:db8::1", 51820)] // wg splits at the last colon and accepts this
        public void EndpointSplitsAtTheLastColon(string endpoint, string host, int port)
        {
            var p = Parse($"[Peer]\nPublicKey = {Peer1}\nEndpoint = {endpoint}\n").Peers[0];
            Assert.Equal(endpoint, p.Endpoint);
            Assert.Equal(host, p.EndpointHost);
            Assert.Equal(port, p.EndpointPort);
        }

        [Fact]
        public void HooksAreCutAtHashLikeWgQuickDoes()
        {
            // wg-quick: stripped="${line%%\#*}" applies to every line, hooks included (verified against the
            // installed script in CorpusTests.MatchesTheInstalledWgQuick).
            var c = Parse("[Interface]\nPostUp = iptables -m comment --comment a=b # note\nPostUp = echo \"x#y\"\nPreDown = \tlogger  down \n");
            Assert.Equal(new[] { "iptables -m comment --comment a=b", "echo \"x" }, c.PostUp);
            Assert.Equal(new[] { "logger  down" }, c.PreDown);
        }

        [Fact]
        public void NamesAreCaseInsensitiveAndWhitespaceIsIgnored()
        {
            var c = Parse($"[INTERFACE]\nprivatekey={Priv}\n\tLISTENPORT\t=\t51820   \nmtu = 1420\nsaveconfig = TRUE\ntable = OFF\nfwmark = OFF\n[peer]\nPUBLICKEY = {Peer1}\nPersistentKeepalive = Off\nPublic Key = {Peer2}\n");
            Assert.Equal(51820, c.ListenPort);
            Assert.Equal(1420, c.Mtu);
            Assert.True(c.SaveConfig);
            Assert.Equal("OFF", c.Table);
            Assert.Equal("off", c.FwMark);
            Assert.Equal(Peer2, c.Peers[0].PublicKey); // wg removes all whitespace: "Public Key" is PublicKey, the last one wins
            Assert.Null(c.Peers[0].PersistentKeepalive);
        }

        [Fact]
        public void CrlfMixedEndingsAndNoFinalNewline()
        {
            var c = Parse($"[Interface]\r\nListenPort = 1\n[Peer]\r\nPublicKey = {Peer1}\r\nPersistentKeepalive = 25");
            Assert.Equal(1, c.ListenPort);
            Assert.Equal(25, c.Peers[0].PersistentKeepalive);
        }

        [Theory]
        [InlineData("ListenPort = 1\n[Interface]\n", 1, "outside any section")]
        [InlineData("[Interface]\nFoo = bar\n", 2, "unknown key 'Foo'")]
        [InlineData("[Interface]\n\n[Peer]\nAddress = 10.0.0.1\n", 4, "unknown key 'Address' in [Peer]")]
        [InlineData("[Interface]\n[Foo]\n", 2, "unknown section")]
        [InlineData("[Interface]\nListenPort\n", 2, "neither a section header")]
        [InlineData("[Interface]\nListenPort =\n", 2, "no value")]
        [InlineData("[Interface]\nListenPort = -1\n", 2, "ListenPort")]
        [InlineData("[Interface]\nListenPort = nosuchservice0\n", 2, "ListenPort")]
        [InlineData("[Interface]\nFwMark = 0X10\n", 2, "FwMark")]
        [InlineData("[Interface]\nFwMark = 0x100000000\n", 2, "FwMark")]
        [InlineData("[Interface]\nMTU = 14x0\n", 2, "MTU")]
        [InlineData("[Interface]\nSaveConfig = yes\n", 2, "SaveConfig")]
        [InlineData("[Interface]\nTable = main table\n[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nAllowedIPs = 10.0.0.0/24\n", 2, "Table")]
        [InlineData("[Interface]\nAddress = 10.0.0.300/24\n", 2, "Address")]
        [InlineData("[Interface]\nPrivateKey = abc\n", 2, "PrivateKey is not a valid key")]
        [InlineData("\n\n[Peer]\nAllowedIPs = 10.0.0.1\n", 3, "no PublicKey")]
        [InlineData("[Peer]\nPublicKey = @@\n", 2, "PublicKey is not a valid key")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nAllowedIPs = 10.0.0.1/33\n", 3, "AllowedIPs")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nAllowedIPs = 10.0.0.1,\n", 3, "AllowedIPs")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nAllowedIPs = 010.0.0.1\n", 3, "AllowedIPs")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nAllowedIPs = fe80::1%eth0\n", 3, "AllowedIPs")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nEndpoint = 2001:db8::1\n", 3, "brackets")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nEndpoint = [2001:db8::1\n", 3, "closing")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nEndpoint = [2001:db8::1]51820\n", 3, "no port")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nEndpoint = host\n", 3, "no port")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nEndpoint = host:nosuchservice\n", 3, "port")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nPersistentKeepalive = 0x10\n", 3, "PersistentKeepalive")]
        [InlineData("[Peer]\nPublicKey = SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4=\nPersistentKeepalive = 65536\n", 3, "PersistentKeepalive")]
        [InlineData("[ Interface ]\nMTU = 1400\n", 2, "unknown key 'MTU' in [Interface]")] // wg-quick misses the header, wg sees MTU
        public void ErrorsNameTheRightLine(string text, int line, string expected)
        {
            var ex = Fails(text);
            Assert.Equal(line, ex.Line);
            Assert.Equal("/etc/wireguard/wg0.conf", ex.File);
            Assert.Contains(expected, ex.Message);
            Assert.StartsWith("/etc/wireguard/wg0.conf, line " + line + ": ", ex.Message);
            Assert.Equal(ErrorIds.ConfigParseError, ex.ErrorId);
            Assert.Equal(System.Management.Automation.ErrorCategory.InvalidData, ex.Category);
        }

        [Fact]
        public void ByteOrderMarkIsRejectedAsWgDoes()
        {
            var ex = Assert.Throws<WgConfigParseException>(() => WgConfigParser.Parse(new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.ASCII.GetBytes("[Interface]\n")).ToArray(), "x.conf"));
            Assert.Equal(1, ex.Line);
            Assert.Contains("byte order mark", ex.Message);
        }

        [Fact]
        public void KeyMaterialNeverAppearsInErrors()
        {
            // A key pasted without "PrivateKey =", a bad key, and a key in an unknown key's value.
            foreach (var text in new[] { $"[Interface]\n{Priv}\n", $"[Interface]\nPrivateKey = {Priv.Substring(1)}\n", $"[Interface]\nSecret = {Priv}\n", $"[Interface]\n{Priv} = {Priv}\n" })
            {
                var ex = Fails(text);
                Assert.DoesNotContain(Priv.Substring(1, 20), ex.Message);
            }
        }

        [Fact]
        public void EmptyFileAndEmptyInterfaceAreValid()
        {
            Assert.Empty(Parse("").Peers);
            Assert.Empty(Parse("[Interface]\n# nothing\n").Peers);
        }

        [Fact]
        public void WgKeyHelpersAgreeWithTheVector() => Assert.Equal(Pub, WgKey.PublicFromPrivate(Priv));
    }
}
