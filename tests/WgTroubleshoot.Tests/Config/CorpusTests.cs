using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using WgTroubleshoot.Config;
using Xunit;

namespace WgTroubleshoot.Tests.Config
{
    public class CorpusTests
    {
        public static IEnumerable<object[]> AllFiles => Corpus.Names.Select(n => new object[] { n });

        public static IEnumerable<object[]> ValidFiles => Corpus.Names.Where(n => !Corpus.Invalid.ContainsKey(n)).Select(n => new object[] { n });

        [Fact]
        public void CorpusIsLargeAndVaried()
        {
            var names = Corpus.Names.ToArray();
            Assert.True(names.Length >= 15, $"only {names.Length} corpus files");
            var all = names.Select(Corpus.Bytes).ToArray();
            Assert.Contains(all, b => b.Length > 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF);
            Assert.Contains(all, b => Corpus.Latin1(b).Contains("\r\n"));
            Assert.Contains(all, b => b[b.Length - 1] != (byte)'\n');
            Assert.Contains(all, b => Corpus.Latin1(b).Contains('\t'));
        }

        [Theory]
        [MemberData(nameof(AllFiles))]
        public void RoundTripIsByteIdentical(string name)
        {
            var bytes = Corpus.Bytes(name);
            var doc = WgConfigDocument.Parse(bytes, Corpus.PathOf(name));
            Assert.Equal(bytes, doc.ToBytes());
        }

        [Theory]
        [MemberData(nameof(AllFiles))]
        public void ParsesOrFailsAtTheExpectedLine(string name)
        {
            var path = Corpus.PathOf(name);
            if (Corpus.Invalid.TryGetValue(name, out var line))
            {
                var ex = Assert.Throws<WgConfigParseException>(() => WgConfigParser.ParseFile(path));
                Assert.Equal(line, ex.Line);
                Assert.Equal(path, ex.File);
                Assert.Equal(ErrorIds.ConfigParseError, ex.ErrorId);
                Assert.Contains(name, ex.Message);
                Assert.Contains("line " + line, ex.Message);
            }
            else
            {
                var config = WgConfigParser.ParseFile(path);
                Assert.Equal(Path.GetFileNameWithoutExtension(name), config.Interface);
                Assert.All(config.Peers, p => Assert.True(Keys.WgKey.IsValid(p.PublicKey)));
            }
        }

        [Theory]
        [InlineData("basic.conf", 0, "PersistentKeepalive", "15")]
        [InlineData("crlf.conf", -1, "Address", "10.7.0.6/24")]
        [InlineData("mixed-eol.conf", -1, "ListenPort", "51001")]
        [InlineData("nofinal-nl.conf", 0, "Endpoint", "192.0.2.45:51820")]
        [InlineData("tabs.conf", 0, "Endpoint", "192.0.2.18:51820")]
        [InlineData("comments.conf", -1, "ListenPort", "51900")]
        [InlineData("comments.conf", 0, "Endpoint", "198.51.100.23:51822")]
        [InlineData("unknown-key.conf", -1, "ListenPort", "51999")]
        [InlineData("bom.conf", 0, "Endpoint", "198.51.100.8:443")]
        [InlineData("server-many.conf", 5, "AllowedIPs", "10.66.0.99/32")]
        [InlineData("case-mix.conf", -1, "MTU", "1420")]
        [InlineData("v6-endpoint.conf", 0, "Endpoint", "[2001:db8::3]:51820")]
        public void OneKeyEditChangesOnlyThatLine(string name, int peer, string key, string value)
        {
            var before = Corpus.Bytes(name);
            var doc = WgConfigDocument.Parse(before, name);
            var section = peer < 0 ? WgConfigSectionRef.Interface : WgConfigSectionRef.Peer(Corpus.PeerKey(doc, peer));
            Assert.True(doc.SetValue(section, key, value));
            var after = doc.ToBytes();

            var a = Corpus.RawLines(before);
            var b = Corpus.RawLines(after);
            Assert.Equal(a.Length, b.Length);
            var changed = Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]).ToArray();
            Assert.Single(changed);
            Assert.Contains(value, b[changed[0]]);
            Assert.Equal(before.Take(3), after.Take(3)); // a BOM stays
            // Only the value changed: the line minus the old and new values is the same.
            Assert.StartsWith(a[changed[0]].Substring(0, a[changed[0]].IndexOf('=')), b[changed[0]]);

