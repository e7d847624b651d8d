using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using WgTroubleshoot.Bundle;
using WgTroubleshoot.Config;
using WgTroubleshoot.Keys;
using WgTroubleshoot.Native;
using Xunit;

namespace WgTroubleshoot.Tests.Bundle
{
    /// <summary>
    /// Keys that are not on a line the parser reads as a key (commented out, in a peer's comment, on a
    /// malformed line) must not reach a support bundle in any encoding, and Redactions counts them.
    /// </summary>
    [Collection(nameof(WgTroubleshoot.Tests.Config.ConfigDirectoryCollection))]
    public class BundleKeyLeakTests : IDisposable
    {
        // test keys only (32 random bytes each)
        internal const string Live = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
        internal const string Old1 = "GKtv1Bnl5h7Ch0GQ/sO7b3Mv8lJlfp2ms0mQ+VTcz2o=";
        internal const string Old2 = "sF8Bf0t1uQ9TWqQ7dvmWxh0oRvA5ZkqsgZr0Hb1Y3Uo=";
        internal const string Colon = "QFRKvZ9PJwT7eCeWw5I0zK4Rf2G1v8m7i2sYm1Bq6Wo=";
        internal const string Bracket = "oOKc6eC8Eo1dUq9lZ8qG3Ee9xw0Wbq1Gq9+Vnh0c3W8=";
        internal const string Psk = "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=";
        internal const string PskInComment = "cPbX4g1lQ6V8zU/1d2Jm+2K9k5S3o0A7r4e6W8y0b1M=";
        internal const string HexKey = "A8nR2d0w3ZyNf+Xq1mK7pL5sT9uV2bC4eG6hJ8kM0nQ=";
        internal const string PeerPub = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";

        internal static string Hex(string b64) => BitConverter.ToString(Convert.FromBase64String(b64)).Replace("-", "").ToLowerInvariant();
        internal static string NoPad(string b64) => b64.TrimEnd('=');
        internal static string UrlSafe(string b64) => NoPad(b64).Replace('+', '-').Replace('/', '_');

        /// <summary>A config with keys in every form of the issue.</summary>
        internal static string HostileConfig() =>
            "# rotated: PrivateKey = " + Old1 + "\n" +
            "#PrivateKey=" + NoPad(Old2) + "\n" +
            "[Interface]\n" +
            "PrivateKey = " + Live + "\n" +
            "ListenPort = 51820\n" +
            "PrivateKey: " + Colon + "\n" +
            "PrivateKey " + UrlSafe(Colon) + "\n" +
            "[PrivateKey = " + Bracket + "]\n" +
            "# old hex key " + Hex(HexKey) + " and 0x" + Hex(HexKey).ToUpperInvariant() + "\n" +
            "\n# laptop (psk " + UrlSafe(PskInComment) + ")\n" +
            "[Peer]\n" +
            "PublicKey = " + PeerPub + "\n" +
            "PresharedKey = " + Psk + "\n" +
            "AllowedIPs = 10.0.0.2/32\n";

        internal static IEnumerable<string> Forms(string key)
        {
            yield return key;
            yield return NoPad(key);
            yield return UrlSafe(key);
            yield return Hex(key);
        }

        internal static readonly string[] AllSecrets = { Live, Old1, Old2, Colon, Bracket, Psk, PskInComment, HexKey };

        private sealed class NoToolsRunner : INativeRunner
        {
            public NativeResult Run(string tool, IEnumerable<string> arguments, TimeSpan? timeout = null, string standardInput = null)
                => throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled, $"The command '{tool}' was not found.", tool);
            public bool IsAvailable(string tool) => false;
            public NativeProcess Start(string tool, IEnumerable<string> arguments, TimeSpan maxLifetime)
                => throw new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled, $"The command '{tool}' was not found.", tool);
        }

        private readonly string _dir;

        public BundleKeyLeakTests()
        {
            _dir = Path.Combine(Path.GetTempPath(), "wgz-bundle-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(_dir);
            WgConfigLocation.ConfigDirectory = _dir;
        }

        public void Dispose()
        {
            WgConfigLocation.ConfigDirectory = null;
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }

        [Fact]
        public void NoKeyInAnyFormReachesTheBundleAndRedactionsCountsThem()
        {
            File.WriteAllText(Path.Combine(_dir, "wgz0.conf"), HostileConfig());
            var collector = new SupportBundleCollector(new NoToolsRunner());
            var text = collector.Collect(new SupportBundleOptions { Interfaces = new[] { "wgz0" }, Since = DateTime.UtcNow.AddHours(-1), SampleSeconds = 0, TraceSeconds = 0 });
            foreach (var s in AllSecrets)
                foreach (var f in Forms(s))
                    Assert.True(text.IndexOf(f, StringComparison.OrdinalIgnoreCase) < 0, $"{f} (a form of {s}) is in the bundle");
            Assert.Contains(PeerPub, text);
            // every (redacted) but the two of the real PrivateKey/PresharedKey lines was counted
            int markers = Regex.Matches(text, Regex.Escape(Redaction.Marker)).Count;
            Assert.True(collector.Redactions >= 8, "at least every hidden key of the config was found: " + collector.Redactions);
            Assert.Equal(markers - 2, collector.Redactions);
            Assert.Contains("\"Redactions\": " + collector.Redactions, text);
        }

        [Theory]
        [InlineData("PrivateKey: {0}")]
        [InlineData("PrivateKey {0}")]
        [InlineData("[PrivateKey = {0}]")]
        [InlineData("#PrivateKey={0}")]
        [InlineData("# rotated: PrivateKey = {0} (old)")]
        [InlineData("\"key\\n{0}\\n\"")]
        public void EveryEncodingOfAKeyIsATokenWhereverItIs(string template)
        {
            foreach (var form in Forms(Old1).Append("0x" + Hex(Old1)))
            {
                var line = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, form);
                var result = KeyRedactor.RedactKeyTokens(line, null, out var count);
                Assert.Equal(1, count);
                Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, Redaction.Marker), result);
            }
        }

        [Fact]
        public void KnownPublicKeysAndOrdinaryTextStay()
        {
            var ids = new HashSet<string> { KeyRedactor.KeyId(PeerPub) };
            var text = "peer " + PeerPub + " hex " + Hex(PeerPub) + " path /etc/wireguard/wg0.conf id 1234567890abcdef sha " + new string('a', 63);
            Assert.Equal(text, KeyRedactor.RedactKeyTokens(text, ids, out var count));
            Assert.Equal(0, count);
            Assert.Equal("(redacted)(redacted)", KeyRedactor.RedactKeyTokens(Old1 + Old2, ids, out count));
            Assert.Equal(2, count);
        }
    }
}
