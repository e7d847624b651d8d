using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using WgTroubleshoot.Config;
using Xunit;

namespace WgTroubleshoot.Tests.Config
{
    public class FuzzTests
    {
        private static readonly string[] Tokens =
        {
            "[", "]", "=", "#", ",", ":", "/", "\t", " ", "\r", "\n", "\r\n", "\0", "[Peer]", "[Interface]", "[peer]\n",
            "AllowedIPs = ", "Endpoint = [", "Endpoint = ", "PublicKey = ", "PrivateKey=", "ListenPort = ", "FwMark = 0x",
            "PersistentKeepalive = ", "MTU = ", "SaveConfig = ", "Address = ", "PostUp = ", "99999999999999999999999",
            "-1", "0x", "off", "::", "[::1]:", "é", "💻", "\uFFFD", "\u00A0", "/129", "/+3", "%", "\\", "\"", "=\n",
        };

        private static readonly Regex Base64Key = new Regex("[A-Za-z0-9+/]{43}=");

        [Fact]
        public void MutatedInputsParseOrFailWithTheDocumentedError()
        {
            var rng = new Random(20260411);
            var corpus = Corpus.Names.Select(Corpus.Bytes).ToArray();
            int parsed = 0, rejected = 0;
            for (int iteration = 0; iteration < 6000; iteration++)
            {
                var input = Mutate(corpus[rng.Next(corpus.Length)], rng);

                var doc = WgConfigDocument.Parse(input, "fuzz.conf");
                Assert.Equal(input, doc.ToBytes()); // the document is lossless for any bytes

                try
                {
                    WgConfigParser.Parse(doc);
                    parsed++;
                }
                catch (WgConfigParseException ex)
                {
                    rejected++;
                    Assert.Equal(ErrorIds.ConfigParseError, ex.ErrorId);
                    Assert.Equal(System.Management.Automation.ErrorCategory.InvalidData, ex.Category);
                    Assert.Equal("fuzz.conf", ex.File);
                    Assert.InRange(ex.Line, 1, Math.Max(1, doc.Lines.Count));
                    Assert.StartsWith($"fuzz.conf, line {ex.Line}: ", ex.Message);
                    Assert.DoesNotContain("could not be read", ex.Message); // the parser's safety net must never fire
                    foreach (Match key in Base64Key.Matches(Corpus.Latin1(input)))
                        Assert.DoesNotContain(key.Value, ex.Message);
                }
                // Any other exception type fails the test here.
            }
            Assert.True(parsed > 300, $"only {parsed} mutated inputs parsed");
            Assert.True(rejected > 300, $"only {rejected} mutated inputs were rejected");
        }

        private static byte[] Mutate(byte[] original, Random rng)
        {
            var bytes = new List<byte>(original);
            int count = rng.Next(1, 5);
            for (int m = 0; m < count; m++)
            {
                switch (rng.Next(7))
                {
                    case 0: // flip a byte
                        if (bytes.Count > 0) { int i = rng.Next(bytes.Count); bytes[i] = (byte)(bytes[i] ^ (1 << rng.Next(8))); }
                        break;
                    case 1: // delete a line
                    case 2: // duplicate a line
                    {
                        var lines = SplitKeep(bytes);
                        if (lines.Count == 0) break;
                        int i = rng.Next(lines.Count);
                        if (rng.Next(2) == 0) lines.RemoveAt(i); else lines.Insert(i, lines[i]);
                        bytes = lines.SelectMany(l => l).ToList();
                        break;
                    }
                    case 3: // insert a token
                    case 4:
                    {
                        var token = Encoding.UTF8.GetBytes(Tokens[rng.Next(Tokens.Length)]);
                        bytes.InsertRange(rng.Next(bytes.Count + 1), token);
                        break;
                    }
                    case 5: // random bytes
                    {
                        int at = rng.Next(bytes.Count + 1);
                        var junk = new byte[rng.Next(1, 6)];
                        rng.NextBytes(junk);
                        bytes.InsertRange(at, junk);
                        break;
                    }
                    case 6: // truncate the tail
                        if (bytes.Count > 0) { int at = rng.Next(bytes.Count); bytes.RemoveRange(at, bytes.Count - at); }
                        break;
                }
            }
            return bytes.ToArray();
        }

        private static List<List<byte>> SplitKeep(List<byte> bytes)
        {
            var lines = new List<List<byte>>();
            var current = new List<byte>();
            foreach (var b in bytes)
            {
                current.Add(b);
                if (b == (byte)'\n') { lines.Add(current); current = new List<byte>(); }
            }
            if (current.Count > 0) lines.Add(current);
            return lines;
        }
    }
}
