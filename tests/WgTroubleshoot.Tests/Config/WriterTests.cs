using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using WgTroubleshoot.Config;
using Xunit;

namespace WgTroubleshoot.Tests.Config
{
    public class WriterTests : IDisposable
    {
        private readonly string _dir = Corpus.TempDirectory();

        public void Dispose() => Directory.Delete(_dir, true);

        private string CopyOf(string name)
        {
            var path = Path.Combine(_dir, name);
            File.Copy(Corpus.PathOf(name), path);
            return path;
        }

        private static string KeyOfPeer(string path, int index) => Corpus.PeerKey(WgConfigFile.ReadDocument(path), index);

        [Fact]
        public void WriteIsMode0600KeepsABackupAndLeavesNoTempFile()
        {
            var path = CopyOf("pppoe.conf");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            var old = File.ReadAllBytes(path);

            Assert.True(WgConfigFile.Edit(path, d => d.SetValue(WgConfigSectionRef.Interface, "MTU", "1400")));

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(old, File.ReadAllBytes(path + ".bak"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path + ".bak"));
            Assert.Equal(1400, WgConfigParser.ParseFile(path).Mtu);
            Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
            Assert.Equal(new[] { "pppoe.conf", "pppoe.conf.bak", "pppoe.conf.lock" }, Directory.GetFiles(_dir).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal));
        }

        [Fact]
        public void SecondIdenticalEditChangesNothing()
        {
            var path = CopyOf("basic.conf");
            Assert.True(WgConfigFile.Edit(path, d => d.SetValue(WgConfigSectionRef.Interface, "ListenPort", "51820")));
            var stamp = File.GetLastWriteTimeUtc(path);
            Assert.False(WgConfigFile.Edit(path, d => d.SetValue(WgConfigSectionRef.Interface, "ListenPort", "51820")));
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
        }

        [Fact]
        public void AnEditThatBreaksAValidFileIsNotWritten()
        {
            var path = CopyOf("basic.conf");
            var old = File.ReadAllBytes(path);
            var ex = Assert.Throws<WgConfigParseException>(() => WgConfigFile.Edit(path, d => d.SetValue(WgConfigSectionRef.Interface, "ListenPort", "http")));
            Assert.Equal(ErrorIds.ConfigParseError, ex.ErrorId);
            Assert.Equal(old, File.ReadAllBytes(path));
        }

        [Fact]
        public void AFailedWriteLeavesTheOriginalAndNoTempFile()
        {
            var path = CopyOf("crlf.conf");
            var old = File.ReadAllBytes(path);
            // A non-empty directory where the backup must go makes the replace step fail.
            Directory.CreateDirectory(Path.Combine(path + ".bak", "x"));
            var ex = Assert.Throws<WgException>(() => WgConfigFile.Edit(path, d => d.SetValue(WgConfigSectionRef.Interface, "Address", "10.7.0.9/24")));
            // A directory where the backup goes is not a file the writer replaces: refused as unsafe (WgUnsafePath).
            Assert.Contains(ex.ErrorId, new[] { ErrorIds.ConfigWriteFailed, ErrorIds.UnsafePath });
            Assert.Equal(old, File.ReadAllBytes(path));
            Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        }

        [Fact]
        public void MissingFileIsConfigNotFound()
        {
            var ex = Assert.Throws<WgException>(() => WgConfigFile.Edit(Path.Combine(_dir, "nope.conf"), d => { }));
            Assert.Equal(ErrorIds.ConfigNotFound, ex.ErrorId);
        }

