using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using WgTroubleshoot.Config;
using WgTroubleshoot.Keys;
using WgTroubleshoot.Lint;
using Xunit;
using static WgTroubleshoot.Tests.Lint.LintSamples;

namespace WgTroubleshoot.Tests.Config
{
    /// <summary>Issue 14 items 1-8, issue 9 (every malformed line), issue 11 item 12 (no key in messages), issue 12 (hub scale).</summary>
    public class WgReadingTests
    {
        private static readonly Version Old = new Version(1, 0, 20210914), New = new Version(1, 0, 20260223);
        private static WgParseOptions Opt(Version v = null) => new WgParseOptions
        {
            ToolsVersion = v ?? Old,
            ServiceLookup = n => n == "https" ? 443 : (int?)null,
            TableNameExists = n => n == "main" || n == "local",
            InterfaceExists = n => n == "lo",
        };
        private static WgParseResult Read(string text, Version v = null)
            => WgConfigParser.ParseAll(WgConfigDocument.Parse(Encoding.Latin1.GetBytes(text), "/etc/wireguard/wg0.conf"), Opt(v));
        private static string Peer(string extra) => "[Interface]\nPrivateKey = " + LaptopPrivate + "\n[Peer]\nPublicKey = " + ServerPublic + "\n" + extra + "\n";

        [Theory] // item 1
        [InlineData("Off", false)] [InlineData("abc", false)] [InlineData("-1", false)] [InlineData("4294967296", false)] [InlineData(null, false)]
        [InlineData("off", true)] [InlineData("auto", true)] [InlineData("main", true)] [InlineData("0x10", true)] [InlineData("4294967295", true)]
        public void TableIsCaseSensitiveAndMustNameARoutingTable(string table, bool ok)
        {
            var line = table == null ? "Table" : "Table = " + table;
            var r = Read("[Interface]\nPrivateKey = " + LaptopPrivate + "\n" + line + "\n[Peer]\nPublicKey = " + ServerPublic + "\nAllowedIPs = 10.0.0.0/24\n");
            Assert.Equal(ok, r.Success);
            if (!ok) Assert.Equal(3, r.Errors[0].Line);
        }

        [Theory] // item 2
        [InlineData("https", 443)] [InlineData("+51820", 51820)] [InlineData("65536", 0)] [InlineData("70000", 4464)] [InlineData("4294967296", 0)] [InlineData("-4294967295", 1)] [InlineData("051820", 51820)]
        [InlineData("HTTPS", -1)] [InlineData("-1", -1)] [InlineData("2147483648", -1)] [InlineData("0x10", -1)]
        public void PortsAreReadAsGetaddrinfoReadsThem(string port, int expected)
        {
            var r = Read("[Interface]\nPrivateKey = " + LaptopPrivate + "\nListenPort = " + port + "\n");
            Assert.Equal(expected >= 0, r.Success);
            if (expected >= 0) Assert.Equal(expected, r.Config.ListenPort);
            var e = Read(Peer("Endpoint = 192.0.2.1:" + port));
            Assert.Equal(expected >= 0, e.Success);
            if (expected >= 0) Assert.Equal(expected, e.Config.Peers[0].EndpointPort);
        }

        [Theory] // item 3
        [InlineData("010.0.0.1:1", "8.0.0.1")] [InlineData("1.2.3:1", "1.2.0.3")] [InlineData("0x7f.1:1", "127.0.0.1")] [InlineData("fe80::1%lo:51820", "fe80::1%lo")]
        [InlineData("[fe80::1%1]:5", "fe80::1%1")] [InlineData("*:5", "::1")] [InlineData("vpn.example.com:5", "vpn.example.com")] [InlineData("4294967295:1", "255.255.255.255")]
        [InlineData("192.0.2.300:1", null)] [InlineData("=192.0.2.1:1", null)] [InlineData("192.0.2.1\u00e2\u0080\u008b:1", null)] [InlineData("2001:db8::1%lo:5", null)] [InlineData("08.1.1.1:5", null)] [InlineData("1..2:5", null)]
        public void EndpointHostsAreWhatWgUses(string endpoint, string host)
        {
            var r = Read(Peer("Endpoint = " + endpoint));
            Assert.Equal(host != null, r.Success);
            if (host != null) Assert.Equal(host, r.Config.Peers[0].EndpointHost);
        }

