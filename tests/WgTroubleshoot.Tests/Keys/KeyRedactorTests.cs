using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using WgTroubleshoot.Config;
using WgTroubleshoot.Keys;
using WgTroubleshoot.Native;
using Xunit;

namespace WgTroubleshoot.Tests.KeyRedaction
{
    /// <summary>The shared key redactor on every form a key is written in, and where the module applies it.</summary>
    public class KeyRedactorTests
    {
        // Test keys only (never used anywhere): 32 bytes each; Secret has '+' and '/' so its URL-safe form differs.
        private const string Secret = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
        private const string Secret2 = "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=";
        private const string PeerPub = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";

        private static string Hex(string b64) => string.Concat(Convert.FromBase64String(b64).Select(b => b.ToString("x2")));

        /// <summary>Every encoding of <see cref="Secret"/>: base64, unpadded, URL-safe (both), hex in both cases, 0x hex.</summary>
        public static IEnumerable<object[]> Encodings()
        {
            var noPad = Secret.TrimEnd('=');
            var url = noPad.Replace('+', '-').Replace('/', '_');
            yield return new object[] { "base64", Secret };
            yield return new object[] { "base64 unpadded", noPad };
            yield return new object[] { "URL-safe", url };
            yield return new object[] { "URL-safe padded", url + "=" };
            yield return new object[] { "hex lower", Hex(Secret) };
            yield return new object[] { "hex upper", Hex(Secret).ToUpperInvariant() };
            yield return new object[] { "0x hex", "0x" + Hex(Secret).ToUpperInvariant() };
        }

        /// <summary>The lines a key hides in (issue: commented-out, in a peer's comment, off the parser's syntax, in hooks, in JSON).</summary>
        private static readonly string[] Contexts =
        {
            "#PrivateKey={0}",
            "# rotated: PrivateKey = {0}",
            "PrivateKey: {0}",
            "PrivateKey {0}",
            "[PrivateKey = {0}]",
            "# laptop (psk {0}, old)",
            "PostUp = wg set %i private-key <(echo {0})",
            "PostUp = logger -t wg 'key {0}'",
            "{{\"Text\":\"PrivateKey = {0}\\n\"}}",
            "{0} {0}",
        };

        [Theory]
        [MemberData(nameof(Encodings))]
        public void RedactsTheKeyInEveryEncodingAndEveryContext(string form, string encoded)
        {
            foreach (var context in Contexts)
            {
                var text = string.Format(context, encoded);
                var result = KeyRedactor.RedactKeyTokens(text, null, out var count);
                Assert.True(result.IndexOf(encoded, StringComparison.OrdinalIgnoreCase) < 0, $"{form} in '{context}': {result}");
                foreach (var piece in new[] { Secret.Substring(0, 20), Hex(Secret).Substring(0, 20) })
                    Assert.True(result.IndexOf(piece, StringComparison.OrdinalIgnoreCase) < 0, $"{form} in '{context}' left a piece: {result}");
                Assert.Contains(KeyRedactor.Marker, result);
                Assert.Equal(context.Contains("{0} {0}") ? 2 : 1, count);
                // every byte but the key is kept
                Assert.Equal(string.Format(context, KeyRedactor.Marker), result);
            }
        }

        [Fact]
        public void KeepsThePublicKeysItIsGivenInAnyEncodingAndRedactsTheRest()
        {
            var ids = KeyRedactor.KeyIds(new[] { PeerPub });
            var text = $"wg set wg0 peer {PeerPub} endpoint 192.0.2.1:51820; peer hex {Hex(PeerPub)}; psk {Secret2}";
            var result = KeyRedactor.RedactKeyTokens(text, ids, out var count);
            Assert.Equal($"wg set wg0 peer {PeerPub} endpoint 192.0.2.1:51820; peer hex {Hex(PeerPub)}; psk (redacted)", result);
            Assert.Equal(1, count);
        }