        [Fact]
        public void ABusyLockTimesOut()
        {
            var path = CopyOf("basic.conf");
            using (new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            {
                var ex = Assert.Throws<WgException>(() => WgConfigFile.Edit(path, d => d.SetValue(WgConfigSectionRef.Interface, "ListenPort", "1"), TimeSpan.FromMilliseconds(200)));
                Assert.Equal(ErrorIds.FileBusy, ex.ErrorId);
            }
        }

        [Fact]
        public void ConcurrentEditsAreNeverLost()
        {
            const int threads = 8, edits = 12;
            var path = CopyOf("server-many.conf");
            var keys = Enumerable.Range(0, threads).Select(t => KeyOfPeer(path, t)).ToArray();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                for (int j = 0; j < edits; j++)
                {
                    WgConfigFile.Edit(path, d => d.AddValue(WgConfigSectionRef.Peer(keys[t]), "AllowedIPs", $"10.200.{t}.{j}/32"), TimeSpan.FromSeconds(60));
                    WgConfigFile.Edit(path, d => d.SetValue(WgConfigSectionRef.Peer(keys[t]), "PersistentKeepalive", (j + 1).ToString()), TimeSpan.FromSeconds(60));
                }
            });
            var config = WgConfigParser.ParseFile(path);
            for (int t = 0; t < threads; t++)
            {
                var peer = config.Peers.Single(p => p.PublicKey == keys[t]);
                for (int j = 0; j < edits; j++) Assert.Contains($"10.200.{t}.{j}/32", peer.AllowedIPs);
                Assert.Equal(edits, peer.PersistentKeepalive);
            }
            Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        }

        [Fact]
        public void AddedKeyGoesAfterTheLastKeyLineBeforeTheNextSectionsComments()
        {
            var doc = WgConfigDocument.Parse(Corpus.Bytes("server-many.conf"));
            var alice = Corpus.PeerKey(doc, 0);
            doc.AddValue(WgConfigSectionRef.Peer(alice), "PersistentKeepalive", "25");
            var lines = Corpus.RawLines(doc.ToBytes());
            int header = Array.FindIndex(lines, l => l.StartsWith("# alice"));
            // header comment, [Peer], PublicKey, AllowedIPs, PresharedKey, new line, blank, "### bob"
            Assert.Equal("PersistentKeepalive = 25\n", lines[header + 5]);
            Assert.Equal("\n", lines[header + 6]);
            Assert.StartsWith("### bob", lines[header + 7]);
        }

        [Fact]
        public void AddedKeyUsesTheFilesLineEndingAndKeepsAMissingFinalNewline()
        {
            var crlf = WgConfigDocument.Parse(Corpus.Bytes("crlf.conf"));
            crlf.AddValue(WgConfigSectionRef.Interface, "MTU", "1420");
            Assert.Contains("MTU = 1420\r\n", Corpus.Latin1(crlf.ToBytes()));

            var bytes = Corpus.Bytes("nofinal-nl.conf");
            var doc = WgConfigDocument.Parse(bytes);
            doc.AddValue(WgConfigSectionRef.Peer(Corpus.PeerKey(doc, 0)), "PersistentKeepalive", "25");
            var text = Corpus.Latin1(doc.ToBytes());
            Assert.EndsWith("Endpoint = 192.0.2.44:51820\nPersistentKeepalive = 25", text);
            Assert.Equal(Corpus.Latin1(bytes) + "\nPersistentKeepalive = 25", text);
        }

        [Fact]
        public void RemoveKeyRemovesOnlyThoseLines()
        {
            var bytes = Corpus.Bytes("multi-allowed.conf");
            var doc = WgConfigDocument.Parse(bytes);
            var key = Corpus.PeerKey(doc, 0);
            Assert.Equal(3, doc.RemoveKey(WgConfigSectionRef.Peer(key), "allowedips"));
            Assert.Equal(Corpus.RawLines(bytes).Where(l => !l.StartsWith("AllowedIPs")), Corpus.RawLines(doc.ToBytes()));
            Assert.Equal(0, doc.RemoveKey(WgConfigSectionRef.Peer(key), "AllowedIPs"));
        }

        [Fact]
        public void SetOnAMultiLineKeyKeepsTheFirstLineAndDropsTheRest()
        {
            var doc = WgConfigDocument.Parse(Corpus.Bytes("multi-allowed.conf"));
            var key = Corpus.PeerKey(doc, 0);
            doc.SetValue(WgConfigSectionRef.Peer(key), "AllowedIPs", "10.12.0.0/16");
            var c = WgConfigParser.Parse(doc.ToBytes(), "multi-allowed.conf");
            Assert.Equal(new[] { "10.12.0.0/16" }, c.Peers[0].AllowedIPs);
            Assert.Contains("AllowedIPs = 10.12.0.0/16   \n", Corpus.Latin1(doc.ToBytes())); // trailing spaces kept
        }

        [Fact]
        public void EditorRejectsValuesThatWgWouldCut()
        {
            var doc = WgConfigDocument.Parse(Encoding.ASCII.GetBytes("[Interface]\n"));
            Assert.Throws<ArgumentException>(() => doc.SetValue(WgConfigSectionRef.Interface, "PostUp", "echo a # b"));
            Assert.Throws<ArgumentException>(() => doc.SetValue(WgConfigSectionRef.Interface, "PostUp", "a\nb"));
            Assert.Throws<ArgumentException>(() => doc.SetValue(WgConfigSectionRef.Interface, "Post Up", "a"));
            var missing = Assert.Throws<WgException>(() => doc.SetValue(WgConfigSectionRef.Peer("SYLd9X3Ts/mqQkpSJxjafnFEtCyPEz/fVDk1xnUdvi4="), "Endpoint", "h:1"));
            Assert.Equal(ErrorIds.PeerNotFound, missing.ErrorId);
        }

        [Fact]
        public void SettingAnInterfaceKeyInAFileWithoutInterfaceAddsTheSection()
        {
            var doc = WgConfigDocument.Parse(Array.Empty<byte>());
            doc.SetValue(WgConfigSectionRef.Interface, "ListenPort", "51820");
            Assert.Equal("[Interface]\nListenPort = 51820", Corpus.Latin1(doc.ToBytes()));
        }
    }
}