            if (!Corpus.Invalid.ContainsKey(name))
            {
                var config = WgConfigParser.Parse(after, name);
                Assert.NotNull(config);
            }
        }

        /// <summary>
        /// Differential test against the real wg-quick: its own parse_options() function (taken from the
        /// installed script) reads every valid corpus file, and its Address, DNS, MTU, Table, hooks and
        /// SaveConfig must equal ours. Does nothing where wg-quick or bash is not installed.
        /// </summary>
        [Theory]
        [MemberData(nameof(ValidFiles))]
        public void MatchesTheInstalledWgQuick(string name)
        {
            const string wgQuick = "/usr/bin/wg-quick";
            if (!File.Exists(wgQuick) || !File.Exists("/bin/bash")) return;
            var script = string.Join("\n",
                "set -e; shopt -s extglob; export LC_ALL=C",
                "die(){ echo \"DIE: $*\"; exit 3; }",
                "eval \"$(sed -n '/^parse_options() {/,/^}/p;/^read_bool() {/,/^}/p' " + wgQuick + ")\"",
                "WG_CONFIG=''; ADDRESSES=(); DNS=(); DNS_SEARCH=(); PRE_UP=(); POST_UP=(); PRE_DOWN=(); POST_DOWN=(); MTU=''; TABLE=''; SAVE_CONFIG=0",
                "parse_options \"$1\" 2>/dev/null",
                "p(){ local n=$1; shift; printf '%s' \"$n\"; for v in \"$@\"; do printf '\\x1f%s' \"$v\"; done; printf '\\n'; }",
                "p ADDRESS \"${ADDRESSES[@]}\"; p DNS \"${DNS[@]}\" \"${DNS_SEARCH[@]}\"; p MTU $MTU; p TABLE $TABLE; p SAVE $SAVE_CONFIG",
                "p PREUP \"${PRE_UP[@]}\"; p POSTUP \"${POST_UP[@]}\"; p PREDOWN \"${PRE_DOWN[@]}\"; p POSTDOWN \"${POST_DOWN[@]}\"");
            var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add("bash");
            psi.ArgumentList.Add(Corpus.PathOf(name));
            using var proc = Process.Start(psi);
            var output = proc.StandardOutput.ReadToEnd();
            Assert.True(proc.WaitForExit(20000));
            Assert.Equal(0, proc.ExitCode);
            var fields = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('\x1f')).ToDictionary(f => f[0], f => f.Skip(1).ToArray());

            var c = WgConfigParser.ParseFile(Corpus.PathOf(name));
            Assert.Equal(fields["ADDRESS"].Select(WgConfigParser.ParseCidr), c.Address);
            Assert.Equal(fields["DNS"].OrderBy(x => x, StringComparer.Ordinal), c.Dns.OrderBy(x => x, StringComparer.Ordinal));
            Assert.Equal(fields["MTU"].FirstOrDefault(), c.Mtu?.ToString());
            Assert.Equal(fields["TABLE"].FirstOrDefault(), c.Table);
            Assert.Equal(fields["SAVE"][0] == "1", c.SaveConfig);
            Assert.Equal(fields["PREUP"], c.PreUp);
            Assert.Equal(fields["POSTUP"], c.PostUp);
            Assert.Equal(fields["PREDOWN"], c.PreDown);
            Assert.Equal(fields["POSTDOWN"], c.PostDown);
        }
    }
}