        [Theory]
        [InlineData("PrivateKey = (not set)")]
        [InlineData("a 42-character run: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
        [InlineData("a 45-character run: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
        [InlineData("63 hex digits: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")]
        [InlineData("/etc/wireguard/wg0.conf, line 8: unknown section")]
        [InlineData("")]
        public void LeavesTextWithoutAKeyAlone(string text)
        {
            Assert.Equal(text, KeyRedactor.RedactKeyTokens(text, null, out var count));
            Assert.Equal(0, count);
        }

        [Fact]
        public void RemembersPublicKeysFromTheLiveStateAndTheParser()
        {
            // fresh keys: the set of known public keys is process-wide
            string NewKey() { var b = new byte[32]; new Random().NextBytes(b); return Convert.ToBase64String(b); }
            var liveOnly = NewKey();
            Assert.Equal("peer (redacted)", KeyRedactor.Redact("peer " + liveOnly));
            var peer = new WgPeer { Interface = "wg0", PublicKey = liveOnly };
            Assert.Equal("peer " + liveOnly, KeyRedactor.Redact("peer " + liveOnly));
            Assert.Equal("peer " + Hex(liveOnly), KeyRedactor.Redact("peer " + Hex(liveOnly)));
            Assert.Equal(liveOnly, peer.PublicKey);

            var fromFile = NewKey();
            var priv = NewKey();
            WgConfigParser.Parse(Encoding.UTF8.GetBytes($"[Interface]\nPrivateKey = {priv}\n[Peer]\nPublicKey = {fromFile}\nAllowedIPs = 10.9.0.0/24\n"), "/etc/wireguard/wgr0.conf");
            Assert.True(KeyRedactor.IsKnownPublicKey(fromFile));
            Assert.False(KeyRedactor.IsKnownPublicKey(priv));
            Assert.Equal("x (redacted)", KeyRedactor.Redact("x " + priv));
        }

        [Fact]
        public void NativeCommandLinesAreRedactedButCommandsStillCompareByTheirArguments()
        {
            var line = NativeRunner.FormatCommandLine("wg", new[] { "set", "wg0", "private-key", Secret2 });
            Assert.Equal("wg set wg0 private-key (redacted)", line);
            var a = new NativeCommand("wg", "set", "wg0", "peer", Secret);
            var b = new NativeCommand("wg", "set", "wg0", "peer", Secret2);
            Assert.Equal(a.CommandLine, b.CommandLine);
            Assert.NotEqual(a, b);
            Assert.Equal(a, new NativeCommand("wg", "set", "wg0", "peer", Secret));
        }

        [Fact]
        public void HookTextAndPeerNamesOfAParsedConfigShowNoKeyButKeepThePeersPublicKey()
        {
            var url = Secret.TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var text = "[Interface]\nPrivateKey = " + Secret2 + "\n"
                + "PostUp = wg set %i private-key <(echo " + Secret + ")\n"
                + "PreUp = logger 'key " + Hex(Secret).ToUpperInvariant() + "'\n"
                + "PreDown = echo " + url + " > /dev/null\n"
                + "PostDown = wg set %i peer " + PeerPub + " remove\n"
                + "\n# server (psk " + url + ")\n[Peer]\nPublicKey = " + PeerPub + "\nAllowedIPs = 10.0.0.0/24\n";
            var config = WgConfigParser.Parse(Encoding.UTF8.GetBytes(text), "/etc/wireguard/wg0.conf");
            Assert.Equal(new[] { "wg set %i private-key <(echo (redacted))" }, config.PostUp);
            Assert.Equal(new[] { "logger 'key (redacted)'" }, config.PreUp);
            Assert.Equal(new[] { "echo (redacted) > /dev/null" }, config.PreDown);
            Assert.Equal(new[] { "wg set %i peer " + PeerPub + " remove" }, config.PostDown);
            Assert.StartsWith("server (psk ", config.Peers[0].Name);
            Assert.DoesNotContain(url, config.Peers[0].Name);
        }

        [Theory]
        [InlineData("PrivateKey: {0}")]
        [InlineData("PrivateKey {0}")]
        [InlineData("[PrivateKey = {0}]")]
        [InlineData("PresharedKey: {0}")]
        public void AParseErrorOnAKeyLineNeverQuotesTheKey(string line)
        {
            foreach (var encoded in Encodings().Select(e => (string)e[1]))
            {
                var text = "[Interface]\n" + string.Format(line, encoded) + "\n[Peer]\nPublicKey = " + PeerPub + "\nAllowedIPs = 10.0.0.0/24\n";
                var result = WgConfigParser.ParseAll(WgConfigDocument.Parse(Encoding.UTF8.GetBytes(text), "/etc/wireguard/wg0.conf"));
                Assert.False(result.Success);
                foreach (var e in result.Errors)
                    foreach (var shown in new[] { e.Message, e.Problem, e.ToString() })
                        foreach (var piece in new[] { Secret.Substring(0, 12), Secret.Substring(20, 12), Hex(Secret).Substring(0, 16), Hex(Secret).Substring(40, 16) })
                            Assert.True(shown.IndexOf(piece.Replace('+', '-').Replace('/', '_'), StringComparison.OrdinalIgnoreCase) < 0
                                && shown.IndexOf(piece, StringComparison.OrdinalIgnoreCase) < 0, $"'{line}' ({encoded}): {shown}");
            }
        }
    }
}
