using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using WgTroubleshoot.Config;

namespace WgTroubleshoot.Tests.Config
{
    /// <summary>The configuration corpus copied next to the test assembly, and helpers shared by the config tests.</summary>
    internal static class Corpus
    {
        internal static string Directory => Path.Combine(AppContext.BaseDirectory, "Corpus");

        internal static string PathOf(string name) => Path.Combine(Directory, name);

        internal static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

        internal static IEnumerable<string> Names
            => System.IO.Directory.GetFiles(Directory, "*.conf").Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal);

        /// <summary>Files that wg/wg-quick reject, with the 1-based line of the problem.</summary>
        internal static readonly IReadOnlyDictionary<string, int> Invalid = new Dictionary<string, int>
        {
            ["bom.conf"] = 1,          // a UTF-8 BOM: wg says "Line unrecognized"
            ["unknown-key.conf"] = 10, // ClientName in [Peer]
            ["peer-nokey.conf"] = 5,   // [Peer] without PublicKey
        };

        /// <summary>Lines split at '\n' with the endings kept, one char per byte.</summary>
        internal static string[] RawLines(byte[] bytes)
        {
            var text = Latin1(bytes);
            var lines = new List<string>();
            int start = 0;
            while (start < text.Length)
            {
                int nl = text.IndexOf('\n', start);
                if (nl < 0) { lines.Add(text.Substring(start)); break; }
                lines.Add(text.Substring(start, nl - start + 1));
                start = nl + 1;
            }
            return lines.ToArray();
        }

        internal static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

        /// <summary>The PublicKey of the Nth [Peer] as the document has it (works for files that do not parse).</summary>
        internal static string PeerKey(WgConfigDocument doc, int index)
        {
            int seen = -1;
            string key = null;
            foreach (var line in doc.Lines)
            {
                if (line.IsSection("Peer")) { if (seen == index) return key; seen++; key = null; continue; }
                if (seen == index && line.HasKey("PublicKey")) key = line.Value;
            }
            return key;
        }

        internal static string TempDirectory()
        {
            var dir = Path.Combine(Path.GetTempPath(), "wgt-" + Guid.NewGuid().ToString("N").Substring(0, 10));
            System.IO.Directory.CreateDirectory(dir);
            return dir;
        }
    }
}