        [Fact] // item 3: a lint finding that says what wg will do
        public void LegacyAddressGetsAFindingSayingWhatWgReads()
        {
            var f = ConfigLinter.LintOne(LintFile.FromBytes(Encoding.ASCII.GetBytes(Peer("Endpoint = 010.0.0.1:51820\nAllowedIPs = 10.0.0.0/24")), "/etc/wireguard/wg0.conf", null, Opt()));
            Assert.Contains(f, x => x.Id == "WG1021" && x.Message.Contains("wg reads it as 8.0.0.1"));
        }

        [Theory] // item 4
        [InlineData("MTU = 0", false)] [InlineData("MTU = 67", false)] [InlineData("MTU = 65536", false)] [InlineData("MTU = 1e3", false)]
        [InlineData("MTU = 0x500", true)] [InlineData("MTU = +1420", true)] [InlineData("MTU = 68", true)] [InlineData("Address = 010.0.0.2/24", true)]
        [InlineData("Address = 10.0.0.2/255.255.255.0", true)] [InlineData("Address = 10.0.0.2/33", false)] [InlineData("Address = ff02::5/64", false)]
        public void MtuAndAddressAreReadAsIpReadsThem(string line, bool ok)
        {
            var r = Read("[Interface]\nPrivateKey = " + LaptopPrivate + "\n" + line + "\n");
            Assert.Equal(ok, r.Success);
            if (line == "MTU = 0x500") Assert.Equal(1280, r.Config.Mtu);
            if (line == "Address = 010.0.0.2/24") Assert.Equal("8.0.0.2/24", Assert.Single(r.Config.Address));
            if (line == "Address = 10.0.0.2/255.255.255.0") Assert.Equal("10.0.0.2/24", Assert.Single(r.Config.Address));
        }

