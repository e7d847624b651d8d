using System;
using System.Linq;
using System.Text;
using WgTroubleshoot.Bundle;
using WgTroubleshoot.Config;
using Xunit;

namespace WgTroubleshoot.Tests.Bundle
{
    public class RedactionTests
    {
        // Test keys only (never used anywhere): 32 bytes each in base64.
        private const string Priv = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
        private const string Psk = "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=";
        private const string Pub = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
        private const string PeerPub = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";

        private static string Redact(string text) => Redaction.RedactedText(Encoding.UTF8.GetBytes(text));

        [Fact]
        public void ReplacesOnlyTheSecretValuesAndKeepsEveryOtherByte()
        {
            var text = "# office tunnel\n[Interface]\nAddress = 10.0.0.2/32\nPrivateKey = " + Priv + "\nListenPort = 51820\n\n# the server\n[Peer]\nPublicKey = " + PeerPub + "\nPresharedKey = " + Psk + "\nAllowedIPs = 0.0.0.0/0\n";
            var expected = text.Replace(Priv, "(redacted)").Replace(Psk, "(redacted)");
            Assert.Equal(expected, Redact(text));
        }

        [Theory]
        [InlineData("privatekey=" + Priv, "privatekey=(redacted)")]
        [InlineData("PRIVATEKEY   =   " + Priv, "PRIVATEKEY   =   (redacted)")]
        [InlineData("\tPrivateKey\t=\t" + Priv + "  ", "\tPrivateKey\t=\t(redacted)  ")]
        [InlineData("Private Key = " + Priv, "Private Key = (redacted)")]
        [InlineData("presharedKEY = " + Psk + " # shared with laptop", "presharedKEY = (redacted) # shared with laptop")]
        [InlineData("PrivateKey = " + Priv + "#no space", "PrivateKey = (redacted) #no space")]
        [InlineData("PrivateKey =", "PrivateKey =(redacted)")]
        public void MatchesTheKeyNameInAnyCaseAndSpacing(string line, string expected)
        {
            Assert.Equal("[Interface]\n" + expected + "\n", Redact("[Interface]\n" + line + "\n"));
        }

        [Fact]
        public void KeepsCrlfLineEndingsCommentsAndAMissingFinalNewline()
        {
            var text = "[Interface]\r\n# PrivateKey is below\r\nPrivateKey = " + Priv + "\r\n[Peer]\r\nPublicKey = " + PeerPub + "\r\nPresharedKey = " + Psk;
            var result = Redact(text);
            Assert.Equal("[Interface]\r\n# PrivateKey is below\r\nPrivateKey = (redacted)\r\n[Peer]\r\nPublicKey = " + PeerPub + "\r\nPresharedKey = (redacted)", result);
        }

        [Fact]
        public void KeepsPublicKeysAndLinesThatOnlyLookSimilar()
        {
            var text = "[Interface]\nPostUp = echo PrivateKey\nPublicKey = " + Pub + "\n[Peer]\nPublicKey = " + PeerPub + "\n";
            Assert.Equal(text, Redact(text));
        }

        [Fact]
        public void SecretsOfAConfigIncludeParsedAndRawValues()
        {
            var doc = WgConfigDocument.Parse(Encoding.UTF8.GetBytes("[Interface]\nPrivateKey = " + Priv + "\n[Peer]\nPublicKey = " + PeerPub + "\nPresharedKey = " + Psk + "\nAllowedIPs = 10.0.0.0/24\n"));
            var secrets = Redaction.SecretsOf(doc).Distinct().ToList();
            Assert.Contains(Priv, secrets);
            Assert.Contains(Psk, secrets);
            Assert.DoesNotContain(PeerPub, secrets);
            // a file that does not parse still gives its raw values
            var broken = WgConfigDocument.Parse(Encoding.UTF8.GetBytes("[Interface]\nPrivateKey = " + Priv + "\nBogus = 1\n"));
            Assert.Contains(Priv, Redaction.SecretsOf(broken));
        }

        [Fact]
        public void ScrubReplacesBase64AndHexInAnyCaseAndCounts()
        {
            var hex = BitConverter.ToString(Convert.FromBase64String(Priv)).Replace("-", "").ToLowerInvariant();
            var text = "{\"a\": \"" + Priv + "\", \"b\": \"private_key=" + hex.ToUpperInvariant() + "\", \"c\": \"" + Priv + Priv + "\", \"d\": \"" + Pub + "\"}";
            var scrubbed = Redaction.Scrub(text, new[] { Priv, Priv }, out var count);
            Assert.Equal(4, count);
            Assert.DoesNotContain(Priv, scrubbed);
            Assert.DoesNotContain(hex, scrubbed, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(Pub, scrubbed);
            Assert.Equal("{\"a\": \"(redacted)\", \"b\": \"private_key=(redacted)\", \"c\": \"(redacted)(redacted)\", \"d\": \"" + Pub + "\"}", scrubbed);
        }

        [Fact]
        public void ScrubIgnoresShortValuesThatWouldMatchOrdinaryText()
        {
            var scrubbed = Redaction.Scrub("abc 123", new[] { "abc", "", null }, out var count);
            Assert.Equal(0, count);
            Assert.Equal("abc 123", scrubbed);
        }
    }
}