        [Fact] // item 5
        public void NulBytesAreDroppedZeroKeysAreNoKeysAndNonUtf8HooksKeepTheirBytes()
        {
            var r = Read("[Inter\0face]\nPrivate\0Key = " + LaptopPrivate + "\nPostUp = echo caf\u00ff\n[Peer]\nPublicKey = " + ServerPublic + "\nPresharedKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
            Assert.True(r.Success, string.Join("; ", r.Errors.Select(e => e.Message)));
            Assert.True(r.Config.HasPrivateKey);
            Assert.False(r.Config.Peers[0].HasPresharedKey);
            Assert.Equal("echo caf\\xff", Assert.Single(r.Config.PostUp));
            var z = Read("[Interface]\nPrivateKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
            Assert.False(z.Config.HasPrivateKey);
            Assert.Null(z.Config.PublicKey);
        }

        [Fact] // item 8
        public void HooksAreCutAtHashOnlyByOlderTools()
        {
            const string text = "[Interface]\nPostUp = echo \"a#b\" # note\n";
            Assert.Equal("echo \"a", Assert.Single(Read(text, Old).Config.PostUp));
            Assert.Equal("echo \"a#b\" # note", Assert.Single(Read(text, New).Config.PostUp));
            var f = ConfigLinter.LintOne(LintFile.FromBytes(Encoding.ASCII.GetBytes(text), "/x/wg0.conf", null, Opt(Old)));
            Assert.Contains(f, x => x.Id == "WG1021" && x.Message.Contains("'#'"));
            Assert.Equal(new Version(1, 0, 20210914), WgToolsVersion.Parse("wireguard-tools v1.0.20210914 - https://git.zx2c4.com/wireguard-tools/"));
        }

        [Fact] // item 7
        public void HooksThatLoadTheKeyOrAddRoutesAndFragmentsRaiseNoFalseAlarm()
        {
            IList<ConfigFinding> Lint(string t, Version v = null) => ConfigLinter.LintOne(LintFile.FromBytes(Encoding.ASCII.GetBytes(t), "/x/wg0.conf", null, Opt(v)));
            var post = Lint("[Interface]\nAddress = 10.0.0.2/32\nPostUp = wg set %i private-key /etc/wireguard/wg0.key\n[Peer]\nPublicKey = " + ServerPublic + "\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 10.0.0.0/24\nPersistentKeepalive = 25\n");
            Assert.DoesNotContain(post, x => x.Id == "WG1003");
            const string pre = "[Interface]\nAddress = 10.0.0.2/32\nPreUp = wg set %i private-key /k\n";
            Assert.Contains(Lint(pre, Old), x => x.Id == "WG1003" && x.Message.Contains("before it creates the interface"));
            Assert.DoesNotContain(Lint(pre, New), x => x.Id == "WG1003");
            var table = Lint("[Interface]\nPrivateKey = " + LaptopPrivate + "\nAddress = 10.0.0.2/32\nTable = off\nPostUp = ip route add 0.0.0.0/0 dev %i table 7\n[Peer]\nPublicKey = " + ServerPublic + "\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0\nPersistentKeepalive = 25\n");
            Assert.DoesNotContain(table, x => x.Id == "WG1019");
            var fragment = Lint("[Peer]\nPublicKey = " + ServerPublic + "\nAllowedIPs = 10.0.0.3/32\n");
            Assert.DoesNotContain(fragment, x => x.Id == "WG1003" || x.Id == "WG1010" || x.Id == "WG1016");
            var sb = new StringBuilder("[Interface]\nPrivateKey = " + ServerPrivate + "\nListenPort = 51820\n[Peer]\nPublicKey = " + LaptopPublic + "\n");
            for (int i = 0; i < 1000; i++) sb.Append("AllowedIPs = 10.").Append(i / 250).Append('.').Append(i % 250).Append(".0/24\n");
            var folded = Lint(sb.ToString()).Where(x => x.Id == "WG1008").ToList();
            Assert.Single(folded);
            Assert.Equal(1000, folded[0].Items.Length);
            Assert.Equal(1000, folded[0].Lines.Length);
        }

        [Fact] // issue 9
        public void EveryMalformedLineIsReportedInOneRun()
        {
            var f = ConfigLinter.LintOne(LintFile.FromBytes(Encoding.ASCII.GetBytes("[Interface]\nPrivateKey = " + LaptopPrivate + "\n[Peer]\nPublicKey = notakey=\nAllowedIPs = 10.0.0.300/32\nEndpoint = 1.2.3.4\n"), "/x/wg0.conf", null, Opt()));
            Assert.Contains(f, x => x.Id == "WG1002" && x.Line == 4);
            Assert.Contains(f, x => x.Id == "WG1001" && x.Line == 5);
            Assert.Contains(f, x => x.Id == "WG1001" && x.Line == 6);
            var ex = Assert.Throws<WgTroubleshoot.WgConfigParseException>(() => WgConfigParser.Parse(Encoding.ASCII.GetBytes("[Interface]\nPrivateKey = " + LaptopPrivate + "\n[Peer]\nPublicKey = notakey=\nAllowedIPs = 10.0.0.300/32\n"), "/x/wg0.conf", Opt()));
            Assert.Equal(4, ex.Line);
            Assert.Contains("line 5", ex.Message);
        }

        [Fact] // issue 11 item 12
        public void NoMessageEchoesKeyMaterialInAnyForm()
        {
            var key = PhonePrivate;
            var raw = Convert.FromBase64String(key);
            var hex = string.Concat(raw.Select(b => b.ToString("x2")));
            var forms = new[] { key, key.TrimEnd('='), key.Replace('+', '-').Replace('/', '_'), hex, hex.ToUpperInvariant() };
            // (A valid key on a PublicKey line is a public key by the file's own word and is shown; a malformed one is not.)
            var templates = new[] { "[PrivateKey = {0}]", "[{0}]", "PrivateKey: {0}", "PrivateKey {0}", "{0}", "Endpoint = {0}", "Endpoint = {0}:51820", "AllowedIPs = {0}", "ListenPort = {0}",
                "MTU = {0}", "Address = {0}", "Table = {0}", "PresharedKey = {0}x", "PublicKey = {0}x", "FwMark = {0}", "Foo = {0}", "# {0}", "Endpoint = [{0}]:1", "PersistentKeepalive = {0}", "SaveConfig = {0}" };
            foreach (var form in forms)
                foreach (var t in templates)
                    foreach (var section in new[] { "[Interface]\n", "[Interface]\nPrivateKey = " + LaptopPrivate + "\n[Peer]\nPublicKey = " + ServerPublic + "\n" })
                    {
                        var text = section + "# old " + form + "\n" + string.Format(t, form) + "\n[Peer]\nPublicKey = " + ServerPublic + "\n";
                        var lint = LintFile.FromBytes(Encoding.ASCII.GetBytes(text), "/x/wg0.conf", null, Opt());
                        var messages = ConfigLinter.LintOne(lint).SelectMany(x => new[] { x.Message, x.Fix, x.Peer }.Concat(x.Items)).ToList();
                        messages.AddRange(lint.ParseErrors.Select(e => e.Message));
                        if (lint.Config != null) messages.AddRange(lint.Config.Peers.Select(p => p.Name));
                        foreach (var m in messages.Where(m => m != null))
                        {
                            foreach (var (start, length) in KeyRedactor.Runs(m))
                            {
                                var run = m.Substring(start, length);
                                for (int w = 43; w <= Math.Min(64, run.Length); w++)
                                    for (int s = 0; s + w <= run.Length; s++)
                                        if (KeyRedactor.TryDecodeAny(run.Substring(s, w), out var k) && k.SequenceEqual(raw))
                                            Assert.Fail($"'{t}' with form {form.Length}: a message decodes to the key: {m}");
                            }
                            foreach (var f in forms)
                                for (int s = 0; s + 10 <= f.Length; s++)
                                    Assert.False(m.Contains(f.Substring(s, 10)), $"'{t}': a message shows 10 characters of the key: {m}");
                        }
                    }
        }

        [Fact] // issue 12 item 2: the overlap walk is not quadratic (a 10,000-peer hub lints in seconds)
        public void TenThousandPeerHubLintsQuickly()
        {
            var sb = new StringBuilder("[Interface]\nPrivateKey = " + ServerPrivate + "\nListenPort = 51820\nAddress = 10.0.0.1/16\n");
            var rng = new Random(7);
            var keyBytes = new byte[32];
            for (int i = 0; i < 10000; i++)
            {
                rng.NextBytes(keyBytes);
                sb.Append("[Peer]\nPublicKey = ").Append(Convert.ToBase64String(keyBytes)).Append("\nAllowedIPs = 10.").Append(i / 250 + 1).Append('.').Append(i % 250).Append(".1/32\n");
                if (i % 2 == 0) sb.Append("Endpoint = 198.51.100.").Append(i % 250 + 1).Append(":51820\n");
            }
            sb.Append("[Peer]\nPublicKey = ").Append(LaptopPublic).Append("\nAllowedIPs = 10.1.0.1/32, 10.2.0.0/16\n");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var f = ConfigLinter.LintOne(LintFile.FromBytes(Encoding.ASCII.GetBytes(sb.ToString()), "/x/wg0.conf", null, Opt()));
            sw.Stop();
            Assert.Contains(f, x => x.Id == "WG1006");
            Assert.Contains(f, x => x.Id == "WG1007");
            Assert.True(sw.Elapsed.TotalSeconds < 20, $"took {sw.Elapsed.TotalSeconds:0.0} s");
        }
    }
}
